/* libFuzzer target: the mix.exs reader. Any bytes must be read without
 * crashing or reading past the buffer (the input is copied to a buffer
 * of exactly its size, with no NUL after it, so AddressSanitizer sees
 * any overread), and a name it returns must be a well-formed atom that
 * fits: nothing else can be a Mix app name. */
#include "mix_project.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int is_atom_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '@';
}

static void check_name(const char *name, size_t size)
{
    size_t len = strnlen(name, size);
    if (len == 0 || len >= size)
        abort();
    for (size_t i = 0; i < len; i++)
        if (!is_atom_char(name[i]) && !(i == len - 1 && (name[i] == '?' || name[i] == '!')))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    /* a roomy buffer and one just big enough for short names: the
     * size limit must hold in both */
    static const size_t sizes[] = {256, 4};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        char name[256];
        memset(name, 'x', sizeof name);
        if (mix_project_parse_app_name(text, size, name, sizes[i]))
            check_name(name, sizes[i]);
    }
    free(text);
    return 0;
}
