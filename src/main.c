// SPDX-License-Identifier: GPL-2.0-only
/* kvmbox's command line: parses options into a vm_config and runs the VM. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

#include "api/api.h"
#include "api/cli.h"
#include "config.h"
#include "console.h"
#include "jail/jail.h"
#include "util/log.h"
#include "util/opts.h"
#include "snapshot/diff.h"
#include "vcpu.h"
#include "vm.h"

static const char usage_main[] =
	"Usage: kvmbox COMMAND [OPTIONS]\n"
	"\n"
	"A small virtual machine monitor on Linux KVM.\n"
	"\n"
	"Commands:\n"
	"  run              boot a guest kernel (see 'kvmbox run --help')\n"
	"  snapshot-rebase  apply a Diff snapshot's memory file to its base's\n"
	"\n"
	"kvmbox --api-sock PATH [...] takes Firecracker's command line and\n"
	"serves its control API (see 'kvmbox --api-sock x --help').\n"
	"\n"
	"Options:\n"
	"  -h, --help     show this help\n"
	"  -V, --version  show the version\n";

static const char usage_rebase[] =
	"Usage: kvmbox snapshot-rebase BASE_MEM DIFF_MEM\n"
	"\n"
	"Copies the pages a Diff snapshot's memory file holds (its data, not its holes)\n"
	"onto BASE_MEM, the memory file of the snapshot taken before it (Full, or Diff\n"
	"already rebased), at the same offsets. BASE_MEM then is the whole memory of the\n"
	"Diff snapshot: load it with the Diff's state file. Rebase each Diff in the order\n"
	"they were taken. Like Firecracker's snapshot-editor edit-memory rebase.\n";

static const char usage_run[] =
	"Usage: kvmbox run --kernel PATH [OPTIONS]\n"
	"\n"
	"Boots a kernel (" VM_KERNEL_FORMATS ") on the serial console.\n"
	"\n"
	"Options:\n"
	"  -k, --kernel PATH          kernel image (required)\n"
	"  -i, --initrd PATH          initial ramdisk (multiboot: passed as module 0)\n"
	"  -a, --cmdline STR          kernel command line (default \"" VM_DEFAULT_CMDLINE "\")\n"
	"  -c, --cpus N               number of vCPUs, 1-64 (default 1)\n"
	"  -m, --memory SIZE          guest RAM: 512M, 2G, ... (default 256M, at least 16M)\n"
	"      --debug-exit           QEMU-compatible isa-debug-exit at port 0xf4: a guest\n"
	"                             write of V ends kvmbox with status (V << 1) | 1\n"
	"      --on-reboot=ACTION     exit (default) or restart when the guest reboots\n"
	"      --cpu-features LIST    CPUID changes, e.g. -pcid,+invpcid,vendor=GenuineIntel\n"
	"      --stats                print exit counts (by reason, port, MMIO page) at the end\n"
	"      --pc-testdev           QEMU's pc-testdev, as kvm-unit-tests want it (test\n"
	"                             ports 0xe0, 0xe4, 0x2000-0x2017, MMIO 0xff000000)\n"
	"      --dump-dtb FILE        arm64: write the guest's device tree to FILE\n"
	"      --firmware PATH        arm64: boot a UEFI firmware (e.g. Debian's\n"
	"                             /usr/share/AAVMF/AAVMF_CODE.fd) instead of --kernel\n"
	"      --flash PATH           arm64: the firmware's variable store, a file the\n"
	"                             guest's writes land in (a copy of AAVMF_VARS.fd);\n"
	"                             without it variables last until kvmbox exits\n"
	"      --seccomp=MODE         per-thread system call filters: on (default; a\n"
	"                             forbidden call ends kvmbox with status 148), log\n"
	"                             (the kernel logs it, kvmbox goes on) or off\n"
	"  -v, --verbose              more messages on stderr (repeat for debug)\n"
	"  -h, --help                 show this help\n"
	"\n"
	"Devices (virtio over PCI):\n"
	"      --disk PATH[,ro][,serial=S][,id=ID][,bw=B][,ops=B]\n"
	"                             a virtio-blk disk on a raw file or block device\n"
	"                             (repeat for more, up to 8); bw=/ops= limit bytes\n"
	"                             or requests, B = SIZE:REFILL_MS[:BURST]; id= names\n"
	"                             the disk's metrics\n"
	"      --net tap=IFNAME[,vhost=on][,mac=MAC]\n"
	"      --net user[,hostfwd=tcp::HOSTPORT-:GUESTPORT][,mac=MAC]\n"
	"                             a virtio-net NIC on a tap device, or on user-mode\n"
	"                             networking: 10.0.2.15 via DHCP, gateway and host\n"
	"                             10.0.2.2 (repeat for more, up to 4); either kind\n"
	"                             takes id=ID and rx-bw=, rx-ops=, tx-bw=, tx-ops=\n"
	"                             limits (B as for --disk; not with vhost=on)\n"
	"      --rng                  a virtio-rng entropy device (host getrandom)\n"
	"      --balloon[=amount_mib=N,deflate_on_oom=on,stats=S]\n"
	"                             a virtio-balloon: the guest gives back N MiB (0\n"
	"                             by default; a VM of the control API changes it\n"
	"                             with PATCH /balloon), takes pages back under memory\n"
	"                             pressure with deflate_on_oom=on, reports\n"
	"                             statistics every S seconds\n"
	"      --virtio-console[=socket:PATH]\n"
	"                             a virtio-console, the guest's hvc0: without a value\n"
	"                             on stdio (keys go to hvc0, not COM1; boot with\n"
	"                             console=hvc0), or on a Unix socket kvmbox creates\n"
	"                             at PATH (one client at a time)\n"
	"      --vsock cid=N[,uds=PATH]\n"
	"                             a virtio-vsock socket device with guest CID N (3 to\n"
	"                             4294967294) through the host's vhost-vsock; the\n"
	"                             guest reaches the host at CID 2. With uds=, kvmbox\n"
	"                             serves it over Unix sockets as Firecracker does:\n"
	"                             host clients connect to PATH and write\n"
	"                             \"CONNECT <port>\\n\"; the guest's connections to\n"
	"                             port P reach PATH_P\n"
	"      --vfio PATH[,mmap=off] pass the host PCI device at sysfs PATH (bound to\n"
	"                             vfio-pci), or the mediated device at\n"
	"                             /sys/bus/mdev/devices/UUID, through to the guest\n"
	"                             (repeat, up to 4); mmap=off traps every BAR access\n"
	"\n"
	"Jail (run as root; see the README's Jail section):\n"
	"      --jail DIR             run in new mount, PID, IPC and UTS namespaces with\n"
	"                             DIR (an empty folder) as the root, holding only the\n"
	"                             VM's files and device nodes\n"
	"      --jail-uid N, --jail-gid N\n"
	"                             the unprivileged user and group to run as (required)\n"
	"      --jail-netns           a network namespace too (taps live in the host's:\n"
	"                             none then; --net user reaches nothing outside)\n"
	"      --jail-cgroup PATH     join this cgroup v2 folder first, with limits:\n"
	"      --jail-cpus N          cpu.max of N CPUs\n"
	"      --jail-memory SIZE     memory.max\n"
	"\n"
	"Console: the guest's COM1 is kvmbox's stdin and stdout (--virtio-console without a\n"
	"value sends stdin to hvc0 instead). On a terminal, Ctrl-A x quits and Ctrl-A\n"
	"Ctrl-A sends a Ctrl-A.\n"
	"\n"
	"Exit status:\n"
	"  0    the guest powered off or rebooted (or Ctrl-A x)\n"
	"  1    kvmbox or KVM failed\n"
	"  2    bad usage or bad input (unknown option, unreadable file, bad value)\n"
	"  (V << 1) | 1  the guest wrote V to the debug-exit port (with --debug-exit)\n"
	"  128+N  stopped by signal N (SIGINT, SIGTERM, SIGHUP)\n"
	"  148  a thread made a system call its seccomp filter forbids\n";

enum {
	OPT_DEBUG_EXIT = 256,
	OPT_ON_REBOOT,
	OPT_CPU_FEATURES,
	OPT_STATS,
	OPT_PC_TESTDEV,
	OPT_DUMP_DTB,
	OPT_FIRMWARE,
	OPT_FLASH,
	OPT_DISK,
	OPT_NET,
	OPT_RNG,
	OPT_BALLOON,
	OPT_VIRTIO_CONSOLE,
	OPT_VSOCK,
	OPT_VFIO,
	OPT_SECCOMP,
	OPT_JAIL,
	OPT_JAIL_UID,
	OPT_JAIL_GID,
	OPT_JAIL_NETNS,
	OPT_JAIL_CGROUP,
	OPT_JAIL_CPUS,
	OPT_JAIL_MEMORY,
};

static const struct option run_options[] = {
	{"kernel", required_argument, NULL, 'k'},
	{"initrd", required_argument, NULL, 'i'},
	{"cmdline", required_argument, NULL, 'a'},
	{"cpus", required_argument, NULL, 'c'},
	{"memory", required_argument, NULL, 'm'},
	{"debug-exit", no_argument, NULL, OPT_DEBUG_EXIT},
	{"on-reboot", required_argument, NULL, OPT_ON_REBOOT},
	{"cpu-features", required_argument, NULL, OPT_CPU_FEATURES},
	{"stats", no_argument, NULL, OPT_STATS},
	{"pc-testdev", no_argument, NULL, OPT_PC_TESTDEV},
	{"dump-dtb", required_argument, NULL, OPT_DUMP_DTB},
	{"firmware", required_argument, NULL, OPT_FIRMWARE},
	{"flash", required_argument, NULL, OPT_FLASH},
	{"disk", required_argument, NULL, OPT_DISK},
	{"net", required_argument, NULL, OPT_NET},
	{"rng", no_argument, NULL, OPT_RNG},
	{"balloon", optional_argument, NULL, OPT_BALLOON},
	{"virtio-console", optional_argument, NULL, OPT_VIRTIO_CONSOLE},
	{"vsock", required_argument, NULL, OPT_VSOCK},
	{"vfio", required_argument, NULL, OPT_VFIO},
	{"seccomp", required_argument, NULL, OPT_SECCOMP},
	{"jail", required_argument, NULL, OPT_JAIL},
	{"jail-uid", required_argument, NULL, OPT_JAIL_UID},
	{"jail-gid", required_argument, NULL, OPT_JAIL_GID},
	{"jail-netns", no_argument, NULL, OPT_JAIL_NETNS},
	{"jail-cgroup", required_argument, NULL, OPT_JAIL_CGROUP},
	{"jail-cpus", required_argument, NULL, OPT_JAIL_CPUS},
	{"jail-memory", required_argument, NULL, OPT_JAIL_MEMORY},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int usage_error(const char *fmt, const char *arg)
{
	return opts_usage_error("kvmbox run --help", fmt, arg);
}

static int parse_memory(const char *arg, u64 *out)
{
	int ret = parse_size(arg, out);

	if (ret == -ERANGE)
		return usage_error("--memory %s is too large", arg);
	if (ret)
		return usage_error("--memory %s is not a size (use e.g. 512M or 2G)", arg);
	if (*out < VM_MIN_MEMORY)
		return usage_error("--memory %s is too small: at least 16M", arg);
	if (*out % (4 * KiB))
		return usage_error("--memory %s is not a multiple of 4K", arg);
	return 0;
}

/* Options that add a device: kept as written, parsed by the device when it is created. */
/* --vfio PATH[,mmap=on|off]: mmap=off traps every BAR access (a comparison, a workaround). */
static int parse_vfio(const char *arg, struct vm_config *cfg)
{
	static char paths[VM_MAX_VFIO][PATH_MAX]; /* PATH without the option, for the run */
	const char *opt = strchr(arg, ',');
	size_t len = opt ? (size_t)(opt - arg) : strlen(arg);

	if (opt && strcmp(opt, ",mmap=on") && strcmp(opt, ",mmap=off"))
		return usage_error("--vfio %s: the only option after PATH is mmap=on or mmap=off",
				   arg);
	if (len >= PATH_MAX)
		return usage_error("--vfio %s: the path is too long", arg);
	memcpy(paths[cfg->nr_vfio], arg, len);
	paths[cfg->nr_vfio][len] = '\0';
	cfg->vfio_trap[cfg->nr_vfio] = opt && !strcmp(opt, ",mmap=off");
	cfg->vfio[cfg->nr_vfio] = paths[cfg->nr_vfio];
	cfg->nr_vfio++;
	return 0;
}

static int parse_device_option(int opt, const char *arg, struct vm_config *cfg)
{
	switch (opt) {
	case OPT_DISK:
		if (cfg->nr_disks == VM_MAX_DISKS)
			return usage_error("%s: too many --disk options (at most 8)", arg);
		cfg->disks[cfg->nr_disks++] = arg;
		return 0;
	case OPT_NET:
		if (cfg->nr_nics == VM_MAX_NICS)
			return usage_error("%s: too many --net options (at most 4)", arg);
		cfg->nics[cfg->nr_nics++] = arg;
		return 0;
	case OPT_RNG:
		cfg->rng = true;
		return 0;
	case OPT_BALLOON:
		/* Checked by the device; "" is the defaults (an empty balloon). */
		cfg->balloon = arg ? arg : "";
		return 0;
	case OPT_VIRTIO_CONSOLE:
		/* Checked by the device: "" is stdio, else socket:PATH. */
		cfg->virtio_console = arg ? arg : "";
		return 0;
	case OPT_VSOCK:
		/* A guest kernel drives one vsock device only. */
		if (cfg->vsock)
			return usage_error("--vsock %s: only one --vsock is possible", arg);
		cfg->vsock = arg;
		return 0;
	case OPT_VFIO:
		if (cfg->nr_vfio == VM_MAX_VFIO)
			return usage_error("--vfio %s: too many --vfio options (at most 4)", arg);
		return parse_vfio(arg, cfg);
	default:
		return EXIT_BAD_INPUT;
	}
}

static int parse_jail_option(int opt, const char *arg, struct jail_config *jc)
{
	switch (opt) {
	case OPT_JAIL:
		jc->dir = arg;
		return 0;
	case OPT_JAIL_UID:
		if (jail_parse_id(arg, &jc->uid))
			return usage_error(
				"--jail-uid %s: give an unprivileged uid, 1 to 4294967294", arg);
		return 0;
	case OPT_JAIL_GID:
		if (jail_parse_id(arg, &jc->gid))
			return usage_error(
				"--jail-gid %s: give an unprivileged gid, 1 to 4294967294", arg);
		return 0;
	case OPT_JAIL_NETNS:
		jc->netns = true;
		return 0;
	case OPT_JAIL_CGROUP:
		jc->cgroup = arg;
		return 0;
	case OPT_JAIL_CPUS:
		if (parse_uint(arg, 1, VM_MAX_CPUS, &jc->cpus))
			return usage_error("--jail-cpus %s: give a number from 1 to 64", arg);
		return 0;
	case OPT_JAIL_MEMORY:
		if (parse_size(arg, &jc->memory) || jc->memory < VM_MIN_MEMORY)
			return usage_error("--jail-memory %s: give a size of at least 16M", arg);
		return 0;
	default:
		return EXIT_BAD_INPUT;
	}
}

static int parse_run_option(int opt, const char *arg, struct vm_config *cfg)
{
	if (opt >= OPT_DISK && opt <= OPT_VFIO)
		return parse_device_option(opt, arg, cfg);
	switch (opt) {
	case 'k':
		cfg->kernel = arg;
		return 0;
	case 'i':
		cfg->initrd = arg;
		return 0;
	case 'a':
		cfg->cmdline = arg;
		return 0;
	case 'c':
		if (parse_uint(arg, 1, VM_MAX_CPUS, &cfg->cpus))
			return usage_error("--cpus %s: give a number from 1 to 64", arg);
		return 0;
	case 'm':
		return parse_memory(arg, &cfg->memory);
	case OPT_DEBUG_EXIT:
		cfg->debug_exit = true;
		return 0;
	case OPT_ON_REBOOT:
		if (!strcmp(arg, "exit"))
			cfg->on_reboot = ON_REBOOT_EXIT;
		else if (!strcmp(arg, "restart"))
			cfg->on_reboot = ON_REBOOT_RESTART;
		else
			return usage_error("--on-reboot=%s: use exit or restart", arg);
		return 0;
	case OPT_CPU_FEATURES:
		cfg->cpu_features = arg;
		return 0;
	case OPT_DUMP_DTB:
		cfg->dump_dtb = arg;
		return 0;
	case OPT_FIRMWARE:
		cfg->firmware = arg;
		return 0;
	case OPT_FLASH:
		cfg->flash = arg;
		return 0;
	case OPT_STATS:
		cfg->stats = true;
		return 0;
	case OPT_PC_TESTDEV:
		cfg->pc_testdev = true;
		return 0;
	case OPT_SECCOMP:
		if (sandbox_parse_mode(arg, &cfg->seccomp))
			return usage_error("--seccomp=%s: use on, log or off", arg);
		return 0;
	case 'v':
		if (log_level < LOG_DEBUG)
			log_level++;
		return 0;
	default:
		return EXIT_BAD_INPUT;
	}
}

struct run_args {
	struct vm_config *cfg;
	struct jail_config *jc;
};

static int take_run_option(int opt, const char *arg, void *ctx)
{
	struct run_args *r = ctx;

	if (opt >= OPT_JAIL && opt <= OPT_JAIL_MEMORY)
		return parse_jail_option(opt, arg, r->jc);
	return parse_run_option(opt, arg, r->cfg);
}

/* Returns -1 when the VM should run, or an exit status (0 after --help). */
static int parse_run_args(int argc, char **argv, struct vm_config *cfg, struct jail_config *jc)
{
	struct run_args r = {cfg, jc};
	const struct opts_loop loop = {.shortopts = ":k:i:a:c:m:vh",
				       .longopts = run_options,
				       .help = usage_run,
				       .help_cmd = "kvmbox run --help",
				       .take = take_run_option,
				       .ctx = &r};
	int ret;

	*cfg = (struct vm_config){.cpus = 1, .memory = VM_DEFAULT_MEMORY};
	if (sandbox_default_mode(&cfg->seccomp))
		return usage_error("KVMBOX_SECCOMP=%s: use on, log or off",
				   getenv("KVMBOX_SECCOMP"));
	ret = opts_parse(argc, argv, &loop);
	if (ret >= 0)
		return ret;
	if (cfg->firmware && (cfg->kernel || cfg->initrd || cfg->cmdline))
		return usage_error("%s", "--firmware boots what the firmware finds: leave out "
					 "--kernel, --initrd and --cmdline");
	if (cfg->flash && !cfg->firmware)
		return usage_error("%s", "--flash is the firmware's variable store: it needs "
					 "--firmware");
	if (!cfg->kernel && !cfg->firmware)
		return usage_error("%s", "--kernel PATH (or --firmware PATH) is required");
	return -1;
}

static int run_vm(const struct vm_config *cfg)
{
	for (;;) {
		struct vm *vm;
		enum vm_stop_reason reason;
		int ret = vm_create(&vm, cfg), status;

		if (ret < 0) {
			vm_destroy(vm);
			return -ret;
		}
		reason = vm_run(vm);
		status = vm_exit_status(vm, reason);
		vm_destroy(vm);
		if (reason != VM_STOP_REBOOT || cfg->on_reboot != ON_REBOOT_RESTART)
			return status;
		pr_info("guest rebooted: restarting");
	}
}

static int cmd_run(int argc, char **argv)
{
	struct jail_config jail = JAIL_CONFIG_INIT;
	const struct vm_config *run;
	struct vm_config cfg;
	sigset_t set;
	int ret = parse_run_args(argc, argv, &cfg, &jail);

	if (ret >= 0)
		return ret;
	/* Termination signals reach the main loop through a signalfd, in every thread. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* With --jail, only the jailed process goes on (-1): this one waits for it. */
	ret = jail_start(&jail, &cfg, &run);
	if (ret >= 0)
		return ret;
	vcpu_install_kick_handler();
	sandbox_init(cfg.seccomp);
	console_setup();
	ret = run_vm(run);
	console_restore();
	return ret;
}

static int cmd_snapshot_rebase(int argc, char **argv)
{
	char err[512];
	int ret;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage_rebase, stdout);
		return 0;
	}
	if (argc != 3) {
		fputs("kvmbox: snapshot-rebase takes BASE_MEM and DIFF_MEM (see 'kvmbox "
		      "snapshot-rebase --help')\n",
		      stderr);
		return EXIT_BAD_INPUT;
	}
	ret = snapshot_rebase(argv[1], argv[2], NULL, err, sizeof(err));
	if (ret)
		fprintf(stderr, "kvmbox: snapshot-rebase: %s\n", err);
	return ret;
}

int main(int argc, char **argv)
{
	if (api_cli_wanted(argc, argv))
		return api_main(argc, argv);
	if (argc < 2) {
		fputs(usage_main, stderr);
		return EXIT_BAD_INPUT;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		/*
		 * Firecracker's first line first: tools that exec firecracker (Kata) read the
		 * version from its second word.
		 */
		printf("Firecracker v%s (kvmbox %s)\n", API_VERSION, KVMBOX_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "snapshot-rebase"))
		return cmd_snapshot_rebase(argc - 1, argv + 1);
	fprintf(stderr, "kvmbox: unknown command '%s' (see 'kvmbox --help')\n", argv[1]);
	return EXIT_BAD_INPUT;
}
