/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GUEST_TYPES_H
#define GUEST_TYPES_H

/* Freestanding: only the compiler's own headers are available. */
#include <stdarg.h>
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

#define ARRAY_SIZE(a)	 (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)	 (((x) + (a)-1) & ~((u64)(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((u64)(a)-1))
#define BIT(n)		 (1ULL << (n))
#define __stringify_1(x) #x
#define __stringify(x)	 __stringify_1(x)
#define __noreturn	 __attribute__((noreturn))
#define __printf(a, b)	 __attribute__((format(printf, a, b)))
#define __aligned(n)	 __attribute__((aligned(n)))
#define barrier()	 asm volatile("" ::: "memory")
#define READ_ONCE(x)	 (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#endif
