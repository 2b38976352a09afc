#include "app.h"
#include "cli.h"
#include "failure.h"

int main(int argc, char **argv)
{
    struct options opts;
    switch (cli_parse(argc, argv, &opts)) {
    case CLI_DONE:
        return EXIT_SUCCESS_STATUS;
    case CLI_USAGE_ERROR:
        return EXIT_USAGE;
    case CLI_RUN:
        break;
    }
    return app_run(&opts);
}
