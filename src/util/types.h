/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_UTIL_TYPES_H
#define KVMBOX_UTIL_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

#define ARRAY_SIZE(a)	 (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)	 (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define MIN(a, b)	 ((a) < (b) ? (a) : (b))
#define MAX(a, b)	 ((a) > (b) ? (a) : (b))
#define BIT(n)		 (1ULL << (n))

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Whether [a, a + alen) and [b, b + blen) share a byte (an empty range meets nothing). */
static inline bool ranges_overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	return alen && blen && a <= b + (blen - 1) && b <= a + (alen - 1);
}

/* Exit codes of the kvmbox process; documented in --help and the README. */
enum kvmbox_exit {
	EXIT_GUEST_OK = 0,  /* guest powered off or rebooted */
	EXIT_VMM_ERROR = 1, /* kvmbox or KVM failed */
	EXIT_BAD_INPUT = 2, /* bad usage or bad input file */
};

#endif
