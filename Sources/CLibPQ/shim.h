#ifndef CLIBPQ_SHIM_H
#define CLIBPQ_SHIM_H
#include <libpq-fe.h>
#include <poll.h>

/// PG_DIAG_* are character-literal macros ('C'), which the Swift importer skips.
static const int CLibPQ_PG_DIAG_SQLSTATE = PG_DIAG_SQLSTATE;
static const int CLibPQ_PG_DIAG_MESSAGE_PRIMARY = PG_DIAG_MESSAGE_PRIMARY;

/// Non-blocking probe of an idle connection: a terminated backend leaves the socket readable (a FATAL message,
/// then EOF), while a healthy idle one has nothing to read (we never LISTEN). Any unexpected byte therefore
/// retires the connection: reading the FATAL message alone would still leave PQstatus at CONNECTION_OK.
/// Returns 1 when the connection must not be reused.
static inline int CLibPQ_idle_connection_is_dead(PGconn *conn) {
    if (PQstatus(conn) != CONNECTION_OK) return 1;
    int fd = PQsocket(conn);
    if (fd < 0) return 1;
    struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
    int ready = poll(&p, 1, 0);
    if (ready < 0) return 1;
    return ready != 0;
}
#endif
