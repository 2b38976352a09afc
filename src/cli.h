#ifndef UNITFORGE_CLI_H
#define UNITFORGE_CLI_H

#include <stddef.h>

enum command {
    COMMAND_GENERATE,
    COMMAND_INIT,
    COMMAND_SHOW,
    COMMAND_VERIFY,
};

#define MAX_SETS 256

struct options {
    enum command command;
    const char *config_path;
    const char *env;    /* --env, "prod" when not given */
    const char *out;    /* --out, NULL for the per-service default */
    int to_stdout;
    int dry_run;
    int force;
    int json;               /* show --json */
    double max_exposure;    /* verify --max-exposure, < 0 when not given */
    size_t max_memory_mib;  /* --max-memory */
    double timeout_seconds; /* --timeout */
    const char *sets[MAX_SETS]; /* --set KEY=VALUE, in order */
    int nsets;
    const char *only[MAX_SETS]; /* --only NAME: service names, in order */
    int nonly;
};

enum cli_result {
    CLI_RUN,        /* options are complete: run the command */
    CLI_DONE,       /* --help or --version was printed */
    CLI_USAGE_ERROR /* a message was printed to stderr */
};

enum cli_result cli_parse(int argc, char **argv, struct options *opts);

#endif
