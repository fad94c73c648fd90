#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/time.h>

/// Non-blocking probe of an idle connection: an idle Redis connection has nothing to read, so a readable or
/// hung-up socket means the server closed it. Returns 1 when the connection is known dead.
static inline int CHiredis_idle_connection_is_dead(redisContext *context) {
    if (context->err != 0 || context->fd < 0) return 1;
    struct pollfd p = { .fd = context->fd, .events = POLLIN, .revents = 0 };
    int ready = poll(&p, 1, 0);
    return ready != 0;
}

/// `struct timeval` from milliseconds (the Swift importer handles the struct, this keeps call sites short).
static inline struct timeval CHiredis_timeval_ms(long milliseconds) {
    struct timeval tv = { .tv_sec = milliseconds / 1000, .tv_usec = (milliseconds % 1000) * 1000 };
    return tv;
}
#endif
