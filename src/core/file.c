#include "file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

#ifdef DR_TESTING
#include <limits.h>
#include <pthread.h>

static pthread_mutex_t g_root_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_root[PATH_MAX];

void dr__file_set_test_root(const char *root)
{
    pthread_mutex_lock(&g_root_lock);
    snprintf(g_root, sizeof g_root, "%s", root ? root : "");
    pthread_mutex_unlock(&g_root_lock);
}

static FILE *open_file(const char *path)
{
    char rooted[2 * PATH_MAX];
    pthread_mutex_lock(&g_root_lock);
    snprintf(rooted, sizeof rooted, "%s%s", path[0] == '/' ? g_root : "", path);
    pthread_mutex_unlock(&g_root_lock);
    return fopen(rooted, "rb");
}
#else
static FILE *open_file(const char *path)
{
    return fopen(path, "rb");
}
#endif

dr_status dr__file_read(const char *path, const char *display, size_t max, dr_status fail,
                        dr_buf *out)
{
    char chunk[4096];
    size_t n, start = out->len;
    dr_status rc;
    FILE *f;

    dr__buf_mark_secret(out);
    f = open_file(path);
    if (!f)
        return errno == ENOENT || errno == ENOTDIR
                   ? dr__fail(DR_E_NOT_FOUND, "%s does not exist", display)
                   : dr__fail(fail, "cannot open %s: %s", display, strerror(errno));
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && out->len - start + n <= max &&
           !out->failed)
        dr__buf_append(out, chunk, n);
    dr__wipe(chunk, sizeof chunk);
    if (out->failed)
        rc = dr__buf_ok(out);
    else if (n > 0)
        rc = dr__fail(fail, "%s is larger than %zu bytes", display, max);
    else if (ferror(f))
        rc = dr__fail(fail, "cannot read %s", display);
    else
        rc = DR_OK;
    fclose(f);
    return rc;
}
