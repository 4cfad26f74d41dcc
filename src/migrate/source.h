/* Where the import reads the old tree from: an S3 bucket (s3://bucket/prefix) or a local
 * directory holding a copy of one (`aws s3 sync s3://bucket/prefix DIR`), behind one
 * interface: pages of keys in S3's order (byte order of the UTF-8 key), then each
 * object's bytes. Keys are the bucket's full keys in both, so an entry's identity
 * (identity.h) is the same whichever copy it is read from. A directory is walked as it
 * is listed, so memory holds the entries of the directories open on the way down, never
 * the tree's keys.
 *
 * The S3 source reads the client's region, credentials, profile and connection pool.
 * Its endpoint is AWS_ENDPOINT_URL_S3 (and the rest of configured_endpoint.h for service
 * id "s3"), else https://s3.<region>.<dnsSuffix>. Addressing (docs/migration.md), as the
 * SDKs document the profile's `s3 = addressing_style = auto|virtual|path` setting:
 * `virtual` puts the bucket in the host name, `path` in the path; `auto`, the default,
 * is virtual on AWS's endpoints for buckets that can be host names, and path-style for
 * others and for a configured endpoint (S3-compatible stores on loopback have no
 * per-bucket host names). */
#ifndef DR_SOURCE_H
#define DR_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "dadratings.h"
#include "s3.h"

typedef enum dr_addressing_style {
    DR_ADDRESSING_UNSET = 0, /* the profile's setting, else auto */
    DR_ADDRESSING_AUTO,
    DR_ADDRESSING_VIRTUAL,
    DR_ADDRESSING_PATH
} dr_addressing_style;

typedef struct dr_source_options {
    /* "s3://bucket[/prefix]" or a directory. */
    const char *location;
    /* A directory: the bucket and prefix it is a copy of, for the keys and identities
     * (NULL: the directory's own name, and no prefix). Ignored for s3:// */
    const char *bucket;
    const char *prefix;
    dr_addressing_style addressing;
    uint32_t page_size; /* keys per page, 1..1000; 0: 1000 */
} dr_source_options;

typedef struct dr_source dr_source;

/* Open a source. `client` (S3 only; borrowed, must outlive the source) gives region,
 * credentials and profile. DR_E_INVALID_ARGUMENT for a malformed location or bucket name,
 * DR_E_NOT_FOUND for a directory that does not exist, DR_E_CONFIG for a bad
 * addressing_style in the profile, DR_E_NOMEM. */
dr_status dr__source_open(dr_client *client, const dr_source_options *opts, dr_source **out);
void dr__source_free(dr_source *source);

const char *dr__source_bucket(const dr_source *source);
/* The prefix keys are listed under ("" for none); a key relative to it is what a layout
 * matches: dr__source_relative_key. */
const char *dr__source_prefix(const dr_source *source);
const char *dr__source_relative_key(const dr_source *source, const char *key);
/* S3 only: the endpoint and addressing in use ("" and 0 for a directory). */
const char *dr__source_endpoint(const dr_source *source);
int dr__source_path_style(const dr_source *source);

/* Restart the listing after `key` (a checkpoint; NULL: from the beginning). */
dr_status dr__source_start_after(dr_source *source, const char *key);
/* The next page of keys into `page` (emptied first); page->count 0 and is_truncated 0
 * at the end. Errors as dr__s3_list_objects, or DR_E_CONFIG for an unreadable directory. */
dr_status dr__source_next_page(dr_source *source, dr_s3_list_page *page);
/* The object `key` (as listed) into `body`, at most `max_bytes` (DR_E_PROTOCOL if more). */
dr_status dr__source_get(dr_source *source, const char *key, size_t max_bytes, dr_buf *body);

#endif
