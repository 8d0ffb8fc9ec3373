/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The command lines' shared getopt loop: every bad option is one line naming it and the
 * help to read, and exit status EXIT_BAD_INPUT (2).
 */
#ifndef KVMBOX_UTIL_OPTS_H
#define KVMBOX_UTIL_OPTS_H

#include <getopt.h>

struct opts_loop {
	const char *shortopts; /* with a leading ':' and 'h' for --help */
	const struct option *longopts;
	const char *help;     /* printed for --help */
	const char *help_cmd; /* named in error lines: "kvmbox run --help" */
	/* Takes one option; returns 0, or the exit status to end with. */
	int (*take)(int opt, const char *arg, void *ctx);
	void *ctx;
};

/* Prints "kvmbox: FMT (see 'HELP_CMD')" with ARG; returns EXIT_BAD_INPUT. */
int opts_usage_error(const char *help_cmd, const char *fmt, const char *arg);

/*
 * Runs the loop over argv from its first argument; returns -1 when every option was
 * taken and no argument is left over, 0 after --help, or an exit status.
 */
int opts_parse(int argc, char **argv, const struct opts_loop *l);

#endif
