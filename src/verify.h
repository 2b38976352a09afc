#ifndef UNITFORGE_VERIFY_H
#define UNITFORGE_VERIFY_H

#include <stddef.h>

struct verify_unit {
    const char *name; /* may be a drop-in, UNIT.d/NAME.conf */
    const char *text;
    size_t len;
};

/* `unitforge verify`: installs the units into a throw-away root holding
 * systemd's own units and stub executables for every command they run,
 * runs strict `systemd-analyze verify` (exit 0 and no output) and
 * `systemd-analyze security --offline=yes` on each service, and prints
 * the findings and exposure scores. Returns the exit status: 0, or 1 on
 * any finding or a score above `max_exposure` (when >= 0). Uses no Lua. */
int verify_units(const struct verify_unit *units, size_t n, double max_exposure);

/* The exposure score and level of each service unit (-1 for other units,
 * or for all when systemd-analyze is missing), quietly: for `show`.
 * Returns 0, or -1 when no score could be had. Uses no Lua. */
int verify_exposures(const struct verify_unit *units, size_t n, double *scores, char (*levels)[32]);

#endif
