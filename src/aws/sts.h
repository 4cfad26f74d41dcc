/* The AWS Security Token Service, for the credential providers that assume roles:
 * AssumeRole (signed with the source credentials: profiles with role_arn) and
 * AssumeRoleWithWebIdentity (unsigned: EKS IAM roles for service accounts). Query protocol:
 * a form-encoded POST to ctx->sts_endpoint, answered in XML, of which the few fields the
 * library needs are extracted (no general XML parser: docs/credentials.md).
 *
 * Both calls retry as the SDKs' standard mode does (retry.h: 3 attempts, full-jitter
 * backoff) after a connection failure, a timeout, HTTP 5xx or 429, a throttling code, and
 * IDPCommunicationError. Failures are DR_E_CREDENTIALS, "STS <Action> for <role arn>
 * failed: <Code>: <Message>", never quoting the token or the credentials; DR_E_NOMEM. */
#ifndef DR_STS_H
#define DR_STS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "credentials.h"
#include "credentials_provider.h"

typedef struct dr_sts_role {
    const char *role_arn;
    const char *session_name; /* NULL: "dadratings-<epoch ms>" */
    const char *external_id;  /* AssumeRole only; NULL: none */
    uint32_t duration_s;      /* 0: not sent (STS's default, one hour) */
} dr_sts_role;

/* Assume `role` with the `source` credentials, signing for service "sts" in ctx->region.
 * *out has the temporary credentials, their expiry and the account of the assumed role. */
dr_status dr__sts_assume_role(const dr_provider_context *ctx, const dr_sts_role *role,
                              const dr_credentials *source, dr_credentials **out);

/* Exchange the token in `token_file` (read anew on every call, as EKS rotates it in place,
 * and wiped after) for `role`'s credentials. Unsigned: the token is the proof. Everything
 * a web identity provider needs, from the environment or from a profile's
 * web_identity_token_file and role_arn. */
dr_status dr__sts_assume_role_with_web_identity(const dr_provider_context *ctx,
                                                const dr_sts_role *role,
                                                const char *token_file, dr_credentials **out);

/* --- the answers, exposed for the unit test and the fuzzer ------------------------- */

/* Credentials from the XML of a successful AssumeRole[WithWebIdentity] answer:
 * Credentials/{AccessKeyId, SecretAccessKey, SessionToken, Expiration} required, the
 * account id from AssumedRoleUser/Arn when it is an STS ARN. DR_E_PROTOCOL (the message
 * says what is wrong, never quoting the answer), DR_E_NOMEM. */
dr_status dr__sts_parse_credentials(const char *xml, size_t len, dr_credentials **out);

/* Error/Code and Error/Message of an STS error answer, each NUL-terminated and cut to its
 * buffer ("" when absent). Returns 1 if the answer is well-formed XML with an Error/Code,
 * else 0 (both left ""). Neither is checked for secrets here. */
int dr__sts_parse_error(const char *xml, size_t len, char *code, size_t code_cap,
                        char *message, size_t message_cap);

/* --- the extractor (sts_xml.c) ---------------------------------------------------- */

/* Nesting deeper than this is not an STS answer (they nest four deep). */
#define DR_XML_MAX_DEPTH 16
/* No field of an STS answer is longer (session tokens are about 1 KiB). */
#define DR_XML_MAX_FIELD ((size_t)16 * 1024)

typedef struct dr_xml_field {
    /* Element names separated by '/', matched against the innermost open elements:
     * "Credentials/AccessKeyId" is any AccessKeyId directly inside a Credentials.
     * Namespace prefixes are ignored ("sts:Code" is "Code"). */
    const char *path;
    dr_buf *value; /* receives the entity-decoded text; marked secret first */
    int found;
} dr_xml_field;

/* One pass over `len` bytes of XML, filling each field's value. The document must be
 * well-formed in the subset STS uses: elements with quoted attributes, text with the five
 * predefined entities and numeric character references, CDATA, comments and processing
 * instructions; a DOCTYPE (and so any entity definition), a field that holds elements or
 * occurs twice, deeper nesting than DR_XML_MAX_DEPTH or a field longer than
 * DR_XML_MAX_FIELD is refused. DR_E_PROTOCOL ("<what> at byte <n>", never quoting the
 * document), DR_E_NOMEM. */
dr_status dr__xml_extract(const char *xml, size_t len, dr_xml_field *fields, size_t n);

/* A repeated element, such as each Contents of an S3 listing: its fields are matched only
 * inside it (paths relative to the innermost elements, as above), reset when it opens,
 * and handed to on_record when it closes; a non-DR_OK return stops the pass with it. */
typedef struct dr_xml_records {
    const char *path; /* the record element, e.g. "ListBucketResult/Contents" */
    dr_xml_field *fields;
    size_t count;
    dr_status (*on_record)(void *ctx, const dr_xml_field *fields, size_t count);
    void *ctx;
} dr_xml_records;

/* dr__xml_extract with `records` (NULL: none): the document's own fields are matched
 * outside records only. Same rules and errors, plus whatever on_record returns. */
dr_status dr__xml_extract_records(const char *xml, size_t len, dr_xml_field *fields, size_t n,
                                  const dr_xml_records *records);

#endif
