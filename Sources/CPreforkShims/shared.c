// The server's shared memory: worker slots, the totals the master folds reaped workers into,
// and the application metrics table. Every process maps the same memfd.
#define _GNU_SOURCE
#include "prefork_shims.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint32_t shared_magic = 0x50524631;  // "PRF1"; a new layout takes a new number

static size_t shared_size(int slot_count) {
    return sizeof(prefork_shared) + sizeof(prefork_slot) * (size_t)slot_count;
}

prefork_shared *prefork_shared_create(int slot_count, int *fd_out) {
    int fd = memfd_create("prefork-scoreboard", MFD_CLOEXEC);
    if (fd < 0) return NULL;
    size_t size = shared_size(slot_count);
    if (ftruncate(fd, (off_t)size) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return NULL;
    }
    void *memory = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (memory == MAP_FAILED) {
        int saved = errno;
        close(fd);
        errno = saved;
        return NULL;
    }
    prefork_shared *shared = memory;  // ftruncate zeroed it
    shared->magic = shared_magic;
    shared->slot_count = (uint32_t)slot_count;
    *fd_out = fd;
    return shared;
}

prefork_shared *prefork_shared_attach(int fd) {
    struct stat info;
    if (fstat(fd, &info) != 0 || (size_t)info.st_size < sizeof(prefork_shared)) return NULL;
    void *memory = mmap(NULL, (size_t)info.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (memory == MAP_FAILED) return NULL;
    prefork_shared *shared = memory;
    if (shared->magic != shared_magic || shared_size((int)shared->slot_count) != (size_t)info.st_size) {
        munmap(memory, (size_t)info.st_size);
        errno = EINVAL;
        return NULL;
    }
    return shared;
}

prefork_slot *prefork_shared_slots(prefork_shared *shared) { return &shared->slots[0]; }

prefork_app_metric *prefork_shared_app(prefork_shared *shared, int index) {
    if (index < 0 || index >= PREFORK_APP_METRICS_MAX) return NULL;
    return &shared->app[index];
}

// MARK: - Response counters

static const int64_t bucket_bounds_us[PREFORK_DURATION_BUCKETS - 1] = {
    5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

void prefork_slot_record_response(prefork_slot *slot, int status, int64_t duration_ns) {
    int class_index = status / 100 - 1;
    if (class_index < 0) class_index = 0;
    if (class_index >= PREFORK_STATUS_CLASSES) class_index = PREFORK_STATUS_CLASSES - 1;
    int64_t micros = duration_ns > 0 ? duration_ns / 1000 : 0;
    int bucket = PREFORK_DURATION_BUCKETS - 1;
    for (int i = 0; i < PREFORK_DURATION_BUCKETS - 1; i++) {
        if (micros <= bucket_bounds_us[i]) {
            bucket = i;
            break;
        }
    }
    __atomic_add_fetch(&slot->status_classes[class_index], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&slot->duration_buckets[bucket], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&slot->duration_sum_us, (uint64_t)micros, __ATOMIC_RELAXED);
}

/// Adds a slot's counters into `sums` (HTTP workers only: a job worker's slot counts jobs).
static void add_slot(prefork_totals *sums, const prefork_slot *slot) {
    if (__atomic_load_n(&slot->kind, __ATOMIC_RELAXED) != PREFORK_KIND_HTTP) return;
    sums->requests += __atomic_load_n(&slot->requests, __ATOMIC_RELAXED);
    for (int i = 0; i < PREFORK_STATUS_CLASSES; i++)
        sums->status_classes[i] += __atomic_load_n(&slot->status_classes[i], __ATOMIC_RELAXED);
    for (int i = 0; i < PREFORK_DURATION_BUCKETS; i++)
        sums->duration_buckets[i] += __atomic_load_n(&slot->duration_buckets[i], __ATOMIC_RELAXED);
    sums->duration_sum_us += __atomic_load_n(&slot->duration_sum_us, __ATOMIC_RELAXED);
}

void prefork_shared_retire_slot(prefork_shared *shared, int index) {
    prefork_totals *totals = &shared->totals;
    uint32_t seq = __atomic_load_n(&totals->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&totals->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    prefork_totals sums;
    memcpy(&sums, totals, sizeof(sums));
    add_slot(&sums, &shared->slots[index]);
    __atomic_store_n(&totals->requests, sums.requests, __ATOMIC_RELAXED);
    for (int i = 0; i < PREFORK_STATUS_CLASSES; i++)
        __atomic_store_n(&totals->status_classes[i], sums.status_classes[i], __ATOMIC_RELAXED);
    for (int i = 0; i < PREFORK_DURATION_BUCKETS; i++)
        __atomic_store_n(&totals->duration_buckets[i], sums.duration_buckets[i], __ATOMIC_RELAXED);
    __atomic_store_n(&totals->duration_sum_us, sums.duration_sum_us, __ATOMIC_RELAXED);
    memset(&shared->slots[index], 0, sizeof(prefork_slot));
    __atomic_store_n(&totals->seq, seq + 2, __ATOMIC_RELEASE);
}

void prefork_shared_count_exit(prefork_shared *shared, int cause) {
    if (cause < 0 || cause >= PREFORK_EXIT_CAUSES) return;
    __atomic_add_fetch(&shared->totals.exits[cause], 1, __ATOMIC_RELAXED);
}

void prefork_shared_snapshot(const prefork_shared *shared, prefork_metrics_snapshot *out) {
    for (int attempt = 0; attempt < 1000; attempt++) {
        uint32_t before = __atomic_load_n(&shared->totals.seq, __ATOMIC_ACQUIRE);
        if (before & 1) continue;
        memset(out, 0, sizeof(*out));
        memcpy(&out->sums, &shared->totals, sizeof(out->sums));
        for (uint32_t i = 0; i < shared->slot_count; i++) {
            const prefork_slot *slot = &shared->slots[i];
            uint32_t state = __atomic_load_n(&slot->state, __ATOMIC_RELAXED);
            if (state == PREFORK_SLOT_FREE) continue;
            add_slot(&out->sums, slot);
            if (__atomic_load_n(&slot->kind, __ATOMIC_RELAXED) == PREFORK_KIND_JOB) {
                if (state != PREFORK_SLOT_EXITED) out->workers[4]++;
                continue;
            }
            if (state >= PREFORK_SLOT_BOOTING && state <= PREFORK_SLOT_DRAINING) out->workers[state - 1]++;
            if (__atomic_load_n(&slot->request_start_ns, __ATOMIC_RELAXED) != 0) out->in_flight++;
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&shared->totals.seq, __ATOMIC_RELAXED) == before) return;
    }
}

// MARK: - Application metrics

static uint64_t fnv1a(const char *name, const char *labels) {
    uint64_t hash = 1469598103934665603ULL;
    for (const char *p = name; *p; p++) hash = (hash ^ (uint8_t)*p) * 1099511628211ULL;
    hash = (hash ^ 0xff) * 1099511628211ULL;
    for (const char *p = labels; *p; p++) hash = (hash ^ (uint8_t)*p) * 1099511628211ULL;
    return hash;
}

static int matches(const prefork_app_metric *metric, uint64_t hash, const char *name, const char *labels) {
    return metric->hash == hash && strncmp(metric->name, name, PREFORK_APP_NAME_MAX) == 0 &&
           strncmp(metric->labels, labels, PREFORK_APP_LABELS_MAX) == 0;
}

prefork_app_metric *prefork_app_metric_get(prefork_shared *shared, uint32_t kind, const char *name,
                                           const char *labels) {
    if (strlen(name) >= PREFORK_APP_NAME_MAX || strlen(labels) >= PREFORK_APP_LABELS_MAX) return NULL;
    uint64_t hash = fnv1a(name, labels);
    for (int probe = 0; probe < PREFORK_APP_METRICS_MAX; probe++) {
        prefork_app_metric *metric = &shared->app[(hash + (uint64_t)probe) % PREFORK_APP_METRICS_MAX];
        uint32_t state = __atomic_load_n(&metric->state, __ATOMIC_ACQUIRE);
        if (state == 0) {
            uint32_t expected = 0;
            if (__atomic_compare_exchange_n(&metric->state, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
                metric->kind = kind;
                metric->hash = hash;
                strcpy(metric->name, name);
                strcpy(metric->labels, labels);
                __atomic_store_n(&metric->state, 2, __ATOMIC_RELEASE);
                return metric;
            }
            state = expected;
        }
        // Another process is claiming this entry: it finishes within a few instructions.
        for (int spin = 0; state == 1 && spin < 1000000; spin++) state = __atomic_load_n(&metric->state, __ATOMIC_ACQUIRE);
        if (state == 2 && matches(metric, hash, name, labels)) return metric;
    }
    return NULL;
}

void prefork_app_metric_add_int(prefork_app_metric *metric, int64_t amount) {
    __atomic_add_fetch(&metric->bits, (uint64_t)amount, __ATOMIC_RELAXED);
}

void prefork_app_metric_set_int(prefork_app_metric *metric, int64_t value) {
    __atomic_store_n(&metric->bits, (uint64_t)value, __ATOMIC_RELAXED);
}

static void add_double_bits(uint64_t *bits, double amount) {
    uint64_t old = __atomic_load_n(bits, __ATOMIC_RELAXED);
    while (1) {
        double value;
        memcpy(&value, &old, sizeof(value));
        value += amount;
        uint64_t new_bits;
        memcpy(&new_bits, &value, sizeof(new_bits));
        if (__atomic_compare_exchange_n(bits, &old, new_bits, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return;
    }
}

void prefork_app_metric_add_double(prefork_app_metric *metric, double amount) { add_double_bits(&metric->bits, amount); }

void prefork_app_metric_set_double(prefork_app_metric *metric, double value) {
    uint64_t bits;
    memcpy(&bits, &value, sizeof(bits));
    __atomic_store_n(&metric->bits, bits, __ATOMIC_RELAXED);
}

void prefork_app_metric_observe(prefork_app_metric *metric, double value) {
    add_double_bits(&metric->bits, value);
    __atomic_add_fetch(&metric->count, 1, __ATOMIC_RELAXED);
}

int prefork_app_metric_read(const prefork_shared *shared, int index, uint32_t *kind, uint64_t *bits,
                            uint64_t *count) {
    if (index < 0 || index >= PREFORK_APP_METRICS_MAX) return 0;
    const prefork_app_metric *metric = &shared->app[index];
    if (__atomic_load_n(&metric->state, __ATOMIC_ACQUIRE) != 2) return 0;
    *kind = metric->kind;
    *bits = __atomic_load_n(&metric->bits, __ATOMIC_RELAXED);
    *count = __atomic_load_n(&metric->count, __ATOMIC_RELAXED);
    return 1;
}

// MARK: - Sockets and descriptors

int prefork_listen_queue(int fd, uint32_t *queued, uint32_t *backlog) {
    struct tcp_info info;
    socklen_t length = sizeof(info);
    memset(&info, 0, sizeof(info));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return -1;
    if (info.tcpi_state != TCP_LISTEN) return -1;
    *queued = info.tcpi_unacked;  // for a listening socket: the accept queue's length
    *backlog = info.tcpi_sacked;  // and its limit
    return 0;
}

int prefork_memfd(const char *name) { return memfd_create(name, MFD_CLOEXEC); }

int prefork_set_cloexec(int fd, int on) {
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFD, on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC));
}
