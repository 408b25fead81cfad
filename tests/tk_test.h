/* tk_test.h: the few assertions the ctest programs use. A failed CHECK
 * prints where and why and counts; TK_TEST_END returns 1 if any failed. */
#ifndef TK_TEST_H
#define TK_TEST_H

#include <stdio.h>

static int tk_test_failures = 0;
static int tk_test_checks = 0;

#define CHECK(cond, ...)                                                      \
  do {                                                                        \
    tk_test_checks++;                                                         \
    if (!(cond)) {                                                            \
      tk_test_failures++;                                                     \
      fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                           \
      fprintf(stderr, "\n");                                                  \
    }                                                                         \
  } while (0)

/* Checks a tk_status is TK_OK, printing tk_last_error() otherwise. */
#define CHECK_OK(expr)                                                        \
  do {                                                                        \
    tk_status tk_s_ = (expr);                                                 \
    CHECK(tk_s_ == TK_OK, "%s -> %s: %s", #expr, tk_status_string(tk_s_),     \
          tk_last_error());                                                   \
  } while (0)

#define TK_TEST_END()                                                         \
  do {                                                                        \
    printf("%d checks, %d failed\n", tk_test_checks, tk_test_failures);       \
    return tk_test_failures ? 1 : 0;                                          \
  } while (0)

#endif
