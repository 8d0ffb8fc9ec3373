// SPDX-License-Identifier: GPL-2.0-only
/* PASS/FAIL/SKIP lines and the SUMMARY line that tests/guest/run reads. */
#include "libguest.h"

#define PREFIX_DEPTH 8

static struct spinlock report_lock;
static char prefix[256];
static size_t prefix_len[PREFIX_DEPTH];
static int depth;
static unsigned int tests, failures, skipped;

void report_prefix_push(const char *p)
{
	spin_lock(&report_lock);
	if (depth < PREFIX_DEPTH) {
		size_t len = strlen(prefix);

		prefix_len[depth++] = len;
		snprintf(prefix + len, sizeof(prefix) - len, "%s: ", p);
	}
	spin_unlock(&report_lock);
}

void report_prefix_pop(void)
{
	spin_lock(&report_lock);
	if (depth > 0)
		prefix[prefix_len[--depth]] = '\0';
	spin_unlock(&report_lock);
}

static void report_line(const char *kind, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	printf("%s: %s%s\n", kind, prefix, msg);
}

bool report(bool pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	spin_lock(&report_lock);
	tests++;
	if (!pass)
		failures++;
	report_line(pass ? "PASS" : "FAIL", fmt, ap);
	spin_unlock(&report_lock);
	va_end(ap);
	return pass;
}

bool report_xfail(bool xfail, bool pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	spin_lock(&report_lock);
	tests++;
	if (!pass && !xfail)
		failures++;
	report_line(pass ? "PASS" : xfail ? "XFAIL" : "FAIL", fmt, ap);
	spin_unlock(&report_lock);
	va_end(ap);
	return pass;
}

void report_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	spin_lock(&report_lock);
	tests++;
	skipped++;
	report_line("SKIP", fmt, ap);
	spin_unlock(&report_lock);
	va_end(ap);
}

void report_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	spin_lock(&report_lock);
	report_line("INFO", fmt, ap);
	spin_unlock(&report_lock);
	va_end(ap);
}

int report_summary(void)
{
	spin_lock(&report_lock);
	printf("SUMMARY: %u tests, %u unexpected failures, %u skipped\n", tests, failures, skipped);
	spin_unlock(&report_lock);
	return failures ? 1 : 0;
}
