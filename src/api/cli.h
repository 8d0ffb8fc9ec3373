/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_API_CLI_H
#define KVMBOX_API_CLI_H

#include <stdbool.h>

/*
 * Firecracker's command line (kvmbox --api-sock PATH ...): serves the control API and
 * runs the VM it configures. Returns the process's exit status.
 */
int api_main(int argc, char **argv);
/* Whether argv asks for it: a Firecracker option first, or kvmbox run as "firecracker". */
bool api_cli_wanted(int argc, char **argv);

#endif
