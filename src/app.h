#ifndef UNITFORGE_APP_H
#define UNITFORGE_APP_H

struct options;

/* Runs the command the options name; returns the exit status. Errors are
 * printed here and nowhere else. */
int app_run(const struct options *opts);

#endif
