/* Whole small files read into memory: the shared config and credentials files, token
 * files, the SSO token cache. One reader, so every file the library opens is bounded,
 * wiped after use and, in test builds, found under the test's root. */
#ifndef DR_FILE_H
#define DR_FILE_H

#include <stddef.h>

#include "buf.h"

/* Append the contents of `path` to `out`, which is marked secret first (these files hold
 * keys and tokens). `display` names the file in messages (a path, or the variable that
 * named it). DR_E_NOT_FOUND (recorded) when the file does not exist; `fail` (the caller's
 * layer: DR_E_CONFIG, DR_E_CREDENTIALS) when it cannot be opened or read, or is larger
 * than `max` bytes; DR_E_NOMEM. On failure `out` may hold a part, which the caller frees. */
dr_status dr__file_read(const char *path, const char *display, size_t max, dr_status fail,
                        dr_buf *out);

#ifdef DR_TESTING
/* Test builds only: resolve absolute paths under `root` (a fake file system, as the SDKs'
 * credential-chain suites lay one out); NULL or "" restores the real root. */
void dr__file_set_test_root(const char *root);
#endif

#endif
