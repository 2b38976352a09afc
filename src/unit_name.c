#include "unit_name.h"

#include <string.h>

static const char *const unit_suffixes[] = {
    ".service", ".socket", ".device", ".mount", ".automount", ".swap", ".target",
    ".path", ".timer", ".slice", ".scope", NULL,
};

static int has_known_suffix(const char *dot)
{
    for (const char *const *s = unit_suffixes; *s; s++)
        if (strcmp(dot, *s) == 0)
            return 1;
    return 0;
}

const char *unit_name_problem(const char *name, int flags)
{
    size_t len = strlen(name);
    if (len == 0 || len > UNIT_NAME_MAX)
        return "must be 1 to 255 characters";
    if (strstr(name, ".."))
        return "must not contain '..'";
    if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@") != len)
        return "may only contain letters, digits and \":-_.\\@\"";
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name)
        return "needs a name before a unit type suffix such as .service";
    if (!has_known_suffix(dot))
        return "does not end in a systemd unit type (.service, .path, .timer, ...)";
    const char *at = strchr(name, '@');
    if (!at)
        return NULL;
    if (at == name || strchr(at + 1, '@') || at > dot)
        return "an instance name is PREFIX@INSTANCE.suffix, with one '@' after a prefix";
    if (at + 1 == dot && !(flags & UNIT_NAME_TEMPLATE_OK))
        return "is a template (PREFIX@.suffix); name an instance of it (PREFIX@INSTANCE.suffix)";
    return NULL;
}
