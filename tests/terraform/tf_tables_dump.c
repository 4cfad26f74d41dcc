/* What dr_client_create_tables() sends, for tests/terraform/check.cjs to compare with
 * terraform/dynamodb.tf. Prints one JSON object on stdout:
 *
 *   {"ratings_table": "...", "stats_table": "...",
 *    "calls": [{"operation": "CreateTable", "request": {...}}, ...]}
 *
 * The table names are those a client resolves from the environment
 * (DYNAMODB_RATINGS_TABLE, DYNAMODB_STATS_TABLE) or the library's defaults, so the
 * check can run this with and without the variables terraform gives the Lambda.
 *
 * How: this file compiles src/ratings/ops_tables.c itself, with dr__ddb_call() renamed to a
 * function here that records each request and answers as DynamoDB would (DescribeTable:
 * ACTIVE). The real create_tables logic runs unchanged and nothing is exported or
 * duplicated: dr_client_create_tables and the file's other external functions are renamed
 * too, so they do not clash with the copies in dadratings_obj. Nothing is sent anywhere. */
#include <stdio.h>
#include <stdlib.h>

#define dr__ddb_call dr_tf_capture_call
#define dr_client_create_tables dr_tf_create_tables
#define dr__table_wait_active dr_tf_table_wait_active
#define dr__schema_mark_complete dr_tf_schema_mark_complete
#include "ops_tables.c"
#undef dr__ddb_call
#undef dr_client_create_tables
#undef dr__table_wait_active
#undef dr__schema_mark_complete

static json_t *captured; /* [{"operation", "request"}] in call order */

dr_status dr_tf_capture_call(dr_client *client, const char *operation, const json_t *request,
                             json_t **response, dr_ddb_error *err)
{
    (void)client;
    (void)err;
    if (json_array_append_new(captured,
                              json_pack("{s:s, s:o}", "operation", operation, "request",
                                        json_deep_copy(request))) != 0)
        return dr__fail(DR_E_NOMEM, "tf_tables_dump: out of memory");
    if (response) {
        *response = strcmp(operation, "DescribeTable") == 0
                        ? json_pack("{s:{s:s}}", "Table", "TableStatus", "ACTIVE")
                        : json_object();
        if (!*response)
            return dr__fail(DR_E_NOMEM, "tf_tables_dump: out of memory");
    }
    return DR_OK;
}

int main(void)
{
    dr_config *config = NULL;
    dr_client *client = NULL;
    json_t *out = NULL;
    char *text = NULL;
    int rc = 1;

    captured = json_array();
    /* Region and credentials are given so that nothing is looked up; the table names are
     * deliberately not: they must come from the environment or the defaults. */
    if (!captured || dr_config_new(&config) != DR_OK ||
        dr_config_set_region(config, "us-east-1") != DR_OK ||
        dr_config_set_credentials(config, "AKIDTFTABLESDUMP", "tf-tables-dump-dummy", NULL) !=
            DR_OK ||
        dr_client_new(&client, config) != DR_OK) {
        fprintf(stderr, "tf_tables_dump: client: %s\n", dr_last_error_message());
        goto done;
    }
    if (dr_tf_create_tables(client, DR_CREATE_TABLES_WAIT) != DR_OK) {
        fprintf(stderr, "tf_tables_dump: create_tables: %s\n", dr_last_error_message());
        goto done;
    }
    out = json_pack("{s:s, s:s, s:O}", "ratings_table", client->ratings_table, "stats_table",
                    client->stats_table, "calls", captured);
    text = out ? json_dumps(out, JSON_SORT_KEYS) : NULL;
    if (!text) {
        fprintf(stderr, "tf_tables_dump: out of memory\n");
        goto done;
    }
    puts(text);
    rc = fflush(stdout) == 0 ? 0 : 1;
done:
    free(text);
    json_decref(out);
    json_decref(captured);
    dr_client_free(client);
    dr_config_free(config);
    return rc;
}
