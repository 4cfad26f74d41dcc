#include "env.h"

#include <stdlib.h>

const char *dr__env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}
