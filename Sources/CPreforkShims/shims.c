#define _GNU_SOURCE
#include "prefork_shims.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// MARK: - wait(2) status macros

int prefork_wexitstatus(int status) { return WEXITSTATUS(status); }
int prefork_wifsignaled(int status) { return WIFSIGNALED(status); }
int prefork_wtermsig(int status) { return WTERMSIG(status); }
int prefork_wcoredump(int status) { return WCOREDUMP(status); }

// MARK: - Process

pid_t prefork_fork(void) { return fork(); }

void prefork_release_free_heap(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

int prefork_thread_count(void) {
    DIR *dir = opendir("/proc/self/task");
    if (dir == NULL) return -1;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] != '.') count++;
    }
    closedir(dir);
    return count;
}

static char *argv_start = NULL;
static size_t argv_space = 0;

void prefork_save_argv(int argc, char **argv) {
    if (argc <= 0 || argv == NULL || argv[0] == NULL) return;
    // Only the contiguous argv strings are ours to overwrite (environ stays intact).
    char *end = argv[0] + strlen(argv[0]) + 1;
    for (int i = 1; i < argc; i++) {
        if (argv[i] != end) break;
        end = argv[i] + strlen(argv[i]) + 1;
    }
    argv_start = argv[0];
    argv_space = (size_t)(end - argv_start);
}

void prefork_set_proctitle(const char *title) {
    if (argv_start == NULL || argv_space < 2) return;
    size_t len = strlen(title);
    if (len > argv_space - 1) len = argv_space - 1;
    memcpy(argv_start, title, len);
    memset(argv_start + len, 0, argv_space - len);
}

// MARK: - Signals

int prefork_pipe(int fds[2]) { return pipe2(fds, O_NONBLOCK | O_CLOEXEC); }

static volatile int signal_pipe_fd = -1;

static void signal_pipe_handler(int signo) {
    int saved = errno;
    unsigned char byte = (unsigned char)signo;
    if (signal_pipe_fd >= 0) {
        ssize_t ignored = write(signal_pipe_fd, &byte, 1);
        (void)ignored;  // a full pipe already holds a wake-up
    }
    errno = saved;
}

int prefork_install_signal_pipe(int write_fd, const int *signals, int count) {
    signal_pipe_fd = write_fd;
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = signal_pipe_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    for (int i = 0; i < count; i++) {
        if (sigaction(signals[i], &action, NULL) != 0) return -1;
    }
    return 0;
}

void prefork_reset_signals(const int *signals, int count) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    for (int i = 0; i < count; i++) sigaction(signals[i], &action, NULL);
    signal_pipe_fd = -1;
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
}

int prefork_ignore_signal(int signo) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = SIG_IGN;
    sigemptyset(&action.sa_mask);
    return sigaction(signo, &action, NULL);
}

// MARK: - epoll

int prefork_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int prefork_accept(int fd, void *address, uint32_t *length) {
    socklen_t len = *length;
    int result = accept4(fd, (struct sockaddr *)address, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    *length = len;
    return result;
}

uint64_t prefork_random64(void) {
    uint64_t value = 0;
    if (getrandom(&value, sizeof(value), 0) != sizeof(value)) return 0;
    return value;
}

int prefork_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token) {
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    event.events = events;
    event.data.u64 = token;
    return epoll_ctl(epfd, op, fd, &event);
}

int prefork_epoll_wait(int epfd, uint64_t *tokens, uint32_t *events, int max, int timeout_ms) {
    struct epoll_event buffer[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, buffer, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        tokens[i] = buffer[i].data.u64;
        events[i] = buffer[i].events;
    }
    return n;
}

// MARK: - Clocks

static int64_t clock_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t prefork_monotonic_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
int64_t prefork_monotonic_coarse_ns(void) { return clock_ns(CLOCK_MONOTONIC_COARSE); }
int64_t prefork_realtime_ns(void) { return clock_ns(CLOCK_REALTIME); }

// MARK: - Scoreboard

static void copy_field(char *dst, size_t cap, const uint8_t *src, size_t len) {
    if (len > cap - 1) len = cap - 1;
    if (len > 0) memcpy(dst, src, len);
    dst[len] = 0;
}

void prefork_slot_begin_request(prefork_slot *slot, int64_t now_ns,
                                const uint8_t *method, size_t method_len,
                                const uint8_t *path, size_t path_len,
                                const uint8_t *rid, size_t rid_len) {
    uint32_t seq = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    copy_field(slot->method, sizeof(slot->method), method, method_len);
    copy_field(slot->path, sizeof(slot->path), path, path_len);
    copy_field(slot->request_id, sizeof(slot->request_id), rid, rid_len);
    slot->request_start_ns = now_ns;
    __atomic_store_n(&slot->seq, seq + 2, __ATOMIC_RELEASE);
    uint32_t idle = PREFORK_SLOT_IDLE;  // a draining worker stays "draining"
    __atomic_compare_exchange_n(&slot->state, &idle, PREFORK_SLOT_BUSY, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

void prefork_slot_end_request(prefork_slot *slot) {
    uint32_t seq = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    slot->request_start_ns = 0;
    __atomic_store_n(&slot->seq, seq + 2, __ATOMIC_RELEASE);
    __atomic_add_fetch(&slot->requests, 1, __ATOMIC_RELAXED);
    uint32_t busy = PREFORK_SLOT_BUSY;
    __atomic_compare_exchange_n(&slot->state, &busy, PREFORK_SLOT_IDLE, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

int prefork_slot_read_request(const prefork_slot *slot, prefork_slot_request *out) {
    for (int attempt = 0; attempt < 100; attempt++) {
        uint32_t before = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
        if (before & 1) continue;
        out->request_start_ns = slot->request_start_ns;
        memcpy(out->method, slot->method, sizeof(out->method));
        memcpy(out->path, slot->path, sizeof(out->path));
        memcpy(out->request_id, slot->request_id, sizeof(out->request_id));
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        uint32_t after = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);
        if (before == after) {
            out->method[sizeof(out->method) - 1] = 0;
            out->path[sizeof(out->path) - 1] = 0;
            out->request_id[sizeof(out->request_id) - 1] = 0;
            return 1;
        }
    }
    return 0;
}

void prefork_slot_store_state(prefork_slot *slot, uint32_t state) {
    __atomic_store_n(&slot->state, state, __ATOMIC_RELEASE);
}

uint32_t prefork_slot_load_state(const prefork_slot *slot) {
    return __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE);
}

void prefork_slot_store_heartbeat(prefork_slot *slot, int64_t now_ns) {
    __atomic_store_n(&slot->heartbeat_ns, now_ns, __ATOMIC_RELAXED);
}

int64_t prefork_slot_load_heartbeat(const prefork_slot *slot) {
    return __atomic_load_n(&slot->heartbeat_ns, __ATOMIC_RELAXED);
}

// MARK: - Sockets

int prefork_setsockopt_int(int fd, int level, int name, int value) {
    return setsockopt(fd, level, name, &value, sizeof(value));
}

// MARK: - Files

ssize_t prefork_sendfile(int out_fd, int in_fd, int64_t *offset, size_t count) {
    off_t position = (off_t)*offset;
    ssize_t sent = sendfile(out_fd, in_fd, &position, count);
    *offset = (int64_t)position;
    return sent;
}
