/* What the C harnesses share (harness.c, robust_harness.c): the scale
 * argument, the pass/fail counts, CHECK and report. Each harness is its own
 * program and includes this once. */
#ifndef GOSYNC_TESTS_CHECK_H
#define GOSYNC_TESTS_CHECK_H

#include <stdio.h>

static int scale = 1; /* the first argument: iterations are multiplied by it */
static int passed, failed;

/* In a case function with a local `int ok = 1`: a failed condition prints
 * where and why, and marks the case failed; the case goes on. */
#define CHECK(cond, ...)                                  \
    do {                                                  \
        if (!(cond)) {                                    \
            printf("  FAIL %s:%d: ", __FILE__, __LINE__); \
            printf(__VA_ARGS__);                          \
            printf("\n");                                 \
            ok = 0;                                       \
        }                                                 \
    } while (0)

/* One line per case, and the count for the summary line. */
static void report(const char *name, int ok)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", name);
    if (ok)
        passed++;
    else
        failed++;
}

#endif /* GOSYNC_TESTS_CHECK_H */
