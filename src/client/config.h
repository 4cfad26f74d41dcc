/* The configuration object behind dr_config: options as the user set them, unresolved.
 * dr_client_new() resolves what is unset from the environment. */
#ifndef DR_CONFIG_H
#define DR_CONFIG_H

#include "dadratings.h"
#include "log.h"
#include "sigv4.h"

#define DR_DEFAULT_CONNECT_TIMEOUT_MS 3100u
#define DR_DEFAULT_REQUEST_TIMEOUT_MS 10000u
#define DR_MAX_ATTEMPTS_LIMIT 10u
#define DR_MAX_GLOBAL_SHARDS 64u
#define DR_DEFAULT_RATINGS_TABLE "dad-jokes-ratings-prod"
#define DR_DEFAULT_STATS_TABLE "dad-jokes-stats-prod"

struct dr_config {
    char *region;
    char *endpoint;
    char *access_key_id;
    char *secret_access_key; /* wiped when freed */
    char *session_token;     /* wiped when freed */
    char *profile;
    char *ratings_table;
    char *stats_table;
    uint32_t connect_timeout_ms; /* 0 = default */
    uint32_t request_timeout_ms; /* 0 = default */
    uint32_t max_attempts;       /* 0 = default */
    uint32_t global_shards;      /* 0 = 1 */
    uint32_t dashboard_max_age_ms; /* 0 = no dashboard cache */
    dr_aggregation_mode mode;
    dr_logger log;
};

/* dr__region_is_valid (the signer's own rule, in sigv4.h) is held to by every source of
 * a region: configuration, environment, profile. */

/* DynamoDB table names: 3..255 of [A-Za-z0-9_.-]. */
dr_status dr__validate_table_name(const char *what, const char *name);

#endif
