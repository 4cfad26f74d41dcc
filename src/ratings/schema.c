/* The schema marker's key and how to read it (no I/O; writing it is in ops_tables.c, whose
 * requests tests/terraform/tf_tables_dump captures). */
#include "schema.h"

#include <string.h>

#include "ddb_json.h"
#include "keys.h"

json_t *dr__schema_key(void)
{
    return dr__item_key(DR_PK_SCHEMA, DR_SK_SCHEMA);
}

int dr__schema_is_marker(const json_t *item)
{
    const char *pk = dr__av_get_s(item, DR_ATTR_PK), *sk = dr__av_get_s(item, DR_ATTR_SK);
    return pk && sk && !strcmp(pk, DR_PK_SCHEMA) && !strcmp(sk, DR_SK_SCHEMA);
}

int dr__schema_marker_complete(const json_t *item)
{
    uint64_t version = 0;
    return dr__schema_is_marker(item) &&
           dr__av_get_u64(item, DR_ATTR_SCHEMA_VERSION, &version) == 0 &&
           version >= DR_SCHEMA_VERSION;
}
