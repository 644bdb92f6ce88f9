#ifndef CSQLITE_SHIM_H
#define CSQLITE_SHIM_H

#include <sqlite3.h>
#include <time.h>

// SQLITE_TRANSIENT is a cast macro Swift cannot import: ask SQLite to copy bound text.
static inline sqlite3_destructor_type csqlite_transient(void) { return SQLITE_TRANSIENT; }

// A busy handler that retries every 250 microseconds until the timeout (milliseconds, passed as
// the handler's argument). SQLite's own busy timeout sleeps 1, 2, 5 ... 100 ms between tries:
// a worker that keeps getting the write lock back (it always has the next request ready) can
// then hold off another worker for hundreds of milliseconds. Short, even retries let the
// waiter in at the holder's next gap.
static int csqlite_busy_retry(void *timeoutMilliseconds, int count) {
    long limit = (long)timeoutMilliseconds * 4;
    if (count >= limit) return 0;
    struct timespec pause = {0, 250000};
    nanosleep(&pause, 0);
    return 1;
}

static inline int csqlite_set_busy_retry(sqlite3 *db, int timeoutMilliseconds) {
    return sqlite3_busy_handler(db, csqlite_busy_retry, (void *)(long)timeoutMilliseconds);
}

#endif
