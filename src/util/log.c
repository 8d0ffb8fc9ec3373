// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

enum log_level log_level = LOG_WARN;
static __thread char last_error[256];

static const char *const level_prefix[] = {
	[LOG_ERR] = "error",
	[LOG_WARN] = "warning",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level == LOG_ERR) {
		va_start(ap, fmt);
		vsnprintf(last_error, sizeof(last_error), fmt, ap);
		va_end(ap);
	}
	if (level > log_level)
		return;
	/*
	 * The guest console may have the terminal in raw mode, where "\n" does not return
	 * the carriage: "\r\n" keeps messages readable either way.
	 */
	fprintf(stderr, "kvmbox: %s: ", level_prefix[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\r\n", stderr);
}

bool log_ratelimit(long *last_sec, int *count)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if (now.tv_sec != *last_sec) {
		*last_sec = now.tv_sec;
		*count = 0;
	}
	return ++*count <= 5;
}

const char *log_last_error(void)
{
	return last_error;
}

void log_clear_error(void)
{
	last_error[0] = '\0';
}
