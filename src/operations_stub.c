/* PROVISIONAL: operations and result objects arrive with issue 5. */
#include "dadratings.h"
#include "error.h"

DR_API void dr_stats_free(dr_stats *stats)
{
    
}

DR_API const char * dr_stats_joke_id(const dr_stats *stats)
{
    return NULL;
}

DR_API uint64_t dr_stats_total_ratings(const dr_stats *stats)
{
    return 0;
}

DR_API uint64_t dr_stats_count(const dr_stats *stats, int32_t star)
{
    return 0;
}

DR_API uint64_t dr_stats_total_score(const dr_stats *stats)
{
    return 0;
}

DR_API double dr_stats_average(const dr_stats *stats)
{
    return 0;
}

DR_API const char * dr_stats_last_rated_at(const dr_stats *stats)
{
    return NULL;
}

DR_API int32_t dr_stats_pending(const dr_stats *stats)
{
    return 0;
}

DR_API dr_status dr_stats_to_json(const dr_stats *stats, char **out)
{
    return dr__fail(DR_E_NOT_IMPLEMENTED, "dr_stats_to_json: not implemented yet");
}

DR_API dr_status dr_rating_new(dr_rating **out, const char *joke_id, int32_t stars)
{
    return dr__fail(DR_E_NOT_IMPLEMENTED, "dr_rating_new: not implemented yet");
}

DR_API void dr_rating_free(dr_rating *rating)
{
    
}

DR_API dr_status dr_rating_set_joke_text(dr_rating *rating, const char *text)
{
    return dr__fail(DR_E_NOT_IMPLEMENTED, "dr_rating_set_joke_text: not implemented yet");
}

DR_API dr_status dr_rating_set_author(dr_rating *rating, const char *author)
{
    return dr__fail(DR_E_NOT_IMPLEMENTED, "dr_rating_set_author: not implemented yet");
}

DR_API dr_status dr_rating_set_mode(dr_rating *rating, const char *mode)
{
    return dr__fail(DR_E_NOT_IMPLEMENTED, "dr_rating_set_mode: not implemented yet");
}

DR_API dr_status dr_rating_set_date(dr_rating *rating, const char *date)
{
    return dr__fail(DR_E_NOT_IMPLEMENTED, "dr_rating_set_date: not implemented yet");
}

DR_API dr_status dr_rating_set_idempotency_key(dr_rating *rating, const char *key)
{
    return dr__fail(DR_E_NOT_IMPLEMENTED, "dr_rating_set_idempotency_key: not implemented yet");
}

DR_API dr_status dr_client_write_rating(dr_client *client, const dr_rating *rating, dr_stats **out)
{
    return dr__fail(DR_E_NOT_IMPLEMENTED, "dr_client_write_rating: not implemented yet");
}

DR_API dr_status dr_client_read_stats(dr_client *client, const char *joke_id, dr_stats **out)
{
    return dr__fail(DR_E_NOT_IMPLEMENTED, "dr_client_read_stats: not implemented yet");
}

DR_API dr_status dr_client_dashboard_stats(dr_client *client, dr_dashboard **out)
{
    return dr__fail(DR_E_NOT_IMPLEMENTED, "dr_client_dashboard_stats: not implemented yet");
}

DR_API void dr_dashboard_free(dr_dashboard *dashboard)
{
    
}

DR_API dr_status dr_dashboard_to_json(const dr_dashboard *dashboard, char **out)
{
    return dr__fail(DR_E_NOT_IMPLEMENTED, "dr_dashboard_to_json: not implemented yet");
}

DR_API uint64_t dr_dashboard_overall_ratings(const dr_dashboard *d)
{
    return 0;
}

DR_API double dr_dashboard_overall_average(const dr_dashboard *d)
{
    return 0;
}

DR_API uint64_t dr_dashboard_unique_jokes(const dr_dashboard *d)
{
    return 0;
}

DR_API uint64_t dr_dashboard_rating_count(const dr_dashboard *d, int32_t star)
{
    return 0;
}

DR_API size_t dr_dashboard_author_count(const dr_dashboard *d)
{
    return 0;
}

DR_API const char * dr_dashboard_author_name(const dr_dashboard *d, size_t i)
{
    return NULL;
}

DR_API uint64_t dr_dashboard_author_total_ratings(const dr_dashboard *d, size_t i)
{
    return 0;
}

DR_API double dr_dashboard_author_average(const dr_dashboard *d, size_t i)
{
    return 0;
}

DR_API uint64_t dr_dashboard_author_rating_count(const dr_dashboard *d, size_t i, int32_t star)
{
    return 0;
}

DR_API size_t dr_dashboard_top_count(const dr_dashboard *d)
{
    return 0;
}

DR_API const char * dr_dashboard_top_joke_id(const dr_dashboard *d, size_t i)
{
    return NULL;
}

DR_API const char * dr_dashboard_top_joke_text(const dr_dashboard *d, size_t i)
{
    return NULL;
}

DR_API const char * dr_dashboard_top_author(const dr_dashboard *d, size_t i)
{
    return NULL;
}

DR_API uint64_t dr_dashboard_top_total_ratings(const dr_dashboard *d, size_t i)
{
    return 0;
}

DR_API double dr_dashboard_top_average(const dr_dashboard *d, size_t i)
{
    return 0;
}

DR_API const char * dr_dashboard_top_last_rated_at(const dr_dashboard *d, size_t i)
{
    return NULL;
}

DR_API size_t dr_dashboard_recent_count(const dr_dashboard *d)
{
    return 0;
}

DR_API const char * dr_dashboard_recent_joke_id(const dr_dashboard *d, size_t i)
{
    return NULL;
}

DR_API int32_t dr_dashboard_recent_rating(const dr_dashboard *d, size_t i)
{
    return 0;
}

DR_API const char * dr_dashboard_recent_joke_text(const dr_dashboard *d, size_t i)
{
    return NULL;
}

DR_API const char * dr_dashboard_recent_author(const dr_dashboard *d, size_t i)
{
    return NULL;
}

DR_API const char * dr_dashboard_recent_mode(const dr_dashboard *d, size_t i)
{
    return NULL;
}

DR_API const char * dr_dashboard_recent_date(const dr_dashboard *d, size_t i)
{
    return NULL;
}

DR_API const char * dr_dashboard_recent_submitted_at(const dr_dashboard *d, size_t i)
{
    return NULL;
}

DR_API dr_status dr_client_create_tables(dr_client *client, uint32_t flags)
{
    return dr__fail(DR_E_NOT_IMPLEMENTED, "dr_client_create_tables: not implemented yet");
}
