/* dr_rating: the input of write_rating, validated field by field as it is set. */
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "keys.h"
#include "ops.h"

DR_API dr_status dr_rating_new(dr_rating **out, const char *joke_id, int32_t stars)
{
    dr_rating *r;
    dr_status rc;

    if (!out)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_rating_new: out is NULL");
    *out = NULL;
    if ((rc = dr__validate_key_part("jokeId", joke_id, DR_MAX_JOKE_ID_BYTES)) != DR_OK)
        return rc;
    if (stars < 1 || stars > 5)
        return dr__fail(DR_E_INVALID_ARGUMENT, "rating: must be an integer 1..5, got %d",
                        (int)stars);
    r = dr__calloc(1, sizeof *r);
    if (!r || !(r->joke_id = dr__strdup(joke_id))) {
        dr__free(r);
        return dr__fail(DR_E_NOMEM, "out of memory creating a rating");
    }
    r->stars = stars;
    *out = r;
    return DR_OK;
}

DR_API void dr_rating_free(dr_rating *r)
{
    if (!r)
        return;
    dr__free(r->joke_id);
    dr__free(r->joke_text);
    dr__free(r->author);
    dr__free(r->mode);
    dr__free(r->date);
    dr__free(r->idempotency_key);
    dr__free(r->submitted_at);
    dr__free(r);
}

/* Validate (unless NULL, which unsets), copy, and replace. */
static dr_status set_field(dr_rating *r, char **slot, const char *value,
                           dr_status (*validate)(const char *))
{
    char *copy = NULL;
    dr_status rc;
    if (!r)
        return dr__fail(DR_E_INVALID_ARGUMENT, "rating is NULL");
    if (value) {
        if ((rc = validate(value)) != DR_OK)
            return rc;
        if (!(copy = dr__strdup(value)))
            return dr__fail(DR_E_NOMEM, "out of memory copying a rating field");
    }
    dr__free(*slot);
    *slot = copy;
    return DR_OK;
}

static dr_status validate_joke_text(const char *v)
{
    return dr__validate_text(DR_ATTR_JOKE_TEXT, v, DR_MAX_JOKE_TEXT_BYTES);
}

static dr_status validate_author(const char *v)
{
    return dr__validate_key_part(DR_ATTR_AUTHOR, v, DR_MAX_AUTHOR_BYTES);
}

DR_API dr_status dr_rating_set_joke_text(dr_rating *r, const char *text)
{
    return set_field(r, r ? &r->joke_text : NULL, text, validate_joke_text);
}

DR_API dr_status dr_rating_set_author(dr_rating *r, const char *author)
{
    return set_field(r, r ? &r->author : NULL, author, validate_author);
}

DR_API dr_status dr_rating_set_mode(dr_rating *r, const char *mode)
{
    return set_field(r, r ? &r->mode : NULL, mode, dr__validate_mode);
}

DR_API dr_status dr_rating_set_date(dr_rating *r, const char *date)
{
    return set_field(r, r ? &r->date : NULL, date, dr__validate_date);
}

DR_API dr_status dr_rating_set_idempotency_key(dr_rating *r, const char *key)
{
    return set_field(r, r ? &r->idempotency_key : NULL, key, dr__validate_idempotency_key);
}

DR_API dr_status dr_rating_set_submitted_at(dr_rating *r, const char *submitted_at)
{
    return set_field(r, r ? &r->submitted_at : NULL, submitted_at, dr__validate_submitted_at);
}
