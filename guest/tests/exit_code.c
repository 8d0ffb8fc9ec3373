// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exits with the number given as its first argument, so the runner can check
 * that the VMM turns a debug-exit write of v into exit status (v << 1) | 1.
 */
#include "libguest.h"

int main(int argc, char **argv)
{
	return argc > 1 ? (int)strtoul(argv[1], NULL, 0) : 0;
}
