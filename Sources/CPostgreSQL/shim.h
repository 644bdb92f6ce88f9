#ifndef PREFORK_CPOSTGRESQL_H
#define PREFORK_CPOSTGRESQL_H

#include <libpq-fe.h>

// PG_DIAG_* are character-literal macros; as functions Swift imports them as plain ints.
static inline int cpostgresql_diag_sqlstate(void) { return PG_DIAG_SQLSTATE; }
static inline int cpostgresql_diag_message_primary(void) { return PG_DIAG_MESSAGE_PRIMARY; }

// A notice processor that drops notices: libpq's default prints them ("NOTICE: relation
// ... already exists, skipping") on the worker's stderr.
static inline void cpostgresql_ignore_notice(void *argument, const char *message) {
    (void)argument;
    (void)message;
}

#endif
