// A persistent thread pool for row-parallel kernels. A decoded token runs ~130 matrix-vector products
// of 20-200 µs each, so starting a job must cost well under a microsecond: workers spin on a
// generation counter for a while after each job (pausing the core between checks) and only then
// sleep on a condition variable. The caller takes part in every job.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include "ckernels.h"

struct ck_pool {
    int threads;
    int64_t spin_ns;
    pthread_t *workers;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    _Atomic uint64_t generation;  // bumped once per job, wakes the workers
    _Atomic int sleeping;         // workers inside (or about to enter) pthread_cond_wait
    _Atomic int stop;
    // Claims: job number in the high 32 bits, first unclaimed item in the low 32. A worker claims a
    // chunk with a compare-and-swap that names the job, so one that wakes late can never claim
    // items of a later job; and the caller waits only for chunks actually claimed, never for a
    // worker that has not been scheduled yet (which matters when the cores are oversubscribed).
    _Atomic uint64_t ticket;
    _Atomic int64_t done;         // items finished in the current job
    // the current job; written by the caller before the ticket is published
    _Atomic int64_t count, chunk;
    _Atomic(ck_task_fn) fn;
    _Atomic(void *) ctx;
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/// Claims and runs chunks of the current job until none are left.
static void work(ck_pool *p, int thread) {
    uint64_t t = atomic_load_explicit(&p->ticket, memory_order_acquire);
    for (;;) {
        int64_t count = atomic_load_explicit(&p->count, memory_order_relaxed);
        int64_t chunk = atomic_load_explicit(&p->chunk, memory_order_relaxed);
        ck_task_fn fn = atomic_load_explicit(&p->fn, memory_order_relaxed);
        void *ctx = atomic_load_explicit(&p->ctx, memory_order_relaxed);
        int64_t begin = (int64_t)(t & 0xffffffffu);
        if (begin >= count) return;
        int64_t end = begin + chunk < count ? begin + chunk : count;
        // on failure t is reloaded: another thread claimed this chunk, or a new job started
        if (!atomic_compare_exchange_weak_explicit(&p->ticket, &t, (t & ~(uint64_t)0xffffffffu) | (uint64_t)end,
                                                   memory_order_acquire, memory_order_acquire))
            continue;
        fn(ctx, begin, end, thread);
        atomic_fetch_add_explicit(&p->done, end - begin, memory_order_release);
        t = atomic_load_explicit(&p->ticket, memory_order_acquire);
    }
}

typedef struct { ck_pool *pool; int index; } worker_arg;

static void *worker_main(void *arg) {
    ck_pool *p = ((worker_arg *)arg)->pool;
    int index = ((worker_arg *)arg)->index;
    free(arg);
    uint64_t seen = 0; // the generation before any job: a job may start before this thread runs
    for (;;) {
        // spin, then sleep, until the generation moves on
        int64_t deadline = now_ns() + p->spin_ns;
        uint64_t g;
        for (int i = 0;; i++) {
            g = atomic_load_explicit(&p->generation, memory_order_acquire);
            if (g != seen || atomic_load_explicit(&p->stop, memory_order_relaxed)) break;
            cpu_relax();
            if ((i & 63) == 63 && now_ns() > deadline) {
                pthread_mutex_lock(&p->lock);
                atomic_fetch_add(&p->sleeping, 1);
                while ((g = atomic_load(&p->generation)) == seen && !atomic_load(&p->stop))
                    pthread_cond_wait(&p->wake, &p->lock);
                atomic_fetch_sub(&p->sleeping, 1);
                pthread_mutex_unlock(&p->lock);
                break;
            }
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = g;
        work(p, index);
    }
}

ck_pool *ck_pool_create(int threads, int spin_us) {
    ck_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = threads < 1 ? 1 : threads;
    p->spin_ns = (int64_t)(spin_us < 0 ? 0 : spin_us) * 1000;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    p->workers = calloc((size_t)p->threads, sizeof(pthread_t));
    if (!p->workers) { free(p); return NULL; }
    for (int i = 1; i < p->threads; i++) {
        worker_arg *arg = malloc(sizeof *arg);
        if (!arg || pthread_create(&p->workers[i], NULL, worker_main, (arg->pool = p, arg->index = i, arg)) != 0) {
            free(arg);
            p->threads = i; // destroy joins the ones that started
            ck_pool_destroy(p);
            return NULL;
        }
    }
    return p;
}

void ck_pool_destroy(ck_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 1; i < p->threads; i++) pthread_join(p->workers[i], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    free(p->workers);
    free(p);
}

int ck_pool_threads(const ck_pool *p) { return p->threads; }

void ck_pool_run(ck_pool *p, int64_t count, int64_t chunk, ck_task_fn fn, void *ctx) {
    if (count <= 0) return;
    if (chunk < 1) chunk = 1;
    if (p->threads == 1 || chunk >= count || count > 0xffffffff) { // nothing to share (or too large to share)
        fn(ctx, 0, count, 0);
        return;
    }
    uint64_t job = (atomic_load_explicit(&p->ticket, memory_order_relaxed) >> 32) + 1;
    // Close the previous job before its parameters are overwritten. A worker may have read the
    // previous job's ticket (every item claimed) and then, while this job's count, fn and ctx are
    // being written, read those: with the old ticket still in place its claim would succeed, run
    // this job's fn on items this job runs again and add them to `done`, so that this call could
    // return while the worker still writes into the caller's memory. With the ticket moved to this
    // job, all of whose items read as claimed, such a claim fails and the worker reloads.
    atomic_store_explicit(&p->ticket, (job << 32) | 0xffffffffu, memory_order_seq_cst);
    atomic_store_explicit(&p->count, count, memory_order_relaxed);
    atomic_store_explicit(&p->chunk, chunk, memory_order_relaxed);
    atomic_store_explicit(&p->fn, fn, memory_order_relaxed);
    atomic_store_explicit(&p->ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    atomic_store_explicit(&p->ticket, job << 32, memory_order_release);
    atomic_fetch_add(&p->generation, 1); // seq_cst: pairs with the sleepers' count below
    if (atomic_load(&p->sleeping) > 0) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
    work(p, 0);
    // Wait for chunks that workers claimed; give the core away if one of them is descheduled.
    for (int i = 0; atomic_load_explicit(&p->done, memory_order_acquire) < count; i++) {
        if (i < 4096) cpu_relax();
        else sched_yield();
    }
}
