/* dr_dead_letters_to_json(): the listing's result shape, documented in the header. Its
 * keys are that contract, not the dead-letter item's attributes they share a spelling
 * with, so they are spelled here (tests/arch/check_model_literals.py knows this file);
 * it reads the list only through the public accessors. */
#include <jansson.h>

#include "dadratings.h"
#include "ddb_json.h"
#include "error.h"

DR_API dr_status dr_dead_letters_to_json(const dr_dead_letters *list, char **out)
{
    json_t *arr;
    size_t i, n;
    if (!out)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_dead_letters_to_json: out is NULL");
    *out = NULL;
    if (!list)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_dead_letters_to_json: list is NULL");
    if (!(arr = json_array()))
        return dr__fail(DR_E_NOMEM, "out of memory");
    n = dr_dead_letters_count(list);
    for (i = 0; i < n; i++) {
        const char *text = dr_dead_letters_record_json(list, i);
        json_t *record = json_loads(text, 0, NULL);
        /* A record that is not JSON (a damaged item) is shown as its text. */
        json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:o}", "shardId",
                              dr_dead_letters_shard_id(list, i), "sequenceNumber",
                              dr_dead_letters_sequence_number(list, i), "attempts",
                              (json_int_t)dr_dead_letters_attempts(list, i), "parkedAt",
                              dr_dead_letters_parked_at(list, i), "reason",
                              dr_dead_letters_reason(list, i), "record",
                              record ? record : json_string(text));
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return dr__fail(DR_E_NOMEM, "out of memory");
        }
    }
    *out = dr__json_dump(arr);
    json_decref(arr);
    return *out ? DR_OK : dr__fail(DR_E_NOMEM, "out of memory");
}
