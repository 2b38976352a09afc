#ifndef UNITFORGE_COMMAND_LINE_H
#define UNITFORGE_COMMAND_LINE_H

/* What systemd does with an Exec*= command line before anything runs
 * (systemd.service(5) "Command lines"): it splits the line into commands
 * at lone ';' words and each command into words, unquoting them; the
 * first word, after the prefixes -@:+!|, is the executable. A command
 * line systemd would refuse is refused here, with the reason. */

/* The prefix characters an executable may carry. */
#define COMMAND_PREFIXES "-@:+!|"

/* Why systemd `version` would refuse the command line, or NULL. Only
 * where `several` may it hold more than one command (';' between). */
const char *command_line_problem(const char *line, long version, int several);

/* Why systemd would refuse `path` as an executable (already unquoted,
 * prefixes removed), or NULL. */
const char *command_executable_problem(const char *path, long version);

#endif
