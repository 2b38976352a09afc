#ifndef UNITFORGE_MIX_PROJECT_H
#define UNITFORGE_MIX_PROJECT_H

#include <stddef.h>

/* The app name Mix would see in the mix.exs text `text` (`len` bytes,
 * any bytes, no NUL needed): the `app:` atom of the keyword list
 * project/0 returns, directly or through a module attribute; in an
 * umbrella (`apps_path:`, no `app:`), `default_release:` or the first
 * release's name, as mix_systemd takes it. Writes it NUL-terminated to
 * `name` and returns 1, or returns 0 when the text is not understood,
 * when code in the module could make project/0 return something else
 * (another definition of it, an attribute set in a block, macros,
 * evaluated code), or when the name does not fit in `size` bytes. */
int mix_project_parse_app_name(const char *text, size_t len, char *name, size_t size);


#endif
