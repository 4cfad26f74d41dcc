/* Prints the library's version and checks that the DynamoDB endpoint answers.
 * Uses only the public header. */
#include <stdio.h>

#include <dadratings.h>

int main(void)
{
    dr_client *client = NULL;
    dr_status rc;

    printf("libdadratings %s\n", dr_version());
    rc = dr_client_new(&client, NULL);
    if (rc != DR_OK) {
        fprintf(stderr, "client: %s: %s\n", dr_strerror(rc), dr_last_error_message());
        return 1;
    }
    rc = dr_client_create_tables(client, DR_CREATE_TABLES_WAIT);
    printf("create_tables: %s%s%s\n", dr_strerror(rc), rc ? ": " : "",
           rc ? dr_last_error_message() : "");
    dr_client_free(client);
    return 0;
}
