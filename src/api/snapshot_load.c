// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUT /snapshot/load, on a fresh process. Two phases, as Firecracker has them:
 *  - checks that change nothing (the body, the state file's CRC, version and sections,
 *    the memory file's size, the saved configuration against the state): a failure is
 *    a 400 and the process stays as it was;
 *  - building the VM from the saved configuration and putting the state back: a failure
 *    there leaves a half-made VM and configuration, so kvmbox answers 400 and exits
 *    with EXIT_VMM_ERROR after one line saying why.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../snapshot/create.h"
#include "../snapshot/load.h"
#include "../snapshot/restore.h"
#include "../snapshot/uffd.h"
#include "../util/log.h"
#include "../vm.h"
#include "fields.h"

static const struct api_field load_fields[] = {
	{"snapshot_path", F_STR, true},
	{"mem_file_path", F_STR, false},
	{"mem_backend", F_ANY_OBJ, false},
	{"enable_diff_snapshots", F_BOOL, false},
	{"track_dirty_pages", F_BOOL, false},
	{"resume_vm", F_BOOL, false},
	{"network_overrides", F_ARRAY, false},
	{"vsock_override", F_ANY_OBJ, false},
	API_FIELDS_END,
};

static const struct api_field backend_fields[] = {
	{"backend_type", F_STR, true},
	{"backend_path", F_STR, true},
	API_FIELDS_END,
};

static const struct api_field override_fields[] = {
	{"iface_id", F_STR, true},
	{"host_dev_name", F_STR, true},
	API_FIELDS_END,
};

/*
 * The memory file: mem_backend {File, path}, or the older mem_file_path; one of them.
 * With {Uffd, path}, *uffd is set and the path is the page-fault handler's socket.
 */
static const char *load_mem_path(json_t *body, bool *uffd, struct api_resp *resp)
{
	json_t *backend = json_object_get(body, "mem_backend");
	const char *old = api_str(body, "mem_file_path"), *type;

	if (!backend || json_is_null(backend)) {
		if (!old)
			api_fault(resp, "Missing field: mem_backend (or mem_file_path).");
		return old;
	}
	if (old) {
		api_fault(resp, "Only one of mem_file_path and mem_backend may be given.");
		return NULL;
	}
	if (api_check_body(backend, backend_fields, resp))
		return NULL;
	type = api_str(backend, "backend_type");
	*uffd = !strcmp(type, "Uffd");
	if (strcmp(type, "File") && !*uffd) {
		api_fault(resp, "unknown variant of backend_type, expected `File` or `Uffd`");
		return NULL;
	}
	return api_str(backend, "backend_path");
}

static bool api_configured(const struct api *api)
{
	return api->kernel || api->nr_drives || api->nr_nics || api->has_vsock || api->entropy;
}

/* The saved interface iface_id (an object of the config's array), or NULL. */
static json_t *saved_nic(json_t *config, const char *id)
{
	json_t *nics = json_object_get(config, "network-interfaces"), *nic;
	size_t i;

	json_array_foreach(nics, i, nic)
	{
		const char *nic_id = api_str(nic, "iface_id");

		if (nic_id && !strcmp(nic_id, id))
			return nic;
	}
	return NULL;
}

/* network_overrides: each names a saved interface and the tap it uses from now on. */
static int apply_overrides(json_t *config, json_t *overrides, struct api_resp *resp)
{
	json_t *o, *nic;
	size_t i;

	json_array_foreach(overrides, i, o)
	{
		const char *dev;

		if (api_check_body(o, override_fields, resp))
			return -1;
		dev = api_str(o, "host_dev_name");
		if (!api_valid_ifname(dev)) {
			api_fault(resp, "host_dev_name %s is not a valid interface name", dev);
			return -1;
		}
		nic = saved_nic(config, api_str(o, "iface_id"));
		if (!nic) {
			api_fault(resp, "network_overrides: the snapshot has no interface %s",
				  api_str(o, "iface_id"));
			return -1;
		}
		json_object_set_new(nic, "host_dev_name", json_string(dev));
	}
	return 0;
}

static const struct api_field vsock_override_fields[] = {
	{"uds_path", F_STR, true},
	API_FIELDS_END,
};

/*
 * The userspace vsock binds its uds_path again (vsock_override: another one), which
 * must not exist: a kvmbox that was killed leaves its socket file behind. Checked here,
 * before anything is built, so that a taken path is a 400 and not the end of kvmbox.
 */
static int load_vsock(json_t *config, json_t *override, struct api_resp *resp)
{
	json_t *vsock = json_object_get(config, "vsock");
	const char *uds;
	struct stat st;

	if (override && !json_is_null(override)) {
		if (api_check_body(override, vsock_override_fields, resp))
			return -1;
		if (!json_is_object(vsock)) {
			api_fault(resp, "vsock_override: the snapshot has no vsock device");
			return -1;
		}
		json_object_set(vsock, "uds_path", json_object_get(override, "uds_path"));
	}
	if (!json_is_object(vsock))
		return 0;
	uds = api_str(vsock, "uds_path");
	if (!uds) {
		api_fault(resp, "Cannot load the snapshot: its configuration is not valid.");
		return -1;
	}
	if (!lstat(uds, &st)) {
		api_fault(resp,
			  "Cannot load the snapshot: the vsock uds_path %s exists (left by the "
			  "kvmbox that took the snapshot?): remove it, or give vsock_override",
			  uds);
		return -1;
	}
	return api_vsock_uds_ok(uds, resp) ? 0 : -1;
}

/* The saved configuration must describe the saved state: same RAM, same vCPUs. */
static json_t *saved_config(const struct statefile *sf, u64 ram, unsigned int nr_vcpus,
			    struct api_resp *resp)
{
	const struct statefile_section *sec = statefile_find(sf, SNAP_SEC_CONFIG);
	json_t *config =
		json_loadb((const char *)sec->data, sec->len, JSON_REJECT_DUPLICATES, NULL);
	json_t *machine = json_object_get(config, "machine-config");
	json_t *boot = json_object_get(config, "boot-source");
	u64 mib = 0, vcpus = 0;

	if (!json_is_object(config) || !api_uint(machine, "mem_size_mib", &mib) ||
	    !api_uint(machine, "vcpu_count", &vcpus) || !api_str(boot, "kernel_image_path") ||
	    !json_is_array(json_object_get(config, "network-interfaces"))) {
		api_fault(resp, "Cannot load the snapshot: its configuration is not valid.");
	} else if (mib > (ram >> 20) || mib << 20 != ram || vcpus != nr_vcpus) {
		api_fault(resp,
			  "Cannot load the snapshot: its configuration (%llu MiB, %llu vCPUs) "
			  "does not match its state (%llu MiB, %u vCPUs).",
			  (unsigned long long)mib, (unsigned long long)vcpus,
			  (unsigned long long)(ram >> 20), nr_vcpus);
	} else {
		return config;
	}
	json_decref(config);
	return NULL;
}

/*
 * The saved configuration as the pre-boot one, through the handlers: not the logger or
 * metrics (this process has its own), and the boot source as it was without its files,
 * which a restored VM does not read. 0, or -1 after one error line.
 */
static int apply_saved_config(struct api *api, json_t *config)
{
	json_t *boot = json_object_get(config, "boot-source");

	api_set_str(&api->kernel, api_str(boot, "kernel_image_path"));
	api_set_str(&api->initrd, api_str(boot, "initrd_path"));
	api_set_str(&api->boot_args, api_str(boot, "boot_args"));
	json_object_del(config, "boot-source");
	json_object_del(config, "logger");
	json_object_del(config, "metrics");
	return api_apply_config(api, "the snapshot's configuration", config);
}

/*
 * The second phase: 0, or -1 after one error line (the VM is gone then). body's
 * resume_vm and, as in Firecracker, its track_dirty_pages (the older name:
 * enable_diff_snapshots) rather than the saved machine-config's: Diff snapshots of the
 * restored VM hold the pages changed since this load, relative to its memory file.
 * t0 and t_checked: the request's arrival and the first phase's end, for --boot-timer.
 */
static int restore(struct api *api, json_t *config, const struct statefile *sf, json_t *body,
		   u64 t0, u64 t_checked)
{
	bool resume = api_bool(body, "resume_vm", false);
	struct api_resp resp = {0};
	struct vm *vm = NULL;
	char err[512];
	u64 t_built;

	log_clear_error();
	if (apply_saved_config(api, config))
		return -1;
	api->track_dirty_pages = api_bool(body, "track_dirty_pages", false) ||
				 api_bool(body, "enable_diff_snapshots", false);
	if (api_build_config(api, &resp)) {
		free(resp.body);
		pr_err("snapshot load: the configuration cannot be built");
		return -1;
	}
	api->cfg.restore_mem = api->restore_mem;
	api->cfg.restore_uffd = api->restore_uffd;
	if (vm_create(&vm, &api->cfg) < 0) {
		vm_destroy(vm);
		return -1; /* vm_create said why */
	}
	t_built = vm_now_ns();
	if (snapshot_restore(vm, sf, err, sizeof(err))) {
		pr_err("snapshot load: %s", err);
		vm_destroy(vm);
		return -1;
	}
	api->vm = vm;
	if (api->boot_timer) {
		/* Where the time to the first KVM_RUN goes (tools/bench/snapshot reads it). */
		pr_warn("boot timer: snapshot load: files checked %.3f ms, VM built %.3f ms, "
			"state restored %.3f ms after the request",
			(double)(t_checked - t0) / 1e6, (double)(t_built - t0) / 1e6,
			(double)(vm_now_ns() - t0) / 1e6);
		vm->timer_start_ns = t0;
		vm->timer_what = "snapshot load";
	}
	/* Paused: the vCPUs park before their first KVM_RUN, the devices stay stopped. */
	if (!resume && vm_pause(vm, 0)) {
		pr_err("snapshot load: the restored VM cannot be kept paused");
		return -1;
	}
	if (resume)
		vm_resume(vm); /* starts the devices' workers where they were */
	api->state = resume ? API_RUNNING : API_PAUSED;
	return 0;
}

/* The Uffd backend's handler, connected last in the first phase: 0, or -1 with a 400. */
static int connect_uffd(struct api *api, const char *path, struct api_resp *resp)
{
	struct uffd_conn *c = calloc(1, sizeof(*c));
	char err[512];

	if (!c) {
		api_fault(resp, "Cannot load the snapshot: out of memory");
		return -1;
	}
	if (uffd_open(c, path, err, sizeof(err))) {
		api_fault(resp, "Cannot load the snapshot: %s", err);
		free(c);
		return -1;
	}
	api->restore_uffd = c;
	return 0;
}

/* The first phase; 0 with sf and *config, or -1 with a 400 in resp. */
static int check_load(struct api *api, json_t *body, struct statefile *sf, json_t **config,
		      struct api_resp *resp)
{
	json_t *overrides = json_object_get(body, "network_overrides");
	const char *mem_path;
	bool uffd = false;
	unsigned int nr_vcpus;
	char err[512];
	u64 ram;

	if (api_check_body(body, load_fields, resp))
		return -1;
	if (api_configured(api)) {
		api_fault(resp, "Loading a snapshot is not allowed after configuring boot-specific "
				"resources.");
		return -1;
	}
	mem_path = load_mem_path(body, &uffd, resp);
	if (!mem_path)
		return -1;
	/* The Uffd handler opens the memory file itself: kvmbox never sees it. */
	if (snapshot_load_check(api_str(body, "snapshot_path"), uffd ? NULL : mem_path, sf, &ram,
				&nr_vcpus, err, sizeof(err))) {
		api_fault(resp, "Cannot load the snapshot: %s", err);
		return -1;
	}
	*config = saved_config(sf, ram, nr_vcpus, resp);
	if (*config && (!overrides || !apply_overrides(*config, overrides, resp)) &&
	    !load_vsock(*config, json_object_get(body, "vsock_override"), resp) &&
	    (!uffd || !connect_uffd(api, mem_path, resp))) {
		api_set_str(&api->restore_mem, mem_path);
		return 0;
	}
	json_decref(*config);
	statefile_free(sf);
	return -1;
}

void api_put_snapshot_load(struct api *api, json_t *body, struct api_resp *resp)
{
	u64 t0 = vm_now_ns();
	struct statefile sf;
	json_t *config = NULL;
	int ret;

	if (check_load(api, body, &sf, &config, resp))
		return;
	ret = restore(api, config, &sf, body, t0, vm_now_ns());
	json_decref(config);
	statefile_free(&sf);
	if (ret) {
		api->load_failed = EXIT_VMM_ERROR;
		api_fault(resp, "Cannot load the snapshot: %s; kvmbox exits.",
			  *log_last_error() ? log_last_error() : "see kvmbox's log");
		return;
	}
	resp->status = 204;
}
