/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_API_API_H
#define KVMBOX_API_API_H

#include <jansson.h>
#include <pthread.h>
#include <time.h>

#include "../config.h"
#include "../util/token_bucket.h"
#include "http.h"

/*
 * kvmbox's Firecracker-compatible control API. The pre-boot configuration the API (or a
 * --config-file) collects is kept here in Firecracker's terms and turned into the same
 * struct vm_config that `kvmbox run` fills from its options, at InstanceStart: there is
 * one way to build a VM.
 */
#define API_VERSION   "1.16.0" /* the Firecracker API this one follows */
#define API_ID_MAX    64
#define API_MAX_VCPUS 32 /* Firecracker's limit */

struct vm;
struct balloon_info;

struct api_drive {
	char id[API_ID_MAX + 1];
	char *path;
	char *partuuid;
	bool root;
	bool ro;
	bool writeback;	     /* cache_type Writeback (reported back; kvmbox flushes on request) */
	bool async;	     /* io_engine Async (reported back; kvmbox's I/O is io_uring anyway) */
	struct rl_config rl; /* rate_limiter */
};

struct api_nic {
	char id[API_ID_MAX + 1];
	char *host_dev;
	char *mac; /* NULL: kvmbox picks one */
	struct rl_config rx_rl, tx_rl;
};

enum api_state { API_NOT_STARTED, API_RUNNING, API_PAUSED };

struct api {
	/* From the command line. */
	const char *instance_id;
	size_t body_limit;
	bool boot_timer; /* --boot-timer */

	/* machine-config */
	unsigned int vcpus;
	unsigned int mem_mib;
	bool smt;
	bool track_dirty_pages;
	/* boot-source */
	char *kernel, *initrd, *boot_args;
	/* drives and network-interfaces, in the order they were first put */
	struct api_drive drives[VM_MAX_DISKS];
	unsigned int nr_drives;
	struct api_nic nics[VM_MAX_NICS];
	unsigned int nr_nics;
	/* vsock: the userspace device, serving uds_path (--vsock cid=N,uds=PATH) */
	bool has_vsock;
	char *vsock_id;
	char *vsock_uds;
	unsigned int vsock_cid;
	bool entropy;
	/* balloon: amount_mib follows PATCH /balloon after the start */
	bool has_balloon, balloon_deflate;
	u32 balloon_mib, balloon_stats_s;
	/* logger and metrics */
	char *log_path, *log_level;
	char *metrics_path;
	int metrics_fd;
	time_t metrics_next_s; /* CLOCK_MONOTONIC second of the next periodic line */

	/* What InstanceStart built; cfg outlives the VM, which points to it. */
	struct vm_config cfg;
	char *cfg_strings[VM_MAX_DISKS + VM_MAX_NICS + 3]; /* + cmdline, vsock, balloon */
	struct vm *vm;
	int start_status; /* kvmbox's exit status for the last failed InstanceStart */
	/*
	 * PUT /snapshot/load: the memory file the VM's RAM maps, and the exit status when
	 * a load failed after it had begun building the VM (the process then ends).
	 */
	char *restore_mem;
	struct uffd_conn *restore_uffd; /* the Uffd backend's handler, else NULL */
	int load_failed;
	enum api_state state;
	pthread_mutex_t lock;
};

/* An answer: 200 with body, 204 without, 400 with {"fault_message": ...}. */
struct api_resp {
	int status;
	char *body; /* heap JSON or NULL */
};

void api_init(struct api *api, const char *instance_id);
void api_free(struct api *api);

/* Routes one parsed request; fills resp. Never fails beyond a 400. */
void api_handle(struct api *api, const struct http_request *req, struct api_resp *resp);

/* Sets a 400 with a fault_message. */
void api_fault(struct api_resp *resp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets a 200 with json (which it takes). */
void api_ok_json(struct api_resp *resp, json_t *json);

/*
 * The handlers the router and --config-file share. Each takes a parsed JSON body; id is
 * the path's {id} where there is one. They fill resp (204 on success).
 */
void api_put_machine_config(struct api *api, json_t *body, bool patch, struct api_resp *resp);
void api_put_boot_source(struct api *api, json_t *body, struct api_resp *resp);
void api_put_drive(struct api *api, const char *id, json_t *body, struct api_resp *resp);
void api_patch_drive(struct api *api, const char *id, json_t *body, struct api_resp *resp);
void api_put_nic(struct api *api, const char *id, json_t *body, struct api_resp *resp);
void api_patch_nic(struct api *api, const char *id, json_t *body, struct api_resp *resp);
void api_put_vsock(struct api *api, json_t *body, struct api_resp *resp);
/* uds_path as PUT /vsock takes it (a snapshot load checks its own with it). */
bool api_vsock_uds_ok(const char *uds, struct api_resp *resp);
void api_put_entropy(struct api *api, json_t *body, struct api_resp *resp);
void api_put_balloon(struct api *api, json_t *body, struct api_resp *resp);
void api_patch_balloon(struct api *api, json_t *body, struct api_resp *resp);
void api_get_balloon(struct api *api, json_t *body, struct api_resp *resp);
void api_patch_balloon_stats(struct api *api, json_t *body, struct api_resp *resp);
void api_get_balloon_stats(struct api *api, json_t *body, struct api_resp *resp);
void api_put_logger(struct api *api, json_t *body, struct api_resp *resp);
void api_put_metrics(struct api *api, json_t *body, struct api_resp *resp);
/* Firecracker writes a metrics line every 60 s besides each FlushMetrics. */
#define API_METRICS_PERIOD_S 60
/* Writes one metrics line now; the next periodic one is a period later. */
void api_metrics_flush(struct api *api);
/* Milliseconds until the next periodic line is due (0: now), -1 for none. */
int api_metrics_timeout_ms(struct api *api);
void api_put_action(struct api *api, json_t *body, struct api_resp *resp);
void api_patch_vm(struct api *api, json_t *body, struct api_resp *resp);
void api_put_snapshot_create(struct api *api, json_t *body, struct api_resp *resp);
void api_put_snapshot_load(struct api *api, json_t *body, struct api_resp *resp);

json_t *api_machine_config_json(const struct api *api);
json_t *api_vm_config_json(const struct api *api);
json_t *api_balloon_json(const struct api *api);
/* GET /balloon/statistics: target and actual, and the statistics the guest reported. */
json_t *api_balloon_stats_json(const struct balloon_info *info);

/*
 * InstanceStart: builds api->cfg from the collected configuration and creates the VM
 * (vm_create, as `kvmbox run` does). 0, or -1 with the reason in resp; a failed start
 * leaves the configuration as it was and the process usable.
 */
int api_build_config(struct api *api, struct api_resp *resp);
int api_instance_start(struct api *api, struct api_resp *resp);

/* Applies a --config-file (the keys of GET /vm/config). 0, or -1 after one error line. */
int api_load_config_file(struct api *api, const char *path);
/*
 * Applies a parsed configuration (the keys of GET /vm/config) through the handlers; what
 * starts each error line. 0, or -1 after one error line.
 */
int api_apply_config(struct api *api, const char *what, json_t *root);

#endif
