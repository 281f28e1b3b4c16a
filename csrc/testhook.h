/* Preemption points for the C harness: a test-only build flag.
 *
 * Some interleavings are a few instructions wide: an Unlock between its CAS
 * and its semaphore release, a reader woken but not yet running. The harness
 * replays them deterministically: built with -DGOSYNC_TEST_HOOKS, each
 * GOSYNC_PREEMPT(name) calls gosync_test_hook(name), which the harness
 * defines, and which may stop the calling thread there until the test lets
 * it go. Without the flag (the shipped module) the macro is nothing at all.
 */
#ifndef GOSYNC_TESTHOOK_H
#define GOSYNC_TESTHOOK_H

#ifdef GOSYNC_TEST_HOOKS
void gosync_test_hook(const char *point);
#define GOSYNC_PREEMPT(point) gosync_test_hook(point)
#else
#define GOSYNC_PREEMPT(point) ((void)0)
#endif

#endif /* GOSYNC_TESTHOOK_H */
