/* scripts/bench/machine_probe.c: sluice-probe, the three costs of the
 * machine that bound 1-event ingest with --sync full, measured without the
 * server: how long one fdatasync of a 4 KiB overwrite takes in a folder
 * (every acknowledged request waits for one), how long a thread blocked on
 * an eventfd takes to run once woken while its CPU was idle, on the
 * waker's CPU and on another one (a request crosses threads about five
 * times), and one null system call. Prints them as a RESULT line for
 * scripts/bench-ingest. Knows nothing of the server. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FILE_PAGES 256          /* the synced file: 1 MiB, overwritten in turn */
#define PAGE 4096

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of v[0..n) in microseconds (sorts v). */
static double quantile_us(int64_t *v, int n, double q)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_i64);
    return (double)v[(int)(q * (n - 1))] / 1000.0;
}

static void die(const char *what)
{
    fprintf(stderr, "sluice-probe: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* fdatasync after overwriting one 4 KiB page of an allocated file. */
static void probe_fsync(const char *dir, int rounds, double *p50, double *p90)
{
    char path[4096], page[PAGE];
    int64_t *lat = calloc((size_t)rounds, sizeof(*lat));
    int fd;

    snprintf(path, sizeof(path), "%s/sluice-probe.%d", dir, (int)getpid());
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || lat == NULL)
        die(path);
    memset(page, 'x', sizeof(page));
    for (int i = 0; i < FILE_PAGES; i++)
        if (pwrite(fd, page, PAGE, (off_t)i * PAGE) != PAGE)
            die("pwrite");
    if (fsync(fd) != 0)
        die("fsync");
    for (int i = 0; i < rounds; i++) {
        int64_t t0 = now_ns();
        page[0] = (char)i;
        if (pwrite(fd, page, PAGE, (off_t)(i % FILE_PAGES) * PAGE) != PAGE ||
            fdatasync(fd) != 0)
            die("pwrite + fdatasync");
        lat[i] = now_ns() - t0;
    }
    close(fd);
    unlink(path);
    *p50 = quantile_us(lat, rounds, 0.5);
    *p90 = quantile_us(lat, rounds, 0.9);
    free(lat);
}

struct wake {
    int go, ack;                /* eventfds: main -> sleeper, and back */
    int cpu;                    /* the sleeper's CPU */
    int rounds;
    _Atomic int64_t sent;       /* when main wrote go */
    int64_t *lat;
};

static void pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}

static void *sleeper(void *arg)
{
    struct wake *w = arg;
    uint64_t v = 1;
    pin(w->cpu);
    for (int i = 0; i < w->rounds; i++) {
        if (read(w->go, &v, sizeof(v)) != sizeof(v))
            die("read");
        w->lat[i] = now_ns() - atomic_load(&w->sent);
        if (write(w->ack, &v, sizeof(v)) != sizeof(v))
            die("write");
    }
    return NULL;
}

/* Wake-up latency of a thread on cpu_b woken from cpu_a, each round after
 * 1 ms of quiet so that an otherwise unused CPU has gone idle. */
static void probe_wake(int cpu_a, int cpu_b, int rounds, double *p50)
{
    struct wake w = {.cpu = cpu_b, .rounds = rounds};
    struct timespec quiet = {0, 1000000};
    pthread_t th;
    uint64_t v = 1;

    w.go = eventfd(0, EFD_CLOEXEC);
    w.ack = eventfd(0, EFD_CLOEXEC);
    w.lat = calloc((size_t)rounds, sizeof(*w.lat));
    if (w.go < 0 || w.ack < 0 || w.lat == NULL)
        die("eventfd");
    pin(cpu_a);
    errno = pthread_create(&th, NULL, sleeper, &w);
    if (errno != 0)
        die("pthread_create");
    for (int i = 0; i < rounds; i++) {
        nanosleep(&quiet, NULL);
        atomic_store(&w.sent, now_ns());
        if (write(w.go, &v, sizeof(v)) != sizeof(v) ||
            read(w.ack, &v, sizeof(v)) != sizeof(v))
            die("eventfd round trip");
    }
    pthread_join(th, NULL);
    *p50 = quantile_us(w.lat, rounds, 0.5);
    close(w.go);
    close(w.ack);
    free(w.lat);
}

static double probe_syscall_ns(void)
{
    const int n = 100000;
    int64_t t0 = now_ns();
    for (int i = 0; i < n; i++)
        syscall(SYS_getppid);
    return (double)(now_ns() - t0) / n;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice-probe [--dir DIR] [--rounds N]\n"
               "  --dir DIR     where to measure fdatasync (.): use the data folder's disk\n"
               "  --rounds N    samples of each measure (200)\n");
}

int main(int argc, char **argv)
{
    const char *dir = ".";
    int rounds = 200;
    double fs50, fs90, same50, cross50 = -1;
    int cpus[2], ncpu = 0;
    cpu_set_t allowed;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            rounds = atoi(argv[++i]);
            if (rounds < 1) {
                fprintf(stderr, "sluice-probe: --rounds wants a number >= 1\n");
                return 2;
            }
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "sluice-probe: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
        die("sched_getaffinity");
    for (int c = 0; c < CPU_SETSIZE && ncpu < 2; c++)
        if (CPU_ISSET(c, &allowed))
            cpus[ncpu++] = c;
    probe_fsync(dir, rounds, &fs50, &fs90);
    probe_wake(cpus[0], cpus[0], rounds, &same50);
    if (ncpu > 1)
        probe_wake(cpus[0], cpus[1], rounds, &cross50);
    printf("RESULT fsync_p50_us=%.0f fsync_p90_us=%.0f wake_same_cpu_p50_us=%.0f"
           " wake_other_cpu_p50_us=%.0f syscall_ns=%.0f\n",
           fs50, fs90, same50, cross50, probe_syscall_ns());
    return 0;
}
