/* SPDX-License-Identifier: MIT */
/*
 * FOR TESTS ONLY: the opcodes of the test context type's command stream
 * (test_component.c), for tests that build submits.
 */
#ifndef SWEDE_GFX_TEST_COMPONENT_H
#define SWEDE_GFX_TEST_COMPONENT_H

enum {
    TEST_OP_NOP = 0,
    TEST_OP_HOLD = 1,
    TEST_OP_RELEASE = 2,
    TEST_OP_RELEASE_ASYNC = 3,
    TEST_OP_WRITE = 4,
};

#endif
