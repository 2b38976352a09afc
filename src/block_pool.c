#include "block_pool.h"

#include <stdlib.h>
#include <string.h>

#define GRAIN 16
#define POOLED_MAX (GRAIN * 16)
#define CHUNK_SIZE (256 * 1024)

#ifdef NDEBUG
#define POOLING 1
#else
#define POOLING 0
#endif

/* Size classes: 1..16 grains; 0 for a block malloc serves. */
static size_t class_of(size_t size)
{
    return POOLING && size <= POOLED_MAX ? (size + GRAIN - 1) / GRAIN : 0;
}

static void *take(struct block_pool *pool, size_t class)
{
    void **list = &pool->free_lists[class - 1];
    if (*list) {
        void *block = *list;
        memcpy(list, block, sizeof(void *)); /* its first word links the next */
        return block;
    }
    size_t size = class * GRAIN;
    if (pool->chunk_room < size) {
        /* the rest of the old chunk is left: at most 255 bytes */
        char *chunk = malloc(CHUNK_SIZE);
        if (!chunk)
            return NULL;
        memcpy(chunk, &pool->chunks, sizeof(void *)); /* the first grain links the chunks */
        pool->chunks = chunk;
        pool->chunk_left = chunk + GRAIN;
        pool->chunk_room = CHUNK_SIZE - GRAIN;
    }
    void *block = pool->chunk_left;
    pool->chunk_left += size;
    pool->chunk_room -= size;
    return block;
}

static void give(struct block_pool *pool, void *block, size_t class)
{
    void **list = &pool->free_lists[class - 1];
    memcpy(block, list, sizeof(void *));
    *list = block;
}

void *block_pool_resize(struct block_pool *pool, void *block, size_t old_size, size_t new_size)
{
    size_t old_class = block ? class_of(old_size) : 0, new_class = class_of(new_size);
    if (new_size == 0) {
        if (old_class)
            give(pool, block, old_class);
        else
            free(block);
        return NULL;
    }
    if (!old_class && !new_class)
        return realloc(block, new_size);
    if (block && old_class == new_class)
        return block;
    void *moved = new_class ? take(pool, new_class) : malloc(new_size);
    if (!moved)
        return NULL;
    if (block) {
        memcpy(moved, block, old_size < new_size ? old_size : new_size);
        if (old_class)
            give(pool, block, old_class);
        else
            free(block);
    }
    return moved;
}

void block_pool_release(struct block_pool *pool)
{
    while (pool->chunks) {
        void *chunk = pool->chunks, *next;
        memcpy(&next, chunk, sizeof next);
        free(chunk);
        pool->chunks = next;
    }
    memset(pool, 0, sizeof *pool);
}
