#include "lib/error.h"
#include "lib/printf.h"
#include <stdarg.h>

bool fail(char *why, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
    return false;
}
