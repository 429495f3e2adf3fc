/*
 * runner_setup.c - memory locking and stack prefault for the engine process.
 */
#include "runner_setup.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

/* Touches the stack pages the loop will use, so they are resident (and, after mlockall, locked)
 * before the first command. noinline: the array must be a real frame, not optimised away. */
__attribute__((noinline)) static void runner_touch_stack(uint64_t bytes)
{
    volatile unsigned char pages[64 * 1024];
    for (uint64_t i = 0; i < sizeof pages; i += 4096)
        pages[i] = 0;
    if (bytes > sizeof pages)
        runner_touch_stack(bytes - sizeof pages);
}

int runner_lock_memory(uint64_t stack_bytes)
{
    if (stack_bytes > 8u << 20)
        stack_bytes = 8u << 20;
    int rc = mlockall(MCL_CURRENT | MCL_FUTURE) == 0 ? 0 : -errno;
    runner_touch_stack(stack_bytes);
    return rc;
}
