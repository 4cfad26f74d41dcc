/* The provider chain and its refresh.
 *
 * Concurrency: `lock` guards only the `current` pointer and the retry deadline, and is
 * held for a pointer copy and a reference increment, so signing threads never wait on
 * network I/O. `refresh_lock` admits one resolver at a time. While the current
 * credentials are still valid, a thread that finds a refresh due only *tries* the
 * refresh lock: if another thread is already refreshing it keeps signing with what it
 * has. Only threads holding nothing valid (first use, or expired) wait for the resolver. */
#include "credentials_chain.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "credentials_provider.h"
#include "env.h"
#include "error.h"
#include "timeutil.h"

/* The SDKs refresh temporary credentials five minutes before they expire, so a request
 * signed just before expiry is not rejected in flight. */
#define DR_CREDENTIALS_REFRESH_WINDOW_S 300
/* After a failed refresh with still-valid credentials, wait this long before trying
 * again, rather than hitting a struggling metadata service on every request. */
#define DR_CREDENTIALS_RETRY_BACKOFF_S 10
/* Room for every provider's reason in the DR_E_CREDENTIALS message. */
#define DR_CHAIN_REASONS_MAX 1024

#ifdef DR_TESTING
/* Test builds only (DR_TESTING): tests shorten both to exercise a refresh in seconds. */
static atomic_int_least64_t g_refresh_window_s = DR_CREDENTIALS_REFRESH_WINDOW_S;
static atomic_int_least64_t g_retry_backoff_s = DR_CREDENTIALS_RETRY_BACKOFF_S;
#define REFRESH_WINDOW_S() atomic_load(&g_refresh_window_s)
#define RETRY_BACKOFF_S() atomic_load(&g_retry_backoff_s)

void dr__credentials_set_refresh_timing(int64_t window_s, int64_t retry_backoff_s)
{
    atomic_store(&g_refresh_window_s, window_s >= 0 ? window_s : DR_CREDENTIALS_REFRESH_WINDOW_S);
    atomic_store(&g_retry_backoff_s,
                 retry_backoff_s >= 0 ? retry_backoff_s : DR_CREDENTIALS_RETRY_BACKOFF_S);
}
#else
#define REFRESH_WINDOW_S() ((int64_t)DR_CREDENTIALS_REFRESH_WINDOW_S)
#define RETRY_BACKOFF_S() ((int64_t)DR_CREDENTIALS_RETRY_BACKOFF_S)
#endif

struct dr_credentials_chain {
    pthread_mutex_t lock;         /* guards current and retry_after */
    pthread_mutex_t refresh_lock; /* one resolver at a time; guards the fields below */
    dr_credentials *current;      /* NULL until first resolved */
    char source[DR_CREDENTIAL_SOURCE_MAX]; /* what served `current`; "" until then */
    int64_t retry_after;          /* no refresh attempt before this (epoch s) */
    dr_credentials *explicit_creds;
    char *profile;                /* configured, or NULL for AWS_PROFILE/"default" */
    char *region;                 /* the client's, for STS; NULL: none */
    char *sts_endpoint;           /* resolved by the client; NULL: no STS */
    const dr_endpoint_resolver *endpoints;
    uint32_t timeout_ms;
    dr_logger log;
    atomic_ulong resolutions;     /* completed resolution attempts */
    dr_status last_failure;       /* of the latest attempt; DR_OK if it succeeded */
    char last_message[DR_CHAIN_REASONS_MAX];
};

static int64_t now_s(void)
{
    return dr__now_s();
}

static int is_expired(const dr_credentials *c, int64_t now)
{
    return c->expires_at != 0 && now >= c->expires_at;
}

static int refresh_due(const dr_credentials *c, int64_t now)
{
    return c->expires_at != 0 && now >= c->expires_at - REFRESH_WINDOW_S();
}

dr_status dr__credentials_chain_new(dr_credentials_chain **out,
                                    const dr_credentials_options *opts)
{
    dr_credentials_chain *chain;

    *out = NULL;
    if (opts->access_key_id && !opts->secret_access_key)
        return dr__fail(DR_E_INVALID_ARGUMENT, "explicit credentials lack the secret key");
    chain = dr__calloc(1, sizeof *chain);
    if (!chain)
        return dr__fail(DR_E_NOMEM, "out of memory creating the credentials chain");
    if (pthread_mutex_init(&chain->lock, NULL) != 0) {
        dr__free(chain);
        return dr__fail(DR_E_INTERNAL, "cannot create the credentials chain's mutex");
    }
    if (pthread_mutex_init(&chain->refresh_lock, NULL) != 0) {
        pthread_mutex_destroy(&chain->lock);
        dr__free(chain);
        return dr__fail(DR_E_INTERNAL, "cannot create the credentials chain's mutex");
    }
    chain->timeout_ms = opts->metadata_timeout_ms;
    chain->log = opts->log;
    chain->endpoints = opts->endpoints;
    if ((opts->profile && !(chain->profile = dr__strdup(opts->profile))) ||
        (opts->region && !(chain->region = dr__strdup(opts->region))) ||
        (opts->sts_endpoint && !(chain->sts_endpoint = dr__strdup(opts->sts_endpoint))) ||
        (opts->access_key_id &&
         !(chain->explicit_creds = dr__credentials_new(opts->access_key_id, opts->secret_access_key,
                                                       opts->session_token, 0)))) {
        dr__credentials_chain_free(chain);
        return dr__fail(DR_E_NOMEM, "out of memory copying the credentials options");
    }
    *out = chain;
    return DR_OK;
}

void dr__credentials_chain_free(dr_credentials_chain *chain)
{
    if (!chain)
        return;
    dr__credentials_release(chain->current);
    dr__credentials_release(chain->explicit_creds);
    dr__free(chain->profile);
    dr__free(chain->region);
    dr__free(chain->sts_endpoint);
    pthread_mutex_destroy(&chain->refresh_lock);
    pthread_mutex_destroy(&chain->lock);
    dr__free(chain);
}

/* A new reference to the current credentials (or NULL), and the retry deadline. */
static dr_credentials *take_current(dr_credentials_chain *chain, int64_t *retry_after)
{
    dr_credentials *c;
    pthread_mutex_lock(&chain->lock);
    c = chain->current;
    if (c)
        dr__credentials_retain(c);
    if (retry_after)
        *retry_after = chain->retry_after;
    pthread_mutex_unlock(&chain->lock);
    return c;
}

static void install(dr_credentials_chain *chain, dr_credentials *fresh, const char *source,
                    int64_t retry_after)
{
    dr_credentials *old;
    pthread_mutex_lock(&chain->lock);
    old = chain->current;
    if (fresh) {
        chain->current = fresh;
        snprintf(chain->source, sizeof chain->source, "%s", source);
    }
    chain->retry_after = retry_after;
    pthread_mutex_unlock(&chain->lock);
    if (fresh)
        dr__credentials_release(old);
}

/* Append "label: <this thread's last error message>" to the reasons. */
static void add_reason(dr_buf *reasons, const char *label)
{
    if (reasons->len)
        dr__buf_puts(reasons, "; ");
    dr__buf_printf(reasons, "%s: %s", label, dr_last_error_message());
}

/* One source of the chain. `fetch` returns DR_E_NOT_FOUND when the source is not
 * configured at all (the chain goes on); any other failure means the user pointed at this
 * source and it failed: the chain stops there rather than sign as a broader principal. */
typedef struct chain_source {
    const char *label; /* in messages */
    const char *id;    /* dr_client_describe's name; NULL: fetch names itself */
    dr_status (*fetch)(const dr_provider_context *ctx, dr_credentials **out, char *id,
                       size_t id_cap);
} chain_source;

static dr_status fetch_env(const dr_provider_context *ctx, dr_credentials **out, char *id,
                           size_t id_cap)
{
    (void)ctx, (void)id, (void)id_cap;
    return dr__credentials_from_env(out);
}

static dr_status fetch_web_identity(const dr_provider_context *ctx, dr_credentials **out,
                                    char *id, size_t id_cap)
{
    (void)id, (void)id_cap;
    return dr__credentials_from_web_identity(ctx, out);
}

static dr_status fetch_profile(const dr_provider_context *ctx, dr_credentials **out, char *id,
                               size_t id_cap)
{
    return dr__credentials_from_profile(ctx, out, id, id_cap);
}

static dr_status fetch_container(const dr_provider_context *ctx, dr_credentials **out,
                                 char *id, size_t id_cap)
{
    (void)id, (void)id_cap;
    return dr__credentials_from_container(ctx->timeout_ms, out);
}

static dr_status fetch_imds(const dr_provider_context *ctx, dr_credentials **out, char *id,
                            size_t id_cap)
{
    (void)id, (void)id_cap;
    return dr__credentials_from_imds(ctx->profile, ctx->timeout_ms, out);
}

/* The SDKs' order after explicit credentials. */
static const chain_source g_sources[] = {
    {"environment", "environment", fetch_env},
    {"web identity", "web-identity", fetch_web_identity},
    {"profile", NULL, fetch_profile},
    {"container", "container", fetch_container},
    {"instance metadata", "imds", fetch_imds},
};

/* Walk the sources in order. DR_OK with *out and the source's id in `id`, DR_E_NOMEM,
 * or the first configured source's failure (DR_E_CREDENTIALS unless it is a
 * configuration error) with every reason so far. Called with refresh_lock held. */
static dr_status resolve(dr_credentials_chain *chain, dr_credentials **out, char *id,
                         size_t id_cap)
{
    dr_provider_context ctx;
    dr_buf reasons = DR_BUF_INIT;
    dr_status rc = DR_E_NOT_FOUND;
    size_t i;

    *out = NULL;
    if (chain->explicit_creds) {
        dr__credentials_retain(chain->explicit_creds);
        *out = chain->explicit_creds;
        snprintf(id, id_cap, "explicit");
        return DR_OK;
    }
    ctx.profile = dr__profile_name(chain->profile);
    ctx.profile_named = (chain->profile && *chain->profile) || dr__env("AWS_PROFILE");
    ctx.region = chain->region;
    ctx.timeout_ms = chain->timeout_ms;
    ctx.sts_endpoint = chain->sts_endpoint;
    ctx.endpoints = chain->endpoints;
    for (i = 0; i < sizeof g_sources / sizeof g_sources[0]; i++) {
        const chain_source *src = &g_sources[i];
        char label[96];
        if (src->id)
            snprintf(id, id_cap, "%s", src->id);
        rc = src->fetch(&ctx, out, id, id_cap);
        if (rc == DR_OK || rc == DR_E_NOMEM)
            break;
        if (src->fetch == fetch_profile)
            snprintf(label, sizeof label, "profile \"%.64s\"", ctx.profile);
        else
            snprintf(label, sizeof label, "%s", src->label);
        add_reason(&reasons, label);
        if (rc != DR_E_NOT_FOUND) {
            if (rc != DR_E_CONFIG)
                rc = DR_E_CREDENTIALS;
            break;
        }
    }
    if (rc != DR_OK && rc != DR_E_NOMEM) {
        const char *what = rc == DR_E_NOT_FOUND ? "no credentials found" : "credentials failed";
        if (rc == DR_E_NOT_FOUND)
            rc = DR_E_CREDENTIALS;
        rc = dr__buf_ok(&reasons) == DR_OK
                 ? dr__fail(rc, "%s: %s", what, dr__buf_cstr(&reasons))
                 : DR_E_NOMEM;
    }
    dr__buf_free(&reasons);
    return rc;
}

/* Run the chain (refresh_lock held) and install the result, which is never expired at
 * `now`. On failure the current credentials, if any, stay installed. */
static dr_status refresh_locked(dr_credentials_chain *chain, int64_t now)
{
    dr_credentials *fresh = NULL;
    char source[DR_CREDENTIAL_SOURCE_MAX];
    dr_status rc = resolve(chain, &fresh, source, sizeof source);

    /* Expired credentials must never replace ones that may still be valid. */
    if (rc == DR_OK && is_expired(fresh, now)) {
        dr__credentials_release(fresh);
        fresh = NULL;
        rc = dr__fail(DR_E_CREDENTIALS, "%s returned credentials that have already expired",
                      source);
    }
    chain->last_failure = rc;
    if (rc == DR_OK) {
        dr__logf(&chain->log, DR_LOG_DEBUG, "credentials resolved from %s%s", source,
                 fresh->expires_at ? " (temporary)" : "");
        /* Credentials that arrive already inside the refresh window (short-lived ones
         * from a container endpoint) must not trigger a refresh on every request. */
        install(chain, fresh, source,
                refresh_due(fresh, now) ? now + RETRY_BACKOFF_S() : 0);
        atomic_fetch_add(&chain->resolutions, 1);
        return DR_OK;
    }
    snprintf(chain->last_message, sizeof chain->last_message, "%s", dr_last_error_message());
    install(chain, NULL, NULL, now + RETRY_BACKOFF_S());
    atomic_fetch_add(&chain->resolutions, 1);
    return rc;
}

/* Refresh while still holding valid credentials: never wait for another resolver. */
static void refresh_in_background_of(dr_credentials_chain *chain, const dr_credentials *held,
                                     int64_t now)
{
    dr_credentials *current;
    int64_t retry_after;
    if (pthread_mutex_trylock(&chain->refresh_lock) != 0)
        return; /* another thread is refreshing; keep using `held` */
    /* Another thread may have refreshed, or failed to, since we looked. */
    current = take_current(chain, &retry_after);
    if (current == held && now >= retry_after && refresh_locked(chain, now) != DR_OK)
        dr__logf(&chain->log, DR_LOG_WARN,
                 "credentials refresh failed, using the current ones "
                 "until they expire in %lld s: %s",
                 (long long)(held->expires_at - now), chain->last_message);
    dr__credentials_release(current);
    pthread_mutex_unlock(&chain->refresh_lock);
}

/* Nothing valid is held: wait for the resolver, then resolve unless the resolver we
 * waited for just produced usable credentials or just failed (its answer is ours too,
 * so N waiting threads do not retry a dead endpoint N times in a row). */
static dr_status resolve_blocking(dr_credentials_chain *chain, dr_credentials **out)
{
    unsigned long seen = atomic_load(&chain->resolutions);
    dr_credentials *c;
    dr_status rc = DR_OK;
    int64_t now;

    pthread_mutex_lock(&chain->refresh_lock);
    now = now_s();
    c = take_current(chain, NULL);
    if (c && is_expired(c, now)) {
        dr__credentials_release(c);
        c = NULL;
    }
    if (!c && atomic_load(&chain->resolutions) != seen && chain->last_failure != DR_OK)
        rc = dr__fail(chain->last_failure, "%s", chain->last_message);
    else if (!c && (rc = refresh_locked(chain, now)) == DR_OK)
        c = take_current(chain, NULL);
    pthread_mutex_unlock(&chain->refresh_lock);
    if (rc != DR_OK)
        return rc;
    *out = c;
    return DR_OK;
}

void dr__credentials_chain_source(dr_credentials_chain *chain, char *out, size_t cap)
{
    pthread_mutex_lock(&chain->lock);
    snprintf(out, cap, "%s", chain->source);
    pthread_mutex_unlock(&chain->lock);
}

dr_status dr__credentials_chain_get(dr_credentials_chain *chain, dr_credentials **out)
{
    int64_t retry_after, now = now_s();
    dr_credentials *c = take_current(chain, &retry_after);

    *out = NULL;
    if (c && !refresh_due(c, now)) {
        *out = c;
        return DR_OK;
    }
    if (c && !is_expired(c, now)) {
        if (now >= retry_after) {
            refresh_in_background_of(chain, c, now);
            dr__credentials_release(c);
            /* `held` or a fresher set: installs never go back to NULL or expired. */
            c = take_current(chain, NULL);
        }
        *out = c;
        return DR_OK;
    }
    dr__credentials_release(c);
    return resolve_blocking(chain, out);
}
