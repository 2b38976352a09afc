#include "problems.h"

#include "failure.h"

#include <lauxlib.h>

#include <stdarg.h>

void problems_init(lua_State *L, struct problems *p)
{
    lua_newtable(L);
    p->list = lua_gettop(L);
    p->count = 0;
}

void problems_add(lua_State *L, struct problems *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    lua_rawseti(L, p->list, ++p->count);
}

void problems_append(lua_State *L, struct problems *p, int index)
{
    int on_top = index == -1 || index == lua_gettop(L);
    index = lua_absindex(L, index);
    for (lua_Integer i = 1; lua_rawgeti(L, index, i) != LUA_TNIL; i++)
        lua_rawseti(L, p->list, ++p->count);
    lua_pop(L, on_top ? 2 : 1);
}

void problems_raise(lua_State *L, struct problems *p)
{
    problems_raise_as(L, p, EXIT_INVALID_CONFIG);
}

void problems_raise_as(lua_State *L, struct problems *p, enum exit_status exit_status)
{
    if (p->count == 0) {
        lua_remove(L, p->list);
        return;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= p->count; i++) {
        if (i > 1)
            luaL_addchar(&b, '\n');
        lua_rawgeti(L, p->list, i);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    failure_raise_top(L, exit_status);
}

int problems_warn(lua_State *L, struct problems *p)
{
    for (int i = 1; i <= p->count; i++) {
        lua_rawgeti(L, p->list, i);
        size_t len;
        const char *line = lua_tolstring(L, -1, &len);
        fputs("unitforge: warning: ", stderr);
        failure_print_text(stderr, line, len);
        fputc('\n', stderr);
        lua_pop(L, 1);
    }
    lua_remove(L, p->list);
    return p->count;
}
