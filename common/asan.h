/* asan.h: whether this build runs under AddressSanitizer. */
#ifndef NTHPI_ASAN_H
#define NTHPI_ASAN_H

/* GCC says so with __SANITIZE_ADDRESS__, clang with __has_feature. */
#if defined(__SANITIZE_ADDRESS__)
#define NTHPI_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NTHPI_ASAN 1
#endif
#endif
#ifndef NTHPI_ASAN
#define NTHPI_ASAN 0
#endif

#endif
