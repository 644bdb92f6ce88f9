#ifndef PREFORK_CLDAP_H
#define PREFORK_CLDAP_H

// OpenLDAP's libldap (Debian libldap-dev, nixpkgs openldap): imported only by the LDAP module.
// LDAP_DEPRECATED 0 keeps the old synchronous calls (ldap_simple_bind_s...) out of sight.
#define LDAP_DEPRECATED 0
#include <ldap.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

// ldap_set_option takes a pointer whose target's type depends on the option, and
// LDAP_OPT_ON/OFF and LDAP_SASL_SIMPLE are pointer macros Swift cannot import: one typed
// setter per kind of value instead. Each returns LDAP_OPT_SUCCESS (0) or LDAP_OPT_ERROR.

static inline int cldap_set_int(LDAP *ld, int option, int value) {
    return ldap_set_option(ld, option, &value);
}

static inline int cldap_set_flag(LDAP *ld, int option, int on) {
    return ldap_set_option(ld, option, on ? LDAP_OPT_ON : LDAP_OPT_OFF);
}

static inline int cldap_set_string(LDAP *ld, int option, const char *value) {
    return ldap_set_option(ld, option, value);
}

// LDAP_OPT_NETWORK_TIMEOUT, LDAP_OPT_TIMEOUT: a struct timeval.
static inline int cldap_set_timeval(LDAP *ld, int option, long seconds, long microseconds) {
    struct timeval value = { .tv_sec = seconds, .tv_usec = microseconds };
    return ldap_set_option(ld, option, &value);
}

// The diagnostic message of the last failed operation (the server's text, or libldap's, e.g.
// the TLS library's reason); NULL if none. Free with ldap_memfree.
static inline char *cldap_diagnostic_message(LDAP *ld) {
    char *message = NULL;
    if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &message) != LDAP_OPT_SUCCESS) return NULL;
    return message;
}

// A simple bind (RFC 4513 5.1.3): the password as LENGTH bytes, so any bytes may be in it.
static inline int cldap_simple_bind(LDAP *ld, const char *dn, const char *password, size_t length) {
    struct berval credentials = { .bv_len = (ber_len_t)length, .bv_val = (char *)password };
    return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &credentials, NULL, NULL, NULL);
}

// A subtree search that waits at most the given time; the server is asked for the same
// limit (ldap_search_ext_s sends the timeout's seconds, at least 1, as the time limit).
static inline int cldap_search_subtree(LDAP *ld, const char *base, const char *filter, char **attributes,
                                       long seconds, long microseconds, LDAPMessage **result) {
    struct timeval timeout = { .tv_sec = seconds, .tv_usec = microseconds };
    return ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE, filter, attributes, 0, NULL, NULL, &timeout,
                             LDAP_NO_LIMIT, result);
}

// A TLS handshake watchdog. libldap 2.5 with GnuTLS (Debian's) spins on EAGAIN in
// gnutls_handshake when the server accepts the connection and never answers, whatever the
// network timeout: the call never returns. libldap calls LDAP_OPT_X_TLS_CONNECT_CB just before
// each handshake (LDAPS and StartTLS); there the watchdog takes a duplicate of the socket and
// starts a thread that shuts the socket down at the deadline, which ends the handshake with
// an error. cldap_watchdog_disarm, after the libldap call, stops the thread. The duplicate is
// the watchdog's own, so it cannot hit a descriptor number libldap has closed and reused.
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct timespec deadline;  // CLOCK_MONOTONIC
    pthread_t thread;
    int socket;                // the duplicate, or -1
    int running;
    int disarmed;
    int fired;
} cldap_watchdog;

static inline cldap_watchdog *cldap_watchdog_new(void) {
    cldap_watchdog *watchdog = calloc(1, sizeof(cldap_watchdog));
    if (watchdog == NULL) return NULL;
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&watchdog->changed, &attributes);
    pthread_condattr_destroy(&attributes);
    pthread_mutex_init(&watchdog->lock, NULL);
    watchdog->socket = -1;
    return watchdog;
}

static inline void *cldap_watchdog_run(void *argument) {
    cldap_watchdog *watchdog = argument;
    pthread_mutex_lock(&watchdog->lock);
    int result = 0;
    while (!watchdog->disarmed && result != ETIMEDOUT) {
        result = pthread_cond_timedwait(&watchdog->changed, &watchdog->lock, &watchdog->deadline);
    }
    if (!watchdog->disarmed) {
        shutdown(watchdog->socket, SHUT_RDWR);
        watchdog->fired = 1;
    }
    pthread_mutex_unlock(&watchdog->lock);
    return NULL;
}

// Sets the deadline (seconds and nanoseconds on CLOCK_MONOTONIC) for the next handshake.
static inline void cldap_watchdog_set_deadline(cldap_watchdog *watchdog, long seconds, long nanoseconds) {
    pthread_mutex_lock(&watchdog->lock);
    watchdog->deadline.tv_sec = seconds;
    watchdog->deadline.tv_nsec = nanoseconds;
    pthread_mutex_unlock(&watchdog->lock);
}

// LDAP_OPT_X_TLS_CONNECT_CB: arg is the watchdog.
static inline void cldap_watchdog_arm(LDAP *ld, void *ssl, void *ctx, void *arg) {
    (void)ssl;
    (void)ctx;
    cldap_watchdog *watchdog = arg;
    ber_socket_t descriptor = -1;
    if (ldap_get_option(ld, LDAP_OPT_DESC, &descriptor) != LDAP_OPT_SUCCESS || descriptor < 0) return;
    pthread_mutex_lock(&watchdog->lock);
    if (!watchdog->running) {
        watchdog->socket = dup(descriptor);
        watchdog->disarmed = 0;
        if (watchdog->socket >= 0 &&
            pthread_create(&watchdog->thread, NULL, cldap_watchdog_run, watchdog) == 0) {
            watchdog->running = 1;
        } else if (watchdog->socket >= 0) {
            close(watchdog->socket);
            watchdog->socket = -1;
        }
    }
    pthread_mutex_unlock(&watchdog->lock);
}

static inline int cldap_watchdog_install(LDAP *ld, cldap_watchdog *watchdog) {
    // libldap's LDAP_TLS_CONNECT_CB type is in a private header; this is its signature.
    void (*callback)(LDAP *, void *, void *, void *) = cldap_watchdog_arm;
    if (ldap_set_option(ld, LDAP_OPT_X_TLS_CONNECT_CB, (void *)callback) != LDAP_OPT_SUCCESS) return -1;
    return ldap_set_option(ld, LDAP_OPT_X_TLS_CONNECT_ARG, watchdog);
}

// Stops the thread if one runs; returns 1 if it shut the socket down, else 0.
static inline int cldap_watchdog_disarm(cldap_watchdog *watchdog) {
    pthread_mutex_lock(&watchdog->lock);
    int running = watchdog->running;
    watchdog->disarmed = 1;
    pthread_cond_signal(&watchdog->changed);
    pthread_mutex_unlock(&watchdog->lock);
    if (running) pthread_join(watchdog->thread, NULL);
    pthread_mutex_lock(&watchdog->lock);
    int fired = watchdog->fired;
    if (watchdog->socket >= 0) close(watchdog->socket);
    watchdog->socket = -1;
    watchdog->running = 0;
    watchdog->fired = 0;
    pthread_mutex_unlock(&watchdog->lock);
    return fired;
}

static inline void cldap_watchdog_free(cldap_watchdog *watchdog) {
    if (watchdog == NULL) return;
    cldap_watchdog_disarm(watchdog);
    pthread_cond_destroy(&watchdog->changed);
    pthread_mutex_destroy(&watchdog->lock);
    free(watchdog);
}

// libldap writes to its socket with plain write(): a server that has closed the connection
// raises SIGPIPE, which kills a process that does not ignore it. Around each call the thread
// blocks SIGPIPE; one raised meanwhile is taken off the pending set before the mask is put
// back, unless one was pending already (as libpq does).
typedef struct {
    sigset_t saved;
    int was_pending;
} cldap_sigpipe_guard;

static inline void cldap_block_sigpipe(cldap_sigpipe_guard *guard) {
    sigset_t pipe, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigpending(&pending);
    guard->was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &guard->saved);
}

static inline void cldap_restore_sigpipe(const cldap_sigpipe_guard *guard) {
    sigset_t pipe, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigpending(&pending);
    if (!guard->was_pending && sigismember(&pending, SIGPIPE)) {
        struct timespec none = { 0, 0 };
        sigtimedwait(&pipe, NULL, &none);
    }
    pthread_sigmask(SIG_SETMASK, &guard->saved, NULL);
}

#endif
