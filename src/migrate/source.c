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

/* One entry of a directory: a regular file, or a directory whose name ends in '/'. That
 * slash makes byte order of the names the order of the keys below them ("a-b" before
 * "a/x"), so walking each directory's sorted entries lists keys in S3's order. */
typedef struct dir_entry {
    char *name;
    uint64_t size;
    char last_modified[32];
} dir_entry;

/* One open directory of the walk: its sorted entries, and the next one to visit. */
typedef struct dir_level {
    dir_entry *entries;
    size_t count, next;
    size_t rel_len; /* the length of dr_source.rel before this directory's name */
} dir_level;

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
    /* a directory, walked lazily in key order: the open directories from the root down */
    char *root;
    dir_level levels[DIR_MAX_DEPTH + 1];
    size_t depth; /* levels open; 0: the walk is over */
    dr_buf rel;   /* the deepest open directory, relative to the root: "" or ending in '/' */
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

static int compare_entries(const void *a, const void *b)
{
    return strcmp(((const dir_entry *)a)->name, ((const dir_entry *)b)->name);
}

/* `aws s3 sync` gives each file its object's LastModified: the same text S3 lists. */
static void format_mtime(time_t t, char out[32])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm))
        out[0] = '\0';
}

static void level_free(dir_level *level)
{
    size_t i;
    for (i = 0; i < level->count; i++)
        dr__free(level->entries[i].name);
    dr__free(level->entries);
    memset(level, 0, sizeof *level);
}

/* Read the directory root/rel/name (name "" for the root) into a new deepest level, its
 * entries sorted. Symbolic links and other special files are left out. Memory is one
 * directory's entries per level, never the tree's. */
static dr_status push_level(dr_source *src, const char *name)
{
    dir_level *level = &src->levels[src->depth];
    dr_buf path = DR_BUF_INIT;
    DIR *dir;
    struct dirent *ent;
    size_t cap = 0;
    dr_status rc;

    if (src->depth > DIR_MAX_DEPTH)
        return dr__fail(DR_E_CONFIG, "source %s: deeper than %d directories", src->root,
                        DIR_MAX_DEPTH);
    memset(level, 0, sizeof *level);
    level->rel_len = src->rel.len;
    dr__buf_printf(&path, "%s/%s%s", src->root, dr__buf_cstr(&src->rel), name);
    if ((rc = dr__buf_ok(&path)) != DR_OK)
        return rc;
    if (!(dir = opendir(dr__buf_cstr(&path)))) {
        dr__buf_free(&path);
        return dr__fail(DR_E_CONFIG, "source %s: cannot read a directory (%s)", src->root,
                        strerror(errno));
    }
    dr__buf_puts(&src->rel, name);
    src->depth++; /* from here on pop_level frees the level and restores rel */
    rc = dr__buf_ok(&src->rel);
    while (rc == DR_OK && (ent = readdir(dir))) {
        size_t path_len = path.len;
        struct stat st;
        int listed, is_dir;
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        dr__buf_puts(&path, ent->d_name);
        if ((rc = dr__buf_ok(&path)) != DR_OK)
            break;
        listed = lstat(dr__buf_cstr(&path), &st) == 0; /* else removed while listed */
        path.len = path_len;
        is_dir = listed && S_ISDIR(st.st_mode);
        if (!is_dir && !(listed && S_ISREG(st.st_mode)))
            continue; /* a link, a special file, or gone */
        if (level->count == cap) {
            size_t grown_cap = cap ? cap * 2 : 64;
            dir_entry *grown = dr__reallocarray(level->entries, grown_cap, sizeof *grown);
            if (!grown) {
                rc = DR_E_NOMEM;
                break;
            }
            level->entries = grown;
            cap = grown_cap;
        }
        if (!(level->entries[level->count].name = dr__malloc(strlen(ent->d_name) + 2))) {
            rc = DR_E_NOMEM;
            break;
        }
        strcpy(level->entries[level->count].name, ent->d_name);
        if (is_dir)
            strcat(level->entries[level->count].name, "/");
        level->entries[level->count].size = (uint64_t)st.st_size;
        format_mtime(st.st_mtime, level->entries[level->count].last_modified);
        level->count++;
    }
    closedir(dir);
    dr__buf_free(&path);
    if (rc == DR_OK)
        qsort(level->entries, level->count, sizeof *level->entries, compare_entries);
    return rc;
}

static void pop_level(dr_source *src)
{
    dir_level *level = &src->levels[--src->depth];
    src->rel.len = level->rel_len;
    if (src->rel.data)
        src->rel.data[src->rel.len] = '\0';
    level_free(level);
}

static void close_levels(dr_source *src)
{
    while (src->depth)
        pop_level(src);
}

/* The walk's next file after src->start_after, as a listed object; *found 0 at the end.
 * A directory whose keys all sort before start_after is not read. */
static dr_status next_file(dr_source *src, dr_s3_object *out, int *found)
{
    dr_buf key = DR_BUF_INIT;
    dr_status rc = DR_OK;

    *found = 0;
    while (rc == DR_OK && src->depth && !*found) {
        dir_level *level = &src->levels[src->depth - 1];
        const dir_entry *e;
        size_t n;
        if (level->next == level->count) {
            pop_level(src);
            continue;
        }
        e = &level->entries[level->next++];
        dr__buf_reset(&key);
        dr__buf_printf(&key, "%s%s%s", src->prefix, dr__buf_cstr(&src->rel), e->name);
        if ((rc = dr__buf_ok(&key)) != DR_OK)
            break;
        n = strlen(e->name);
        if (e->name[n - 1] == '/') {
            if (!src->start_after || strncmp(src->start_after, key.data, key.len) <= 0)
                rc = push_level(src, e->name);
        } else if (!src->start_after || strcmp(key.data, src->start_after) > 0) {
            out->key = dr__buf_detach(&key);
            out->size = e->size;
            memcpy(out->last_modified, e->last_modified, sizeof out->last_modified);
            *found = 1;
        }
    }
    dr__buf_free(&key);
    return rc;
}

static dr_status open_dir(const dr_source_options *opts, dr_source *src)
{
    const char *base;
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
    return push_level(src, ""); /* the root, read now: an unreadable one fails the open */
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
    if (!source)
        return;
    dr__sigv4_signer_free(source->s3.signer);
    close_levels(source);
    dr__buf_free(&source->rel);
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
    dr_status rc;
    dr__free(source->token);
    source->token = NULL;
    source->done = 0;
    if ((rc = set_string(&source->start_after, key)) != DR_OK || source->is_s3)
        return rc;
    close_levels(source);
    return push_level(source, "");
}

dr_status dr__source_next_page(dr_source *source, dr_s3_list_page *page)
{
    dr_s3_list_args args;
    dr_status rc = DR_OK;
    int found = 1;

    dr__s3_list_page_free(page);
    if (!source->is_s3) {
        if (!(page->objects = dr__calloc(source->page_size, sizeof *page->objects)))
            return DR_E_NOMEM;
        page->cap = source->page_size;
        while (page->count < page->cap && found && rc == DR_OK)
            if ((rc = next_file(source, &page->objects[page->count], &found)) == DR_OK && found)
                page->count++;
        if (rc != DR_OK) {
            dr__s3_list_page_free(page);
            return rc;
        }
        page->is_truncated = source->depth > 0;
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
