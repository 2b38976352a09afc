#include "file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FD_TYPE "unitforge.fd"

/* O_NONBLOCK: opening a FIFO without a writer returns at once instead of
 * waiting; the file is then refused by its type, never read. */
static int open_without_blocking(int dirfd, const char *name)
{
    return openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

static int close_owned_fd(lua_State *L)
{
    int *fd = luaL_checkudata(L, 1, FD_TYPE);
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
    return 0;
}

/* A userdata owning a descriptor, so that a Lua error while reading (the
 * memory limit, say) cannot leak it. Never handed to user code. */
static int *push_owned_fd(lua_State *L)
{
    int *fd = lua_newuserdatauv(L, sizeof *fd, 0);
    *fd = -1;
    if (luaL_newmetatable(L, FD_TYPE)) {
        lua_pushcfunction(L, close_owned_fd);
        lua_setfield(L, -2, "__gc");
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
    return fd;
}

static enum file_status status_of_open_failure(void)
{
    if (errno == ENOENT)
        return FILE_MISSING;
    if (errno == ENXIO) /* a socket */
        return FILE_NOT_REGULAR;
    return FILE_ERROR;
}

static int read_into(lua_State *L, int fd)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (;;) {
        char *chunk = luaL_prepbuffer(&b);
        ssize_t n = read(fd, chunk, LUAL_BUFFERSIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        luaL_addsize(&b, (size_t)n);
    }
    luaL_pushresult(&b);
    return 0;
}

enum file_status file_push_regular(lua_State *L, const char *path, size_t *len)
{
    int *fd = push_owned_fd(L);
    *fd = open_without_blocking(AT_FDCWD, path);
    if (*fd < 0) {
        enum file_status status = status_of_open_failure();
        int saved = errno;
        lua_pop(L, 1);
        errno = saved;
        return status;
    }
    struct stat st;
    enum file_status status = FILE_OK;
    if (fstat(*fd, &st) != 0)
        status = FILE_ERROR;
    else if (!S_ISREG(st.st_mode))
        status = FILE_NOT_REGULAR;
    else if (read_into(L, *fd) != 0)
        status = FILE_ERROR;
    int saved = errno;
    close(*fd);
    *fd = -1;
    if (status != FILE_OK) {
        lua_pop(L, 1);
        errno = saved;
        return status;
    }
    lua_remove(L, -2);
    lua_tolstring(L, -1, len);
    return FILE_OK;
}

const char *file_status_text(enum file_status status)
{
    switch (status) {
    case FILE_NOT_REGULAR:
        return "it is not a regular file";
    case FILE_MISSING:
    case FILE_ERROR:
        return strerror(errno);
    case FILE_OK:
        break;
    }
    return "no error";
}

static enum file_comparison compare_contents(int fd, const char *data, size_t len)
{
    char buf[65536];
    size_t seen = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return FILE_UNREADABLE;
        if (n == 0)
            return seen == len ? FILE_SAME : FILE_DIFFERENT;
        if ((size_t)n > len - seen || memcmp(buf, data + seen, (size_t)n) != 0)
            return FILE_DIFFERENT;
        seen += (size_t)n;
    }
}

enum file_comparison file_compare(int dirfd, const char *name, const char *data, size_t len)
{
    int fd = open_without_blocking(dirfd, name);
    if (fd < 0)
        return errno == ENOENT ? FILE_ABSENT : errno == ENXIO ? FILE_IN_THE_WAY : FILE_UNREADABLE;
    struct stat st;
    enum file_comparison result;
    if (fstat(fd, &st) != 0)
        result = FILE_UNREADABLE;
    else if (!S_ISREG(st.st_mode))
        result = FILE_IN_THE_WAY;
    else if ((size_t)st.st_size != len)
        result = FILE_DIFFERENT;
    else
        result = compare_contents(fd, data, len);
    int saved = errno;
    close(fd);
    errno = saved;
    return result;
}

int file_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}
