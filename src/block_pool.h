#ifndef UNITFORGE_BLOCK_POOL_H
#define UNITFORGE_BLOCK_POOL_H

#include <stddef.h>

/* Lua's allocations, with the small ones (strings, tables, closures:
 * nearly all of a run's) served from per-size free lists in large
 * chunks. A run makes and drops hundreds of small objects per service;
 * glibc's malloc spends more on them than the rest of the run does on
 * the service's keys. Blocks are never given back before the end: a
 * run is short, and what it frees it soon makes again.
 *
 * Builds without NDEBUG (Debug, the sanitizers, the fuzz targets) pass
 * every block to malloc, so that valgrind and ASan see each one. */

struct block_pool {
    void *free_lists[16];
    char *chunk_left;   /* unused room of the newest chunk */
    size_t chunk_room;
    void *chunks;       /* every chunk, for block_pool_release */
};

/* realloc's contract, as lua_Alloc has it: `old_size` is the block's
 * size (0 for none); a new_size of 0 frees and returns NULL; NULL on
 * failure leaves the block as it was. */
void *block_pool_resize(struct block_pool *pool, void *block, size_t old_size, size_t new_size);

/* Frees every chunk (after lua_close). */
void block_pool_release(struct block_pool *pool);

#endif
