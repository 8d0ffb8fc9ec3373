// SPDX-License-Identifier: GPL-2.0-only
/* Polled 16550 output and a small printf. */
#include "libguest.h"

#define UART_IER      1
#define UART_LSR      5
#define UART_LSR_THRE 0x20
/* A VMM's UART is ready at once; the bound only keeps a broken one from hanging us. */
#define UART_SPIN 100000

static struct spinlock console_lock;
static volatile int console_owner = -1; /* CPU holding console_lock */

void console_init(void)
{
	outb(COM1 + UART_IER, 0); /* polled: no UART interrupts unless a test asks */
}

void uart_putc(char c)
{
	for (int i = 0; i < UART_SPIN; i++)
		if (inb(COM1 + UART_LSR) & UART_LSR_THRE)
			break;
	outb(COM1, c);
}

/*
 * Whole lines from several CPUs must not interleave. A CPU that faults or
 * takes an interrupt while printing may print again: it already owns the lock.
 */
static void console_write(const char *s, size_t len)
{
	int me = this_cpu()->cpu;
	bool nested = console_owner == me;

	if (!nested) {
		spin_lock(&console_lock);
		console_owner = me;
	}
	while (len--)
		uart_putc(*s++);
	if (!nested) {
		console_owner = -1;
		spin_unlock(&console_lock);
	}
}

struct out {
	char *buf;
	size_t size, len;
};

static void out_char(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

struct spec {
	int width;
	int prec;	      /* -1: none; for %s only */
	bool left, zero, alt; /* '-', '0', '#' */
};

static void out_padded(struct out *o, const char *s, size_t n, const struct spec *sp)
{
	int pad = sp->width > (int)n ? sp->width - (int)n : 0;
	char pc = sp->zero && !sp->left ? '0' : ' ';

	/* Zero padding goes after a sign. */
	if (pc == '0' && n && *s == '-') {
		out_char(o, *s++);
		n--;
	}
	if (!sp->left)
		while (pad--)
			out_char(o, pc);
	while (n--)
		out_char(o, *s++);
	if (sp->left)
		while (pad-- > 0)
			out_char(o, ' ');
}

static void out_number(struct out *o, u64 v, bool neg, int base, bool upper, const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = digits[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[--i] = '-';
	out_padded(o, tmp + i, sizeof(tmp) - i, sp);
}

/* Parses flags, width and precision at *fmt; leaves *fmt at the length modifier. */
static struct spec parse_spec(const char **fmt, va_list *ap)
{
	struct spec sp = {.prec = -1};
	const char *f = *fmt;

	for (;; f++) {
		if (*f == '-')
			sp.left = true;
		else if (*f == '0')
			sp.zero = true;
		else if (*f == '#')
			sp.alt = true;
		else
			break;
	}
	if (*f == '*') {
		sp.width = va_arg(*ap, int);
		f++;
	}
	while (*f >= '0' && *f <= '9')
		sp.width = sp.width * 10 + *f++ - '0';
	if (*f == '.') {
		f++;
		sp.prec = 0;
		if (*f == '*') {
			sp.prec = va_arg(*ap, int);
			f++;
		}
		while (*f >= '0' && *f <= '9')
			sp.prec = sp.prec * 10 + *f++ - '0';
	}
	*fmt = f;
	return sp;
}

static size_t strnlen_prec(const char *s, int max)
{
	size_t n = 0;

	while (n < (size_t)max && s[n])
		n++;
	return n;
}

static u64 fetch_unsigned(va_list *ap, int lng)
{
	if (lng >= 1)
		return va_arg(*ap, unsigned long);
	return va_arg(*ap, unsigned int);
}

static s64 fetch_signed(va_list *ap, int lng)
{
	if (lng >= 1)
		return va_arg(*ap, long);
	return va_arg(*ap, int);
}

static void out_conversion(struct out *o, char c, int lng, const struct spec *sp, va_list *ap)
{
	const char *s;
	char ch;
	s64 sv;

	switch (c) {
	case 'd':
	case 'i':
		sv = fetch_signed(ap, lng);
		out_number(o, sv < 0 ? -(u64)sv : (u64)sv, sv < 0, 10, false, sp);
		break;
	case 'u':
		out_number(o, fetch_unsigned(ap, lng), false, 10, false, sp);
		break;
	case 'x':
	case 'X':
		if (sp->alt) {
			/* As in C, the width counts the 0x prefix. */
			struct spec rest = *sp;

			rest.width = sp->width > 2 ? sp->width - 2 : 0;
			out_char(o, '0');
			out_char(o, c);
			out_number(o, fetch_unsigned(ap, lng), false, 16, c == 'X', &rest);
			break;
		}
		out_number(o, fetch_unsigned(ap, lng), false, 16, c == 'X', sp);
		break;
	case 'p':
		out_char(o, '0');
		out_char(o, 'x');
		out_number(o, (u64)va_arg(*ap, void *), false, 16, false, sp);
		break;
	case 's':
		s = va_arg(*ap, const char *);
		if (!s)
			s = "(null)";
		out_padded(o, s, sp->prec >= 0 ? strnlen_prec(s, sp->prec) : strlen(s), sp);
		break;
	case 'c':
		ch = (char)va_arg(*ap, int);
		out_padded(o, &ch, 1, sp);
		break;
	default: /* %% and anything unknown: print it as it is */
		out_char(o, c);
		break;
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size, 0};
	va_list cp;

	va_copy(cp, ap);
	while (*fmt) {
		if (*fmt != '%') {
			out_char(&o, *fmt++);
			continue;
		}
		fmt++;
		struct spec sp = parse_spec(&fmt, &cp);
		int lng = 0;

		/* l and ll are both 64 bits here; z is size_t; h/hh promote to int anyway. */
		while (*fmt == 'l' || *fmt == 'z' || *fmt == 'h') {
			if (*fmt != 'h')
				lng++;
			fmt++;
		}
		if (!*fmt)
			break;
		out_conversion(&o, *fmt++, lng, &sp, &cp);
	}
	va_end(cp);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_write(buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	return n;
}

int puts(const char *s)
{
	printf("%s\n", s);
	return 0;
}
