#ifndef UNITFORGE_SYSTEMD_NAMES_H
#define UNITFORGE_SYSTEMD_NAMES_H

/* Names systemd 252 knows in the strict profile's knobs, so that a typo
 * is refused instead of being dropped by systemd with a log line (or, for
 * a capability, silently leaving the bounding set empty). */

int systemd_knows_capability(const char *name);     /* CAP_NET_BIND_SERVICE */
int systemd_knows_address_family(const char *name); /* AF_NETLINK */
int systemd_knows_syscall_group(const char *name);  /* @resources */

#endif
