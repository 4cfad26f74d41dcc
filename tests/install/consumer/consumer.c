/* A program outside the project, built against an installed libdadratings: it may use
 * nothing but <dadratings.h>. */
#include <stdio.h>
#include <string.h>

#include <dadratings.h>

int main(void)
{
    dr_config *config = NULL;
    dr_status rc;

    printf("dr_version: %s\n", dr_version());
    if (strcmp(dr_version(), DR_VERSION_STRING) != 0 || dr_version_num() != DR_VERSION_NUM) {
        fprintf(stderr, "header says %s, library says %s\n", DR_VERSION_STRING, dr_version());
        return 1;
    }
    rc = dr_config_new(&config);
    if (rc != DR_OK) {
        fprintf(stderr, "dr_config_new: %s: %s\n", dr_strerror(rc), dr_last_error_message());
        return 1;
    }
    rc = dr_config_set_region(config, "us-east-1");
    if (rc != DR_OK) {
        fprintf(stderr, "dr_config_set_region: %s: %s\n", dr_strerror(rc), dr_last_error_message());
        dr_config_free(config);
        return 1;
    }
    dr_config_free(config);
    printf("dr_config: created and freed\n");
    return 0;
}
