// SPDX-License-Identifier: GPL-2.0-only
/* PUT /logger, /metrics and /actions. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../arch/arch.h"
#include "../util/log.h"
#include "../vm.h"
#include "fields.h"

/*
 * Opens a log or metrics destination as Firecracker does: it must exist (often a FIFO
 * the client reads), opened read-write so a FIFO never blocks the open, and non-blocking
 * so a reader that stops never stalls kvmbox: lines are dropped instead.
 */
static int open_sink(const char *what, const char *path, struct api_resp *resp)
{
	int fd = open(path, O_RDWR | O_APPEND | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		api_fault(resp, "Cannot open the %s file %s: %s", what, path, strerror(errno));
	return fd;
}

static const struct {
	const char *name;
	enum log_level level;
} log_levels[] = {
	{"Off", LOG_ERR},   {"Error", LOG_ERR},	  {"Warning", LOG_WARN},
	{"Info", LOG_INFO}, {"Debug", LOG_DEBUG}, {"Trace", LOG_DEBUG},
};

static int parse_level(const char *s, enum log_level *out)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(log_levels); i++) {
		if (!strcasecmp(s, log_levels[i].name)) {
			*out = log_levels[i].level;
			return 0;
		}
	}
	return -1;
}

static const struct api_field logger_fields[] = {
	{"log_path", F_STR, false},	    {"level", F_STR, false},  {"show_level", F_BOOL, false},
	{"show_log_origin", F_BOOL, false}, {"module", F_STR, false}, API_FIELDS_END,
};

void api_put_logger(struct api *api, json_t *body, struct api_resp *resp)
{
	const char *path, *level;
	enum log_level lvl = log_level;
	int fd = -1;

	if (api_check_body(body, logger_fields, resp))
		return;
	path = api_str(body, "log_path");
	level = api_str(body, "level");
	if (level && parse_level(level, &lvl)) {
		api_fault(resp, "Invalid log level: %s (Off, Error, Warning, Info, Debug, Trace)",
			  level);
		return;
	}
	if (path) {
		fd = open_sink("log", path, resp);
		if (fd < 0)
			return;
		/* kvmbox logs on stderr: the log file takes its place. */
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	log_level = lvl;
	api_set_str(&api->log_path, path);
	api_set_str(&api->log_level, level);
	resp->status = 204;
}

static const struct api_field metrics_fields[] = {
	{"metrics_path", F_STR, true},
	API_FIELDS_END,
};

void api_put_metrics(struct api *api, json_t *body, struct api_resp *resp)
{
	int fd;

	if (api_check_body(body, metrics_fields, resp))
		return;
	if (api->metrics_fd >= 0) {
		api_fault(resp, "Reinitialization of metrics not allowed.");
		return;
	}
	fd = open_sink("metrics", api_str(body, "metrics_path"), resp);
	if (fd < 0)
		return;
	api->metrics_fd = fd;
	api_set_str(&api->metrics_path, api_str(body, "metrics_path"));
	resp->status = 204;
}

/* One JSON line of every counter's increase since the last (src/util/metrics.h). */
void api_metrics_flush(struct api *api)
{
	struct timespec now;
	char *line;
	ssize_t n;

	clock_gettime(CLOCK_REALTIME, &now);
	line = metrics_line(&api->vm->metrics, (u64)now.tv_sec * 1000 + (u64)now.tv_nsec / 1000000);
	if (!line) {
		pr_warn("metrics: out of memory");
		return;
	}
	n = write(api->metrics_fd, line, strlen(line));
	if (n != (ssize_t)strlen(line))
		pr_debug("metrics: %s", n < 0 ? strerror(errno) : "short write");
	free(line);
	clock_gettime(CLOCK_MONOTONIC, &now);
	api->metrics_next_s = now.tv_sec + API_METRICS_PERIOD_S;
}

int api_metrics_timeout_ms(struct api *api)
{
	struct timespec now;

	if (api->metrics_fd < 0 || !api->vm || api->state == API_NOT_STARTED)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!api->metrics_next_s)
		api->metrics_next_s = now.tv_sec + API_METRICS_PERIOD_S;
	if (now.tv_sec >= api->metrics_next_s)
		return 0;
	return (int)(api->metrics_next_s - now.tv_sec) * 1000;
}

static void flush_metrics(struct api *api, struct api_resp *resp)
{
	if (api->metrics_fd < 0) {
		api_fault(resp, "The metrics system is not initialized: PUT /metrics first.");
		return;
	}
	api_metrics_flush(api);
	resp->status = 204;
}

static const struct api_field action_fields[] = {
	{"action_type", F_STR, true},
	API_FIELDS_END,
};

#define NOT_PRE_BOOT  "The requested operation is not supported before starting the microVM."
#define NOT_POST_BOOT "The requested operation is not supported after starting the microVM."

void api_put_action(struct api *api, json_t *body, struct api_resp *resp)
{
	const char *type;
	bool booted = api->state != API_NOT_STARTED;

	if (api_check_body(body, action_fields, resp))
		return;
	type = api_str(body, "action_type");
	if (!strcmp(type, "InstanceStart")) {
		if (booted)
			api_fault(resp, NOT_POST_BOOT);
		else
			api_instance_start(api, resp);
	} else if (!strcmp(type, "SendCtrlAltDel")) {
		if (!booted)
			api_fault(resp, NOT_PRE_BOOT);
		else if (arch_ctrl_alt_del(api->vm))
			api_fault(resp, "SendCtrlAltDel is not supported on this architecture.");
		else
			resp->status = 204;
	} else if (!strcmp(type, "FlushMetrics")) {
		if (!booted)
			api_fault(resp, NOT_PRE_BOOT);
		else
			flush_metrics(api, resp);
	} else {
		api_fault(resp,
			  "unknown variant `%s`, expected one of `FlushMetrics`, `InstanceStart`, "
			  "`SendCtrlAltDel`",
			  type);
	}
}

static const struct api_field vm_state_fields[] = {
	{"state", F_STR, true},
	API_FIELDS_END,
};

/* How long the vCPUs may take to leave KVM_RUN: an exit being handled finishes first. */
#define PAUSE_TIMEOUT_MS 5000

/*
 * PATCH /vm: every vCPU parked outside KVM_RUN and every device quiet (the disk I/O it
 * took completed, workers stopped, no interrupts), or all running again.
 */
void api_patch_vm(struct api *api, json_t *body, struct api_resp *resp)
{
	const char *state;

	if (api_check_body(body, vm_state_fields, resp))
		return;
	state = api_str(body, "state");
	if (!strcmp(state, "Paused")) {
		if (api->state != API_PAUSED && vm_pause(api->vm, PAUSE_TIMEOUT_MS)) {
			api_fault(
				resp,
				"Failed to pause the microVM: the vCPUs or a device did not stop.");
			return;
		}
		api->state = API_PAUSED;
	} else if (!strcmp(state, "Resumed")) {
		vm_resume(api->vm);
		api->state = API_RUNNING;
	} else {
		api_fault(resp, "unknown variant `%s`, expected `Paused` or `Resumed`", state);
		return;
	}
	resp->status = 204;
}
