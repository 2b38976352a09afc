#ifndef UNITFORGE_MIX_PROJECT_H
#define UNITFORGE_MIX_PROJECT_H

#include <stddef.h>

/* Reads `app: :name` from the mix.exs in `dir` into `name`. Returns 1
 * when found, 0 when there is no mix.exs or no app name in it. */
int mix_project_app_name(const char *dir, char *name, size_t size);

#endif
