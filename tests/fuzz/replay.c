/* tests/fuzz/replay.c: a plain main() for any libFuzzer target, so ctest
 * can replay a saved corpus under gcc and ASan without libFuzzer. Each
 * argument is a file (fed once) or a directory (every regular file in it
 * fed once, no recursion); -v names each input before it runs. Each input
 * sits in its own exact-size allocation so any over-read is caught. */
#include "common/alloc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target, as in libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static bool verbose;

/* Reads path whole and hands it to the target; returns 0 or -1. */
static int replay_file(const char *path, off_t size)
{
    FILE *f;
    uint8_t *buf;
    size_t n = (size_t)size;
    int rc = -1;

    /* One spare byte so an empty file still has a valid pointer. */
    buf = sl_alloc(n != 0 ? n : 1);
    if (buf == NULL) {
        fprintf(stderr, "replay: %s: out of memory for %zu bytes\n", path, n);
        return -1;
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        goto out_free;
    }
    if (fread(buf, 1, n, f) != n) {
        fprintf(stderr, "replay: %s: short read\n", path);
        goto out_close;
    }
    if (verbose)
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
    LLVMFuzzerTestOneInput(buf, n);
    rc = 0;
out_close:
    fclose(f);
out_free:
    sl_free(buf);
    return rc;
}

/* Feeds every regular file directly inside dir; counts them in *count. */
static int replay_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int rc = 0;

    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        char path[PATH_MAX];
        struct stat st;
        int len = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);

        if (len < 0 || (size_t)len >= sizeof(path)) {
            fprintf(stderr, "replay: %s/%s: path too long\n", dir, de->d_name);
            rc = -1;
            continue;
        }
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;                      /* ".", "..", subfolders */
        if (replay_file(path, st.st_size) != 0)
            rc = -1;
        else
            (*count)++;
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int rc = 0;

    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;

        if (strcmp(argv[i], "-v") == 0) {
            verbose = true;
            continue;
        }
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            rc = 1;
        } else if (S_ISDIR(st.st_mode)) {
            if (replay_dir(argv[i], &count) != 0)
                rc = 1;
        } else if (replay_file(argv[i], st.st_size) != 0) {
            rc = 1;
        } else {
            count++;
        }
    }
    printf("replayed %zu inputs\n", count);
    return rc;
}
