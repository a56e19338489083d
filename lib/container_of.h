#ifndef LIB_CONTAINER_OF_H
#define LIB_CONTAINER_OF_H
#include <stddef.h>
/* The structure of type `type` whose member `member` is at `ptr`. */
#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))
#endif
