/* Import sources (source.h). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "alloc.h"
#include "client.h"
#include "configured_endpoint.h"
#include "credentials_provider.h"
#include "endpoint.h"
#include "error.h"
#include "file.h"
#include "profile_file.h"
#include "source.h"

/* A tree deeper than this is a loop or no copy of a rating bucket. */
#define DIR_MAX_DEPTH 32

struct dr_source {
    char *bucket;
    char *prefix;    /* "" or ending in '/' */
    uint32_t page_size;
    /* S3 */
    int is_s3;
    dr_s3_client s3;
    char *endpoint;
    char *token;        /* of the next page; NULL: first page or done */
    char *start_after;
    int done;
    /* a directory */
    char *root;
    dr_s3_object *files; /* full keys, sizes, modification times; sorted by key */
    size_t key_count, key_cap, next;
};

static dr_status set_string(char **field, const char *value)
{
    dr__free(*field);
    *field = value ? dr__strdup(value) : NULL;
    return value && !*field ? DR_E_NOMEM : DR_OK;
}

/* "p" -> "p/", "" stays "". */
static char *prefix_with_slash(const char *p, size_t n)
{
    char *out = dr__malloc(n + 2);
    if (!out)
        return NULL;
    memcpy(out, p, n);
    if (n && p[n - 1] != '/')
        out[n++] = '/';
    out[n] = '\0';
    return out;
}

/* The profile's `s3 = addressing_style = ...` sub-setting. */
static dr_status profile_addressing(const char *profile, dr_addressing_style *out)
{
    dr_profile_set set = DR_PROFILE_SET_INIT;
    const dr_profile_property *s3;
    dr_ini_span value;
    dr_status rc;

    *out = DR_ADDRESSING_AUTO;
    if ((rc = dr__profile_set_load(&set)) != DR_OK)
        return rc;
    s3 = dr__profile_property(dr__profile_find(&set.profiles, dr__profile_name(profile)), "s3");
    if (s3 && dr__profile_sub_property(dr__buf_cstr(&s3->value), "addressing_style", &value)) {
        if (dr__ini_span_eq(value, "virtual"))
            *out = DR_ADDRESSING_VIRTUAL;
        else if (dr__ini_span_eq(value, "path"))
            *out = DR_ADDRESSING_PATH;
        else if (!dr__ini_span_eq(value, "auto"))
            rc = dr__fail(DR_E_CONFIG, "profile %s: s3 addressing_style must be auto, virtual "
                          "or path", dr__profile_name(profile));
    }
    dr__profile_set_free(&set);
    return rc;
}

static dr_status open_s3(dr_client *client, const dr_source_options *opts, dr_source *src)
{
    const char *rest = opts->location + strlen("s3://"), *slash = strchr(rest, '/');
    dr_endpoint_query q;
    dr_addressing_style style = opts->addressing;
    dr_status rc;

    if (!client)
        return dr__fail(DR_E_INVALID_ARGUMENT, "S3 source: needs a client");
    src->is_s3 = 1;
    if (!(src->bucket = slash ? dr__strndup(rest, (size_t)(slash - rest)) : dr__strdup(rest)) ||
        !(src->prefix = slash ? prefix_with_slash(slash + 1, strlen(slash + 1))
                              : dr__strdup("")))
        return DR_E_NOMEM;
    if (!dr__s3_bucket_is_valid(src->bucket))
        return dr__fail(DR_E_INVALID_ARGUMENT, "source %s: not a valid S3 bucket name",
                        opts->location);
    memset(&q, 0, sizeof q);
    q.service_id = "s3";
    q.profile = client->profile;
    if ((rc = dr__configured_endpoint(&q, &src->endpoint)) != DR_OK)
        return rc;
    if (style == DR_ADDRESSING_UNSET && (rc = profile_addressing(client->profile, &style)))
        return rc;
    if (!src->endpoint) {
        dr_buf url = DR_BUF_INIT;
        dr__buf_printf(&url, "https://s3.%s.%s", client->region,
                       dr__partition_of(client->region)->dns_suffix);
        if ((rc = dr__buf_ok(&url)) != DR_OK)
            return rc;
        src->endpoint = dr__buf_detach(&url);
        src->s3.path_style = style == DR_ADDRESSING_PATH ||
                             (style != DR_ADDRESSING_VIRTUAL &&
                              !dr__s3_bucket_is_virtual_hostable(src->bucket));
    } else {
        size_t n = strlen(src->endpoint);
        if (n && src->endpoint[n - 1] == '/') /* "http://host:port/" names no path */
            src->endpoint[n - 1] = '\0';
        src->s3.path_style = style != DR_ADDRESSING_VIRTUAL;
    }
    if ((rc = dr__sigv4_signer_new(&src->s3.signer)) != DR_OK)
        return rc;
    src->s3.endpoint = src->endpoint;
    src->s3.region = client->region;
    src->s3.pool = client->pool;
    src->s3.credentials = client->credentials;
    src->s3.connect_timeout_ms = client->connect_timeout_ms;
    src->s3.timeout_ms = client->request_timeout_ms;
    return DR_OK;
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp(((const dr_s3_object *)a)->key, ((const dr_s3_object *)b)->key);
}

/* `aws s3 sync` gives each file its object's LastModified: the same text S3 lists. */
static void format_mtime(time_t t, char out[32])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm))
        out[0] = '\0';
}

/* Every regular file under root/rel, as prefix + rel. Symbolic links are not followed. */
static dr_status walk(dr_source *src, dr_buf *path, size_t root_len, int depth)
{
    DIR *dir;
    struct dirent *ent;
    dr_status rc = DR_OK;
    size_t len = path->len;

    if (depth > DIR_MAX_DEPTH)
        return dr__fail(DR_E_CONFIG, "source %s: deeper than %d directories", src->root,
                        DIR_MAX_DEPTH);
    if (!(dir = opendir(dr__buf_cstr(path))))
        return dr__fail(DR_E_CONFIG, "source %s: cannot read a directory (%s)", src->root,
                        strerror(errno));
    while (rc == DR_OK && (ent = readdir(dir))) {
        struct stat st;
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        path->len = len;
        dr__buf_printf(path, "/%s", ent->d_name);
        if ((rc = dr__buf_ok(path)) != DR_OK)
            break;
        if (lstat(dr__buf_cstr(path), &st) != 0)
            continue; /* removed while listed */
        if (S_ISDIR(st.st_mode)) {
            rc = walk(src, path, root_len, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            dr_buf key = DR_BUF_INIT;
            dr__buf_printf(&key, "%s%s", src->prefix, dr__buf_cstr(path) + root_len + 1);
            if ((rc = dr__buf_ok(&key)) != DR_OK)
                break;
            if (src->key_count == src->key_cap) {
                size_t cap = src->key_cap ? src->key_cap * 2 : 256;
                dr_s3_object *grown = dr__reallocarray(src->files, cap, sizeof *grown);
                if (!grown) {
                    dr__buf_free(&key);
                    rc = DR_E_NOMEM;
                    break;
                }
                src->files = grown;
                src->key_cap = cap;
            }
            src->files[src->key_count].key = dr__buf_detach(&key);
            src->files[src->key_count].size = (uint64_t)st.st_size;
            format_mtime(st.st_mtime, src->files[src->key_count].last_modified);
            src->key_count++;
        }
    }
    closedir(dir);
    path->len = len;
    if (path->data)
        path->data[len] = '\0';
    return rc;
}

static dr_status open_dir(const dr_source_options *opts, dr_source *src)
{
    const char *base;
    dr_buf path = DR_BUF_INIT;
    struct stat st;
    size_t n = strlen(opts->location);
    dr_status rc;

    while (n > 1 && opts->location[n - 1] == '/')
        n--;
    if (!(src->root = dr__strndup(opts->location, n)))
        return DR_E_NOMEM;
    if (stat(src->root, &st) != 0 || !S_ISDIR(st.st_mode))
        return dr__fail(DR_E_NOT_FOUND, "source %s: no such directory", src->root);
    base = strrchr(src->root, '/');
    base = base ? base + 1 : src->root;
    if ((rc = set_string(&src->bucket, opts->bucket ? opts->bucket : base)) != DR_OK)
        return rc;
    if (!(src->prefix = prefix_with_slash(opts->prefix ? opts->prefix : "",
                                          opts->prefix ? strlen(opts->prefix) : 0)))
        return DR_E_NOMEM;
    dr__buf_puts(&path, src->root);
    if ((rc = dr__buf_ok(&path)) == DR_OK)
        rc = walk(src, &path, path.len, 0);
    dr__buf_free(&path);
    if (rc == DR_OK)
        qsort(src->files, src->key_count, sizeof *src->files, compare_keys);
    return rc;
}

dr_status dr__source_open(dr_client *client, const dr_source_options *opts, dr_source **out)
{
    dr_source *src;
    dr_status rc;

    *out = NULL;
    if (!opts || !opts->location || !*opts->location)
        return dr__fail(DR_E_INVALID_ARGUMENT, "source: required");
    if (opts->page_size > DR_S3_MAX_KEYS_PER_PAGE)
        return dr__fail(DR_E_INVALID_ARGUMENT, "source: page size must be 1..%u",
                        DR_S3_MAX_KEYS_PER_PAGE);
    if (!(src = dr__calloc(1, sizeof *src)))
        return DR_E_NOMEM;
    src->page_size = opts->page_size ? opts->page_size : DR_S3_MAX_KEYS_PER_PAGE;
    rc = strncmp(opts->location, "s3://", 5) == 0 ? open_s3(client, opts, src)
                                                   : open_dir(opts, src);
    if (rc != DR_OK) {
        dr__source_free(src);
        return rc;
    }
    *out = src;
    return DR_OK;
}

void dr__source_free(dr_source *source)
{
    size_t i;
    if (!source)
        return;
    dr__sigv4_signer_free(source->s3.signer);
    for (i = 0; i < source->key_count; i++)
        dr__free(source->files[i].key);
    dr__free(source->files);
    dr__free(source->bucket);
    dr__free(source->prefix);
    dr__free(source->endpoint);
    dr__free(source->token);
    dr__free(source->start_after);
    dr__free(source->root);
    dr__free(source);
}

const char *dr__source_bucket(const dr_source *source)
{
    return source->bucket;
}

const char *dr__source_prefix(const dr_source *source)
{
    return source->prefix;
}

const char *dr__source_relative_key(const dr_source *source, const char *key)
{
    size_t n = strlen(source->prefix);
    return strncmp(key, source->prefix, n) == 0 ? key + n : key;
}

const char *dr__source_endpoint(const dr_source *source)
{
    return source->endpoint ? source->endpoint : "";
}

int dr__source_path_style(const dr_source *source)
{
    return source->is_s3 && source->s3.path_style;
}

dr_status dr__source_start_after(dr_source *source, const char *key)
{
    size_t i;
    dr__free(source->token);
    source->token = NULL;
    source->done = 0;
    source->next = 0;
    if (!source->is_s3) {
        for (i = 0; key && i < source->key_count && strcmp(source->files[i].key, key) <= 0; i++)
            ;
        source->next = i;
        return DR_OK;
    }
    return set_string(&source->start_after, key);
}

dr_status dr__source_next_page(dr_source *source, dr_s3_list_page *page)
{
    dr_s3_list_args args;
    dr_status rc;

    dr__s3_list_page_free(page);
    if (!source->is_s3) {
        size_t end = source->next + source->page_size;
        if (end > source->key_count)
            end = source->key_count;
        if (end > source->next &&
            !(page->objects = dr__calloc(end - source->next, sizeof *page->objects)))
            return DR_E_NOMEM;
        for (; source->next < end; source->next++) {
            page->objects[page->count] = source->files[source->next];
            if (!(page->objects[page->count].key = dr__strdup(source->files[source->next].key))) {
                dr__s3_list_page_free(page);
                return DR_E_NOMEM;
            }
            page->count++;
        }
        page->cap = page->count;
        page->is_truncated = source->next < source->key_count;
        return DR_OK;
    }
    if (source->done)
        return DR_OK;
    memset(&args, 0, sizeof args);
    args.prefix = source->prefix;
    args.token = source->token;
    args.start_after = source->token ? NULL : source->start_after;
    args.max_keys = source->page_size;
    if ((rc = dr__s3_list_objects(&source->s3, source->bucket, &args, page)) != DR_OK)
        return rc;
    dr__free(source->token);
    source->token = page->next_token ? dr__strdup(page->next_token) : NULL;
    if (page->next_token && !source->token)
        return DR_E_NOMEM;
    source->done = !page->is_truncated;
    return DR_OK;
}

dr_status dr__source_get(dr_source *source, const char *key, size_t max_bytes, dr_buf *body)
{
    dr_buf path = DR_BUF_INIT;
    const char *rel = dr__source_relative_key(source, key);
    dr_status rc;

    if (source->is_s3)
        return dr__s3_get_object(&source->s3, source->bucket, key, max_bytes, body);
    dr__buf_reset(body);
    dr__buf_printf(&path, "%s/%s", source->root, rel);
    if ((rc = dr__buf_ok(&path)) == DR_OK)
        rc = dr__file_read(dr__buf_cstr(&path), key, max_bytes, DR_E_PROTOCOL, body);
    dr__buf_free(&path);
    return rc;
}
