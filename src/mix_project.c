#include "mix_project.h"

#include "file_io.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_identifier_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Finds the `app:` keyword (not `my_app:`) followed by an atom. */
static int find_app_atom(const char *text, char *name, size_t size)
{
    for (const char *p = strstr(text, "app:"); p; p = strstr(p + 1, "app:")) {
        if (p > text && is_identifier_char(p[-1]))
            continue;
        const char *q = p + 4;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q++ != ':' || !islower((unsigned char)*q))
            continue;
        size_t len = 0;
        while (is_identifier_char(q[len]))
            len++;
        if (len == 0 || len >= size)
            continue;
        memcpy(name, q, len);
        name[len] = '\0';
        return 1;
    }
    return 0;
}

int mix_project_app_name(const char *dir, char *name, size_t size)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/mix.exs", dir) >= (int)sizeof path)
        return 0;
    size_t len;
    char *text = file_read(path, &len);
    if (!text)
        return 0;
    int found = find_app_atom(text, name, size);
    free(text);
    return found;
}
