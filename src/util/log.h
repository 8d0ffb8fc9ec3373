/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_UTIL_LOG_H
#define KVMBOX_UTIL_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_level;

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True at most a few times a second per call site: guest-caused messages must not flood. */
bool log_ratelimit(long *last_sec, int *count);
/*
 * The last error this thread logged ("" for none), so that the control API can tell its
 * client why InstanceStart failed; log_clear_error() forgets it.
 */
const char *log_last_error(void);
void log_clear_error(void);

#define pr_err(...)  log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...)                                    \
	do {                                             \
		if (log_level >= LOG_DEBUG)              \
			log_msg(LOG_DEBUG, __VA_ARGS__); \
	} while (0)

/* A message whose rate a guest decides: at most a few a second from each call site. */
#define pr_ratelimited(level, ...)                         \
	do {                                               \
		static long __rl_sec;                      \
		static int __rl_count;                     \
		if (log_ratelimit(&__rl_sec, &__rl_count)) \
			log_msg(level, __VA_ARGS__);       \
	} while (0)

/* For problems a guest can cause: logged, rate-limited, never fatal. */
#define pr_guest(...) pr_ratelimited(LOG_WARN, __VA_ARGS__)

#endif
