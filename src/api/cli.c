// SPDX-License-Identifier: GPL-2.0-only
/* The Firecracker-compatible process: its command line, the API socket, the VM's run. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "../console.h"
#include "../sandbox/sandbox.h"
#include "../util/log.h"
#include "../util/opts.h"
#include "../vcpu.h"
#include "../vm.h"
#include "cli.h"
#include "server.h"

#define DEFAULT_API_SOCK "/run/firecracker.socket"

static const char usage[] =
	"Usage: kvmbox --api-sock PATH [OPTIONS]   (Firecracker's command line)\n"
	"\n"
	"Serves Firecracker's control API on a Unix socket and runs the VM it configures.\n"
	"\n"
	"Options:\n"
	"  --api-sock PATH          the API socket (must not exist; removed at exit;\n"
	"                           default " DEFAULT_API_SOCK ")\n"
	"  --id ID                  the instance id GET / reports\n"
	"  --config-file FILE       configure from FILE (GET /vm/config's keys) and boot\n"
	"  --no-api                 open no socket (needs --config-file)\n"
	"  --log-path P, --level L  as PUT /logger (Off, Error, Warning, Info, Debug, Trace)\n"
	"  --metrics-path P         as PUT /metrics\n"
	"  --http-api-max-payload-size N  the request body limit (default 51200)\n"
	"  --no-seccomp             no seccomp filters (default: kvmbox's per-thread lists,\n"
	"                           or KVMBOX_SECCOMP=on|log|off)\n"
	"  --seccomp-filter F       refused: kvmbox cannot load Firecracker's compiled filters\n"
	"  --boot-timer             log how long after InstanceStart or PUT /snapshot/load\n"
	"                           vCPU 0 first enters the guest (and a load's phases)\n"
	"  --show-level, --show-log-origin, --module M, --enable-pci,\n"
	"  --start-time-us N, --start-time-cpu-us N, --parent-cpu-time-us N\n"
	"                           accepted for compatibility; no effect\n"
	"  -h, --help               show this help\n"
	"\n"
	"Exit status: 0 when the guest powers off or reboots, 128+N on signal N (SIGTERM:\n"
	"143), 2 for bad usage (a socket path that exists, a bad config file), 1 otherwise.\n";

enum {
	O_API_SOCK = 256,
	O_ID,
	O_CONFIG_FILE,
	O_NO_API,
	O_NO_SECCOMP,
	O_SECCOMP_FILTER,
	O_LOG_PATH,
	O_LEVEL,
	O_METRICS_PATH,
	O_MAX_PAYLOAD,
	O_BOOT_TIMER,
	O_IGNORED,
	O_IGNORED_ARG,
};

static const struct option options[] = {
	{"api-sock", required_argument, NULL, O_API_SOCK},
	{"id", required_argument, NULL, O_ID},
	{"config-file", required_argument, NULL, O_CONFIG_FILE},
	{"no-api", no_argument, NULL, O_NO_API},
	{"no-seccomp", no_argument, NULL, O_NO_SECCOMP},
	{"seccomp-filter", required_argument, NULL, O_SECCOMP_FILTER},
	{"log-path", required_argument, NULL, O_LOG_PATH},
	{"level", required_argument, NULL, O_LEVEL},
	{"metrics-path", required_argument, NULL, O_METRICS_PATH},
	{"http-api-max-payload-size", required_argument, NULL, O_MAX_PAYLOAD},
	{"boot-timer", no_argument, NULL, O_BOOT_TIMER},
	{"show-level", no_argument, NULL, O_IGNORED},
	{"show-log-origin", no_argument, NULL, O_IGNORED},
	{"enable-pci", no_argument, NULL, O_IGNORED},
	{"module", required_argument, NULL, O_IGNORED_ARG},
	{"start-time-us", required_argument, NULL, O_IGNORED_ARG},
	{"start-time-cpu-us", required_argument, NULL, O_IGNORED_ARG},
	{"parent-cpu-time-us", required_argument, NULL, O_IGNORED_ARG},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct api_opts {
	const char *sock, *id, *config_file, *log_path, *level, *metrics_path;
	bool no_api, boot_timer;
	enum sandbox_mode seccomp;
	unsigned int body_limit;
};

bool api_cli_wanted(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');

	base = base ? base + 1 : argv[0];
	/* --version and --help are kvmbox's, whatever its name: they say both. */
	if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V") ||
			  !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return false;
	if (!strcmp(base, "firecracker"))
		return true;
	if (argc < 2 || strncmp(argv[1], "--", 2))
		return false;
	for (const struct option *o = options; o->name; o++) {
		size_t n = strlen(o->name);

		if (o->val != 'h' && !strncmp(argv[1] + 2, o->name, n) &&
		    (argv[1][2 + n] == '\0' || argv[1][2 + n] == '='))
			return true;
	}
	return false;
}

static int bad_usage(const char *fmt, const char *arg)
{
	return opts_usage_error("kvmbox --api-sock x --help", fmt, arg);
}

static int parse_one(int opt, const char *arg, struct api_opts *o)
{
	switch (opt) {
	case O_API_SOCK:
		o->sock = arg;
		break;
	case O_ID:
		if (!*arg || strlen(arg) > API_ID_MAX)
			return bad_usage("--id %s: give 1 to 64 characters", arg);
		o->id = arg;
		break;
	case O_CONFIG_FILE:
		o->config_file = arg;
		break;
	case O_NO_API:
		o->no_api = true;
		break;
	case O_BOOT_TIMER:
		o->boot_timer = true;
		break;
	case O_NO_SECCOMP:
		o->seccomp = SANDBOX_OFF;
		break;
	case O_SECCOMP_FILTER:
		/*
		 * F is a BPF program per Firecracker thread (seccompiler's output), fitted to
		 * the calls Firecracker's threads make; kvmbox's threads make other calls, so
		 * installing it would kill kvmbox or allow what its own lists forbid.
		 */
		return bad_usage("--seccomp-filter %s: kvmbox cannot load Firecracker's compiled "
				 "filters; it applies its own per-thread lists: drop the option "
				 "or give --no-seccomp",
				 arg);
	case O_LOG_PATH:
		o->log_path = arg;
		break;
	case O_LEVEL:
		o->level = arg;
		break;
	case O_METRICS_PATH:
		o->metrics_path = arg;
		break;
	case O_MAX_PAYLOAD:
		if (parse_uint(arg, 1, 16 * MiB, &o->body_limit))
			return bad_usage("--http-api-max-payload-size %s: give 1 to 16777216", arg);
		break;
	}
	return 0;
}

/* -1 when the process should run, else an exit status. */
static int take_api_option(int opt, const char *arg, void *ctx)
{
	return parse_one(opt, arg, ctx);
}

static int parse_args(int argc, char **argv, struct api_opts *o)
{
	const struct opts_loop loop = {.shortopts = ":h",
				       .longopts = options,
				       .help = usage,
				       .help_cmd = "kvmbox --api-sock x --help",
				       .take = take_api_option,
				       .ctx = o};
	int ret;

	*o = (struct api_opts){.sock = DEFAULT_API_SOCK, .body_limit = HTTP_DEFAULT_BODY_LIMIT};
	if (sandbox_default_mode(&o->seccomp))
		return bad_usage("KVMBOX_SECCOMP=%s: use on, log or off", getenv("KVMBOX_SECCOMP"));
	ret = opts_parse(argc, argv, &loop);
	if (ret >= 0)
		return ret;
	if (o->no_api && !o->config_file)
		return bad_usage("%s",
				 "--no-api needs --config-file: nothing could configure the VM");
	return -1;
}

/* --log-path, --level and --metrics-path go through the handlers PUT /logger uses. */
static int apply_log_options(struct api *api, const struct api_opts *o)
{
	struct api_resp resp = {0};
	json_t *body;
	int ret = 0;

	if (o->log_path || o->level) {
		body = json_object();
		if (o->log_path)
			json_object_set_new(body, "log_path", json_string(o->log_path));
		if (o->level)
			json_object_set_new(body, "level", json_string(o->level));
		api_put_logger(api, body, &resp);
		json_decref(body);
	}
	if (resp.status == 204 || !resp.status) {
		free(resp.body);
		resp = (struct api_resp){0};
		if (o->metrics_path) {
			body = json_pack("{s:s}", "metrics_path", o->metrics_path);
			api_put_metrics(api, body, &resp);
			json_decref(body);
		}
	}
	if (resp.status == 400) {
		json_t *j = json_loads(resp.body, 0, NULL);

		pr_err("%s", json_string_value(json_object_get(j, "fault_message")));
		json_decref(j);
		ret = -1;
	}
	free(resp.body);
	return ret;
}

static int block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* After InstanceStart: the VM runs on this thread, the API on its own. */
static int run_started(struct api *api, struct api_server *srv)
{
	enum vm_stop_reason reason;
	int status;

	if (srv && api_server_start_thread(srv)) {
		pr_err("cannot start the API thread");
		return EXIT_VMM_ERROR;
	}
	console_setup();
	reason = vm_run(api->vm);
	console_restore();
	if (srv)
		api_server_close(srv);
	status = vm_exit_status(api->vm, reason);
	vm_destroy(api->vm);
	api->vm = NULL;
	return status;
}

/*
 * With --config-file: configure and boot at once. -1 when it booted, else a status; a
 * failed start has said why already (vm_create logs its one line).
 */
static int boot_from_file(struct api *api, const char *path)
{
	struct api_resp resp = {0};

	if (api_load_config_file(api, path))
		return EXIT_BAD_INPUT;
	if (!api_instance_start(api, &resp))
		return -1;
	if (!*log_last_error())
		pr_err("--config-file %s: the VM could not be started", path);
	free(resp.body);
	return api->start_status ? api->start_status : EXIT_VMM_ERROR;
}

static int serve(struct api *api, const struct api_opts *o)
{
	struct api_server srv, *s = NULL;
	int sig_fd, ret;

	if (!o->no_api) {
		ret = api_server_open(&srv, api, o->sock);
		if (ret)
			return -ret;
		s = &srv;
	}
	sig_fd = block_signals();
	vcpu_install_kick_handler();
	/*
	 * The filters go on after set-up, as with kvmbox run: the API thread's from its
	 * start after InstanceStart, the main thread's once the vCPUs run (vm_run).
	 */
	sandbox_init(o->seccomp);
	ret = o->config_file ? boot_from_file(api, o->config_file) : -1;
	if (ret < 0 && !api->vm)
		ret = api_server_serve_preboot(s, sig_fd);
	close(sig_fd);
	if (ret <= 0 && api->vm)
		return run_started(api, s);
	if (s)
		api_server_close(s);
	return ret;
}

int api_main(int argc, char **argv)
{
	struct api_opts o;
	struct api api;
	int ret = parse_args(argc, argv, &o);

	if (ret >= 0)
		return ret;
	api_init(&api, o.id);
	api.body_limit = o.body_limit;
	api.boot_timer = o.boot_timer;
	api.cfg.seccomp = o.seccomp;
	ret = apply_log_options(&api, &o) ? EXIT_BAD_INPUT : serve(&api, &o);
	api_free(&api);
	return ret;
}
