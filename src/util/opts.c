// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>

#include "util/opts.h"
#include "util/types.h"

int opts_usage_error(const char *help_cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "kvmbox: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see '%s')\n", help_cmd);
	return EXIT_BAD_INPUT;
}

int opts_parse(int argc, char **argv, const struct opts_loop *l)
{
	int opt, ret;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, l->shortopts, l->longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(l->help, stdout);
			return 0;
		}
		if (opt == '?')
			return opts_usage_error(l->help_cmd, "unknown option '%s'",
						argv[optind - 1]);
		if (opt == ':')
			return opts_usage_error(l->help_cmd, "option '%s' needs a value",
						argv[optind - 1]);
		ret = l->take(opt, optarg, l->ctx);
		if (ret)
			return ret;
	}
	if (optind < argc)
		return opts_usage_error(l->help_cmd, "unexpected argument '%s'", argv[optind]);
	return -1;
}
