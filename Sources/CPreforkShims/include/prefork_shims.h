// Small C helpers for Prefork. Swift cannot import function-like macros (WIFEXITED...) or
// a packed struct (epoll_event on x86_64) faithfully, and a signal handler is safest in C.
// Every function here is prefixed `prefork_` and does one thing.
#ifndef PREFORK_SHIMS_H
#define PREFORK_SHIMS_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/epoll.h>

// epoll and accept4 are not in Swift's Glibc module; these are the values Swift uses.
static const uint32_t PREFORK_EPOLLIN = EPOLLIN;
static const uint32_t PREFORK_EPOLLOUT = EPOLLOUT;
static const uint32_t PREFORK_EPOLLERR = EPOLLERR;
static const uint32_t PREFORK_EPOLLHUP = EPOLLHUP;
static const uint32_t PREFORK_EPOLLRDHUP = EPOLLRDHUP;
static const uint32_t PREFORK_EPOLLEXCLUSIVE = EPOLLEXCLUSIVE;
static const int PREFORK_EPOLL_CTL_ADD = EPOLL_CTL_ADD;
static const int PREFORK_EPOLL_CTL_DEL = EPOLL_CTL_DEL;
static const int PREFORK_EPOLL_CTL_MOD = EPOLL_CTL_MOD;

/// epoll_create1(EPOLL_CLOEXEC).
int prefork_epoll_create(void);
/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC.
int prefork_accept(int fd, void *address, uint32_t *length);
/// 8 random bytes from getrandom(2) (0 if it fails).
uint64_t prefork_random64(void);

// MARK: - wait(2) status macros

int prefork_wexitstatus(int status);
int prefork_wifsignaled(int status);
int prefork_wtermsig(int status);
int prefork_wcoredump(int status);

// MARK: - Process

/// fork(2). Swift marks fork unavailable on some platforms; the master is single-threaded.
pid_t prefork_fork(void);
/// The number of threads of this process, from /proc/self/task; -1 if it cannot be read.
int prefork_thread_count(void);
/// Gives the kernel back the free pages of the heap (glibc's malloc_trim(0)); a no-op elsewhere.
void prefork_release_free_heap(void);
/// Sets the process title seen in ps/top by overwriting argv (no-op if argv was not saved).
void prefork_set_proctitle(const char *title);
/// Remembers argv for prefork_set_proctitle; call once from main before anything else.
void prefork_save_argv(int argc, char **argv);

// MARK: - Signals (self-pipe)

/// pipe2(O_NONBLOCK | O_CLOEXEC): fds[0] reads, fds[1] writes.
int prefork_pipe(int fds[2]);

/// Installs a handler for each of `signals` that writes the signal number as one byte to
/// `write_fd` (non-blocking) and does nothing else. errno is preserved. SA_RESTART is not set.
int prefork_install_signal_pipe(int write_fd, const int *signals, int count);
/// Restores SIG_DFL for each signal and unblocks all signals (in a new worker).
void prefork_reset_signals(const int *signals, int count);
/// Sets `signo` to SIG_IGN.
int prefork_ignore_signal(int signo);

// MARK: - epoll

/// epoll_ctl with `data.u64 = token`.
int prefork_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token);
/// epoll_wait that unpacks events into `tokens` and `events` (max `max` entries).
int prefork_epoll_wait(int epfd, uint64_t *tokens, uint32_t *events, int max, int timeout_ms);

// MARK: - Clocks

/// CLOCK_MONOTONIC in nanoseconds.
int64_t prefork_monotonic_ns(void);
/// CLOCK_MONOTONIC_COARSE in nanoseconds (vDSO, a few ns; resolution ~4 ms).
int64_t prefork_monotonic_coarse_ns(void);
/// CLOCK_REALTIME in nanoseconds.
int64_t prefork_realtime_ns(void);

// MARK: - Scoreboard slot (shared memory, one per worker)

enum {
    PREFORK_SLOT_FREE = 0,
    PREFORK_SLOT_BOOTING = 1,
    PREFORK_SLOT_IDLE = 2,
    PREFORK_SLOT_BUSY = 3,
    PREFORK_SLOT_DRAINING = 4,
    PREFORK_SLOT_EXITED = 5,
};

enum {
    PREFORK_KIND_HTTP = 0,
    PREFORK_KIND_JOB = 1,
};

enum {
    PREFORK_STATUS_CLASSES = 5,
    /// Request duration buckets: 5, 10, 25, 50, 100, 250, 500 ms, 1, 2.5, 5, 10 s, and above.
    PREFORK_DURATION_BUCKETS = 12,
    /// Worker exit causes (PreforkCore's ExitCause, in its order).
    PREFORK_EXIT_CAUSES = 8,
    /// Application metrics (swift-metrics) the shared table holds.
    PREFORK_APP_METRICS_MAX = 256,
    PREFORK_APP_NAME_MAX = 96,
    PREFORK_APP_LABELS_MAX = 160,
};

enum {
    PREFORK_SLOT_METHOD_MAX = 16,
    PREFORK_SLOT_PATH_MAX = 200,
    PREFORK_SLOT_RID_MAX = 64,
};

/// One worker's slot. Written only by its worker (except `pid`/`generation`, set by the master
/// before fork). The in-flight request fields are guarded by `seq` (a seqlock): odd while the
/// worker writes them; the master copies them with prefork_slot_read_request.
typedef struct {
    int32_t pid;
    uint32_t state;               // PREFORK_SLOT_*
    uint64_t generation;
    uint64_t requests;            // requests served (completed)
    uint64_t retire_requested;    // 1: worker reached max_requests, 2: over max_worker_memory; asks to be replaced
    int64_t heartbeat_ns;         // CLOCK_MONOTONIC of the worker's last loop turn
    uint32_t connections;         // open client connections
    uint32_t seq;
    int64_t request_start_ns;     // CLOCK_MONOTONIC when the in-flight request started; 0 = none
    char method[PREFORK_SLOT_METHOD_MAX];
    char path[PREFORK_SLOT_PATH_MAX];
    char request_id[PREFORK_SLOT_RID_MAX];
    uint64_t memory_kib;          // the worker's own memory (USS) when it last measured it; 0 = not measured
    uint32_t kind;                // PREFORK_KIND_*, set by the master before fork
    uint32_t padding;
    // The worker's response counters (metrics); folded into the totals when it is reaped.
    uint64_t status_classes[PREFORK_STATUS_CLASSES];       // 1xx..5xx
    uint64_t duration_buckets[PREFORK_DURATION_BUCKETS];   // per bucket, not cumulative
    uint64_t duration_sum_us;
} prefork_slot;

/// A copy of a slot's in-flight request, taken consistently.
typedef struct {
    int64_t request_start_ns;
    char method[PREFORK_SLOT_METHOD_MAX];
    char path[PREFORK_SLOT_PATH_MAX];
    char request_id[PREFORK_SLOT_RID_MAX];
} prefork_slot_request;

/// What the master adds up from the slots of reaped workers, so counters never go back when a
/// worker is replaced. Written by the master only, under `seq` (a seqlock).
typedef struct {
    uint32_t seq;
    uint32_t padding;
    int64_t started_realtime_ns;  // when the server (first master) started
    uint64_t requests;
    uint64_t status_classes[PREFORK_STATUS_CLASSES];
    uint64_t duration_buckets[PREFORK_DURATION_BUCKETS];
    uint64_t duration_sum_us;
    uint64_t exits[PREFORK_EXIT_CAUSES];
} prefork_totals;

/// One application metric (swift-metrics) shared by every process: found by name and labels,
/// claimed once (state 0 free, 1 being claimed, 2 ready), then updated with atomics.
typedef struct {
    uint32_t state;
    uint32_t kind;                // PreforkCore's AppMetricKind raw value
    uint64_t hash;
    char name[PREFORK_APP_NAME_MAX];
    char labels[PREFORK_APP_LABELS_MAX];  // rendered: a="x",b="y"
    uint64_t bits;                // counter: int64; gauge: double bits; summary: sum as double bits
    uint64_t count;               // summary: observations
} prefork_app_metric;

/// The shared memory of a server: totals, application metrics, then the worker slots. In a
/// memfd, so a re-executed master (USR2) maps the same pages its workers use.
typedef struct {
    uint32_t magic;
    uint32_t slot_count;
    prefork_totals totals;
    prefork_app_metric app[PREFORK_APP_METRICS_MAX];
    prefork_slot slots[];
} prefork_shared;

/// Creates the shared memory (memfd, close-on-exec) with `slot_count` zeroed slots; stores the
/// memfd in `*fd_out`. NULL on failure (errno set).
prefork_shared *prefork_shared_create(int slot_count, int *fd_out);
/// Maps the shared memory of an inherited memfd. NULL on failure or a foreign layout.
prefork_shared *prefork_shared_attach(int fd);

/// The first worker slot, and application metric `index`.
prefork_slot *prefork_shared_slots(prefork_shared *shared);
prefork_app_metric *prefork_shared_app(prefork_shared *shared, int index);

/// A consistent sum of the totals and the live HTTP workers' slots, and workers by state.
typedef struct {
    prefork_totals sums;
    uint32_t workers[5];          // booting, idle, busy, draining, job
    uint32_t in_flight;
} prefork_metrics_snapshot;

/// Counts a response in the worker's slot.
void prefork_slot_record_response(prefork_slot *slot, int status, int64_t duration_ns);
/// Adds a reaped worker's counters to the totals and frees its slot, in one seqlock window.
void prefork_shared_retire_slot(prefork_shared *shared, int index);
void prefork_shared_count_exit(prefork_shared *shared, int cause);
void prefork_shared_snapshot(const prefork_shared *shared, prefork_metrics_snapshot *out);

/// The application metric of this kind, name and labels, claimed if new; NULL when the table is full.
prefork_app_metric *prefork_app_metric_get(prefork_shared *shared, uint32_t kind, const char *name,
                                           const char *labels);
void prefork_app_metric_add_int(prefork_app_metric *metric, int64_t amount);
void prefork_app_metric_set_int(prefork_app_metric *metric, int64_t value);
void prefork_app_metric_add_double(prefork_app_metric *metric, double amount);
void prefork_app_metric_set_double(prefork_app_metric *metric, double value);
void prefork_app_metric_observe(prefork_app_metric *metric, double value);
/// Reads entry `index` if ready: returns 1 and fills the outputs, else 0.
int prefork_app_metric_read(const prefork_shared *shared, int index, uint32_t *kind, uint64_t *bits,
                            uint64_t *count);

/// A listening TCP socket's accept queue (TCP_INFO): queued connections and the backlog. -1 if not TCP.
int prefork_listen_queue(int fd, uint32_t *queued, uint32_t *backlog);
/// memfd_create(name, MFD_CLOEXEC).
int prefork_memfd(const char *name);
/// Clears or sets FD_CLOEXEC.
int prefork_set_cloexec(int fd, int on);

void prefork_slot_begin_request(prefork_slot *slot, int64_t now_ns,
                                const uint8_t *method, size_t method_len,
                                const uint8_t *path, size_t path_len,
                                const uint8_t *rid, size_t rid_len);
void prefork_slot_end_request(prefork_slot *slot);
/// Copies the in-flight request (request_start_ns = 0 when idle). Returns 1 on success.
int prefork_slot_read_request(const prefork_slot *slot, prefork_slot_request *out);
void prefork_slot_store_state(prefork_slot *slot, uint32_t state);
uint32_t prefork_slot_load_state(const prefork_slot *slot);
void prefork_slot_store_heartbeat(prefork_slot *slot, int64_t now_ns);
int64_t prefork_slot_load_heartbeat(const prefork_slot *slot);

// MARK: - Sockets

/// Sets an int socket option; returns setsockopt's result.
int prefork_setsockopt_int(int fd, int level, int name, int value);

// MARK: - Files

/// sendfile(2) from `in_fd` at `*offset` (advanced by the bytes sent) to `out_fd`.
ssize_t prefork_sendfile(int out_fd, int in_fd, int64_t *offset, size_t count);

/// libFuzzer's driver (only `prefork-fuzz`, built with -sanitize=fuzzer, calls it).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
