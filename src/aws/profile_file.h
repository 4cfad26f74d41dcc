/* The shared config and credentials files (~/.aws/config, ~/.aws/credentials) as the AWS
 * SDKs read them: where they are, and the profiles, sso-sessions and services sections
 * they define once both are parsed (core/ini.h) and merged. The SDKs' common test suites
 * hold this to their behaviour (tests/unit/test_profile_suite.c). Every lookup of the
 * library goes through here: credentials, region, endpoints. */
#ifndef DR_PROFILE_FILE_H
#define DR_PROFILE_FILE_H

#include <stddef.h>

#include "buf.h"
#include "dadratings.h"
#include "ini.h"

typedef enum dr_profile_file_kind {
    DR_PROFILE_CONFIG_FILE,     /* [profile name], [default], [sso-session x], [services x] */
    DR_PROFILE_CREDENTIALS_FILE /* [name] only */
} dr_profile_file_kind;

typedef struct dr_profile_property {
    char *name;                  /* lower case, a valid identifier */
    dr_buf value;                /* continuation lines joined with LF; wiped when freed */
    dr_profile_file_kind origin; /* the file the value came from */
} dr_profile_property;

typedef struct dr_profile_section {
    char *name;
    dr_profile_property *properties; /* in order of first definition */
    size_t count, cap;
} dr_profile_section;

typedef struct dr_profile_sections {
    dr_profile_section *items;
    size_t count, cap;
} dr_profile_sections;

/* What both files define. Zero-initialise (DR_PROFILE_SET_INIT), free with
 * dr__profile_set_free. */
typedef struct dr_profile_set {
    dr_profile_sections profiles;
    dr_profile_sections sso_sessions;
    dr_profile_sections services;
} dr_profile_set;

#define DR_PROFILE_SET_INIT {{NULL, 0, 0}, {NULL, 0, 0}, {NULL, 0, 0}}

void dr__profile_set_free(dr_profile_set *set);

/* Parse one file's text and merge it into `set`, as the SDKs do:
 *  - names of sections and properties must be identifiers ([A-Za-z0-9_-/.%@:+]+); other
 *    sections and properties are ignored, not errors;
 *  - the config file's profiles are `[profile name]` and `[default]` (ignored when the
 *    file also has `[profile default]`); the credentials file's are `[name]`, and it has
 *    no other kind of section;
 *  - property names are lower-cased; a property defined again, in the same profile or a
 *    later one of the same name, or in a file merged later, replaces the value.
 * Merge the config file first and the credentials file second: its values win.
 * DR_E_CONFIG for a syntax error (dr__ini_parse's message, naming `display`), with
 * `set` unchanged; DR_E_NOMEM. */
dr_status dr__profile_set_parse(dr_profile_set *set, dr_profile_file_kind kind,
                                const char *text, size_t len, const char *display);

/* Read both files (dr__profile_file_path) and merge them. A file that does not exist, or
 * whose default location is unknown because HOME is not set, counts as empty.
 * DR_E_CONFIG when a file cannot be read or parsed (the message names it), DR_E_NOMEM. */
dr_status dr__profile_set_load(dr_profile_set *set);

/* The path of the `kind` file: AWS_CONFIG_FILE or AWS_SHARED_CREDENTIALS_FILE, else
 * ~/.aws/config or ~/.aws/credentials; a leading `~` followed by `/` or nothing is HOME.
 * DR_E_CONFIG when the configured path needs HOME and HOME is not set; DR_E_NOT_FOUND
 * (recorded) when the default path does; DR_E_NOMEM. */
dr_status dr__profile_file_path(dr_profile_file_kind kind, dr_buf *path);

/* The file's path as configured, for messages: the variable's value or "~/.aws/...". */
const char *dr__profile_file_display(dr_profile_file_kind kind);

/* The section `name` of `sections`, or NULL. */
const dr_profile_section *dr__profile_find(const dr_profile_sections *sections,
                                           const char *name);

/* The property `name` (lower case) of `section` (which may be NULL), or NULL. */
const dr_profile_property *dr__profile_property(const dr_profile_section *section,
                                                const char *name);

/* The value of sub-property `name` in a property's value ("\nname = value..."), the last
 * definition winning, as the SDKs read `[services x]` blocks. 1 if found. */
int dr__profile_sub_property(const char *value, const char *name, dr_ini_span *out);

#endif
