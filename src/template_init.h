#ifndef UNITFORGE_TEMPLATE_INIT_H
#define UNITFORGE_TEMPLATE_INIT_H

#include <lua.h>

/* `unitforge init`: writes the built-in templates into the templates_dir
 * of each resolved config in the array at `configs`. A file that differs
 * from the built-in one is someone's edit and is kept unless `force`. */
void template_init(lua_State *L, int configs, int force);

#endif
