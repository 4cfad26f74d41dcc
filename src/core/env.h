/* The one reader of the process environment. */
#ifndef DR_ENV_H
#define DR_ENV_H

/* The value of environment variable `name`, or NULL when it is unset or empty: the AWS
 * SDKs treat an empty setting as absent, and so does every caller here. */
const char *dr__env(const char *name);

#endif
