#include "cli.h"

#include "failure.h"
#include "run_limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "Usage: unitforge [generate] FILE.lua [--stdout | --dry-run] [COMMON]...\n"
    "       unitforge show FILE.lua [--json] [COMMON]...\n"
    "       unitforge verify FILE.lua [--max-exposure N] [COMMON]...\n"
    "       unitforge init FILE.lua [--force] [COMMON]...\n"
    "       unitforge help | --help | --version\n"
    "COMMON: --env NAME, --set KEY=VALUE, --only NAME, --out DIR, --timeout S,\n"
    "        --max-memory MIB\n"
    "\n"
    "Turns a Lua config into systemd units.\n"
    "\n"
    "Commands:\n"
    "  generate    write the units (the default command)\n"
    "  show        print the resolved config of each service: every key, its\n"
    "              value and where it came from (default, config, computed,\n"
    "              cli, mix.exs, strict, config+strict ...), and its exposure\n"
    "              score; --json for a machine-readable form\n"
    "  verify      generate into a temporary folder, run systemd-analyze verify\n"
    "              (strict: any finding fails) and print each service's\n"
    "              exposure score from systemd-analyze security; fails on\n"
    "              the run's warnings too\n"
    "  init        copy the built-in templates into templates_dir for editing\n"
    "  help        show this help\n"
    "\n"
    "Options:\n"
    "  --env NAME   environment name, seen by the config as `env` (default: prod)\n"
    "  --set KEY=VALUE\n"
    "               override a key for every service, after the config; VALUE\n"
    "               is read as the key's type: true/false, an integer, a\n"
    "               string, or a comma-separated list (\\, is a comma inside\n"
    "               an item, \\\\ a backslash); false turns an optional key\n"
    "               off and makes a list empty (repeatable)\n"
    "  --only NAME  only the service whose service_name is NAME, of a config\n"
    "               that returns several (repeatable); every service is still\n"
    "               checked\n"
    "  --out DIR    output folder; units go to DIR/lib/systemd/system\n"
    "               (default: _build/<mix_env>/systemd)\n"
    "  --stdout     print the units instead of writing them\n"
    "  --dry-run    report what would be created or updated; write nothing\n"
    "  --json       show: print JSON\n"
    "  --max-exposure N\n"
    "               verify: fail when a service's exposure score is above N\n"
    "  --force      init: overwrite templates that were edited\n"
    "  --timeout S  stop a run that has not started writing after S seconds\n"
    "               (default 10), whatever the config is doing\n"
    "  --max-memory MIB\n"
    "               stop a run whose Lua state needs more than MIB MiB\n"
    "               (default 512)\n"
    "  --help       show this help\n"
    "  --version    show the version\n"
    "\n"
    "Exit status: 0 success, 1 invalid configuration, 2 usage error,\n"
    "3 I/O error while writing.\n";

static enum cli_result usage_error(const char *fmt, const char *arg)
{
    char message[1024];
    snprintf(message, sizeof message, fmt, arg);
    fputs("unitforge: ", stderr);
    failure_print_text(stderr, message, strlen(message));
    fputs("\nTry 'unitforge --help'.\n", stderr);
    return CLI_USAGE_ERROR;
}

/* The env name becomes a folder of the output path (_build/<env>/...),
 * so nothing that could climb out of it is accepted. */
static int env_name_is_safe(const char *env)
{
    if (!*env || strcmp(env, ".") == 0 || strcmp(env, "..") == 0)
        return 0;
    for (const unsigned char *p = (const unsigned char *)env; *p; p++)
        if (*p == '/' || *p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

static int parse_positive(const char *text, long max, long *number)
{
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno || end == text || *end || n < 1 || n > max)
        return 0;
    *number = n;
    return 1;
}

static int parse_command(const char *word, enum command *command)
{
    if (strcmp(word, "generate") == 0)
        *command = COMMAND_GENERATE;
    else if (strcmp(word, "show") == 0)
        *command = COMMAND_SHOW;
    else if (strcmp(word, "verify") == 0)
        *command = COMMAND_VERIFY;
    else if (strcmp(word, "init") == 0)
        *command = COMMAND_INIT;
    else
        return 0;
    return 1;
}

/* Options taking a value accept both "--opt value" and "--opt=value". */
static const char *option_value(const char *name, int argc, char **argv, int *i)
{
    size_t len = strlen(name);
    if (strncmp(argv[*i], name, len) != 0)
        return NULL;
    if (argv[*i][len] == '=')
        return argv[*i] + len + 1;
    if (argv[*i][len] != '\0')
        return NULL;
    if (*i + 1 >= argc)
        return "";
    return argv[++*i];
}

static enum cli_result parse_flag(const char *arg, struct options *opts)
{
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        fputs(usage_text, stdout);
        return CLI_DONE;
    }
    if (strcmp(arg, "--version") == 0) {
        printf("unitforge %s\n", UNITFORGE_VERSION);
        return CLI_DONE;
    }
    if (strcmp(arg, "--stdout") == 0)
        opts->to_stdout = 1;
    else if (strcmp(arg, "--dry-run") == 0)
        opts->dry_run = 1;
    else if (strcmp(arg, "--force") == 0)
        opts->force = 1;
    else if (strcmp(arg, "--json") == 0)
        opts->json = 1;
    else
        return usage_error("unknown option '%s'", arg);
    return CLI_RUN;
}

/* A word in the place of the command that is no file either: a command
 * mistyped or not there yet ("help", "install", "genrate"). A config is
 * a file, and its name has a dot or a slash in it when it is not there. */
static int is_unknown_command(const char *word)
{
    if (!*word || strpbrk(word, "./"))
        return 0;
    for (const char *p = word; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyz-", *p))
            return 0;
    return access(word, F_OK) != 0;
}

static enum cli_result parse_argument(const char *arg, struct options *opts, int *seen_command)
{
    if (!*seen_command && !opts->config_path) {
        if (strcmp(arg, "help") == 0) {
            fputs(usage_text, stdout);
            return CLI_DONE;
        }
        if (parse_command(arg, &opts->command)) {
            *seen_command = 1;
            return CLI_RUN;
        }
        if (is_unknown_command(arg))
            return usage_error("unknown command '%s' (the commands: generate, show, verify, init, help; "
                               "generate, the default, needs only FILE.lua)", arg);
    }
    if (opts->config_path)
        return usage_error("unexpected argument '%s' (one config file, after the command)", arg);
    opts->config_path = arg;
    return CLI_RUN;
}

enum cli_result cli_parse(int argc, char **argv, struct options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->env = "prod";
    opts->max_memory_mib = LIMITS_DEFAULT_MIB;
    opts->timeout_seconds = LIMITS_DEFAULT_SECONDS;
    opts->max_exposure = -1;
    int seen_command = 0;
    long number;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value;
        enum cli_result r = CLI_RUN;
        if ((value = option_value("--env", argc, argv, &i))) {
            if (!env_name_is_safe(value))
                return usage_error("--env '%s' is not a valid environment name "
                                   "(it names a folder: not empty, no '/', not '.' or '..')", value);
            opts->env = value;
        } else if ((value = option_value("--timeout", argc, argv, &i))) {
            if (!parse_positive(value, 86400, &number))
                return usage_error("--timeout needs a number of seconds from 1 to 86400, got '%s'", value);
            opts->timeout_seconds = (double)number;
        } else if ((value = option_value("--max-memory", argc, argv, &i))) {
            if (!parse_positive(value, 1024 * 1024, &number))
                return usage_error("--max-memory needs a number of MiB from 1 to 1048576, got '%s'", value);
            opts->max_memory_mib = (size_t)number;
        } else if ((value = option_value("--set", argc, argv, &i))) {
            if (!strchr(value, '=') || value[0] == '=')
                return usage_error("--set needs KEY=VALUE, got '%s'", value);
            if (opts->nsets == MAX_SETS)
                return usage_error("%s", "too many --set options");
            opts->sets[opts->nsets++] = value;
        } else if ((value = option_value("--only", argc, argv, &i))) {
            if (!*value)
                return usage_error("%s", "--only needs a service name");
            if (opts->nonly == MAX_SETS)
                return usage_error("%s", "too many --only options");
            opts->only[opts->nonly++] = value;
        } else if ((value = option_value("--max-exposure", argc, argv, &i))) {
            char *end;
            opts->max_exposure = strtod(value, &end);
            if (!*value || *end || !(opts->max_exposure >= 0 && opts->max_exposure <= 10))
                return usage_error("--max-exposure needs a score from 0 to 10, got '%s'", value);
        } else if ((value = option_value("--out", argc, argv, &i))) {
            if (!*value)
                return usage_error("%s", "--out needs a folder");
            opts->out = value;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            r = parse_flag(arg, opts);
        } else {
            r = parse_argument(arg, opts, &seen_command);
        }
        if (r != CLI_RUN)
            return r;
    }
    if (!opts->config_path)
        return usage_error("%s", "no config file given (unitforge FILE.lua)");
    if (opts->to_stdout && opts->dry_run)
        return usage_error("%s", "--stdout and --dry-run cannot be combined");
    if (opts->json && opts->command != COMMAND_SHOW)
        return usage_error("%s", "--json goes with the show command");
    if (opts->max_exposure >= 0 && opts->command != COMMAND_VERIFY)
        return usage_error("%s", "--max-exposure goes with the verify command");
    return CLI_RUN;
}
