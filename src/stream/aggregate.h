/* The stream aggregator's entry point for records already parsed: the follower reads
 * GetRecords responses with jansson and hands their records over as they are, and
 * dr_client_apply_stream_batch() parses a caller's text and does the same. */
#ifndef DR_AGGREGATE_H
#define DR_AGGREGATE_H

#include <jansson.h>

#include "client.h"

/* Apply `records`, a JSON array of DynamoDB Streams records, exactly as
 * dr_client_apply_stream_batch() applies the array of its text. */
dr_status dr__apply_stream_records(dr_client *c, const json_t *records, dr_batch_result **out);

#endif
