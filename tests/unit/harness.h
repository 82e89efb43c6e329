/* SPDX-License-Identifier: MIT */
/*
 * A minimal in-tree unit-test harness: each test file defines test
 * functions with TEST(name) and lists them in main with RUN(name). A failed
 * CHECK prints file:line and the expression and marks the test failed; the
 * program exits non-zero if any test failed, so meson counts it.
 */
#ifndef SWEDE_TESTS_HARNESS_H
#define SWEDE_TESTS_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int harness_failed_checks;
static int harness_failed_tests;
static int harness_run_tests;

#define TEST(name) static void test_##name(void)

#define RUN(name)                                                              \
    do {                                                                       \
        int before_ = harness_failed_checks;                                   \
        harness_run_tests++;                                                   \
        test_##name();                                                         \
        if (harness_failed_checks != before_) {                                \
            harness_failed_tests++;                                            \
            printf("not ok - %s\n", #name);                                    \
        } else {                                                               \
            printf("ok - %s\n", #name);                                        \
        }                                                                      \
    } while (0)

#define CHECK(expr)                                                            \
    do {                                                                       \
        if (!(expr)) {                                                         \
            harness_failed_checks++;                                           \
            printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #expr);  \
        }                                                                      \
    } while (0)

#define CHECK_EQ(a, b)                                                         \
    do {                                                                       \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                       \
        if (a_ != b_) {                                                        \
            harness_failed_checks++;                                           \
            printf("  %s:%d: %s == %s failed: 0x%" PRIx64 " != 0x%" PRIx64     \
                   "\n",                                                       \
                   __FILE__, __LINE__, #a, #b, a_, b_);                        \
        }                                                                      \
    } while (0)

#define HARNESS_END()                                                          \
    do {                                                                       \
        printf("%d tests, %d failed\n", harness_run_tests,                     \
               harness_failed_tests);                                          \
        return harness_failed_tests ? 1 : 0;                                   \
    } while (0)

#endif
