#include "dadratings.h"

DR_API const char *dr_version(void)
{
    return DR_VERSION_STRING;
}

DR_API uint32_t dr_version_num(void)
{
    return DR_VERSION_NUM;
}
