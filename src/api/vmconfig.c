// SPDX-License-Identifier: GPL-2.0-only
/*
 * The collected configuration as Firecracker reports it (GET /machine-config, GET
 * /vm/config), and turned into kvmbox's own struct vm_config at InstanceStart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "../vm.h"
#include "fields.h"

/* A string or null. */
static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *api_machine_config_json(const struct api *api)
{
	return json_pack("{s:i, s:i, s:b, s:b, s:s}", "vcpu_count", (int)api->vcpus, "mem_size_mib",
			 (int)api->mem_mib, "smt", api->smt, "track_dirty_pages",
			 api->track_dirty_pages, "huge_pages", "None");
}

static json_t *boot_source_json(const struct api *api)
{
	if (!api->kernel)
		return json_null();
	return json_pack("{s:s, s:o, s:o}", "kernel_image_path", api->kernel, "initrd_path",
			 str_or_null(api->initrd), "boot_args", str_or_null(api->boot_args));
}

static json_t *drives_json(const struct api *api)
{
	json_t *a = json_array();

	for (unsigned int i = 0; i < api->nr_drives; i++) {
		const struct api_drive *d = &api->drives[i];

		json_array_append_new(
			a, json_pack("{s:s, s:o, s:b, s:s, s:b, s:s, s:o, s:s, s:n}", "drive_id",
				     d->id, "partuuid", str_or_null(d->partuuid), "is_root_device",
				     d->root, "cache_type", d->writeback ? "Writeback" : "Unsafe",
				     "is_read_only", d->ro, "path_on_host", d->path, "rate_limiter",
				     api_limiter_json(&d->rl), "io_engine",
				     d->async ? "Async" : "Sync", "socket"));
	}
	return a;
}

static json_t *nics_json(const struct api *api)
{
	json_t *a = json_array();

	for (unsigned int i = 0; i < api->nr_nics; i++) {
		const struct api_nic *n = &api->nics[i];

		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:o, s:o}", "iface_id", n->id,
						   "host_dev_name", n->host_dev, "guest_mac",
						   str_or_null(n->mac), "rx_rate_limiter",
						   api_limiter_json(&n->rx_rl), "tx_rate_limiter",
						   api_limiter_json(&n->tx_rl)));
	}
	return a;
}

static json_t *vsock_json(const struct api *api)
{
	if (!api->has_vsock)
		return json_null();
	return json_pack("{s:o, s:i, s:s}", "vsock_id", str_or_null(api->vsock_id), "guest_cid",
			 (json_int_t)api->vsock_cid, "uds_path", api->vsock_uds);
}

json_t *api_vm_config_json(const struct api *api)
{
	json_t *logger = api->log_path || api->log_level
				 ? json_pack("{s:o, s:o}", "log_path", str_or_null(api->log_path),
					     "level", str_or_null(api->log_level))
				 : json_null();
	json_t *metrics = api->metrics_path ? json_pack("{s:s}", "metrics_path", api->metrics_path)
					    : json_null();

	return json_pack("{s:o, s:o, s:o, s:n, s:o, s:o, s:o, s:o, s:o, s:n, s:o}", "balloon",
			 api_balloon_json(api), "drives", drives_json(api), "boot-source",
			 boot_source_json(api), "cpu-config", "logger", logger, "machine-config",
			 api_machine_config_json(api), "metrics", metrics, "network-interfaces",
			 nics_json(api), "vsock", vsock_json(api), "mmds-config", "entropy",
			 api->entropy ? json_pack("{s:n}", "rate_limiter") : json_null());
}

/* Keeps s for the VM's life (freed with the API); NULL when out of memory. */
static char *keep(struct api *api, char *s)
{
	for (unsigned int i = 0; s && i < ARRAY_SIZE(api->cfg_strings); i++) {
		if (!api->cfg_strings[i]) {
			api->cfg_strings[i] = s;
			return s;
		}
	}
	free(s);
	return NULL;
}

static void drop_kept(struct api *api)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(api->cfg_strings); i++) {
		free(api->cfg_strings[i]);
		api->cfg_strings[i] = NULL;
	}
}

/*
 * The kernel command line: boot_args (or kvmbox's default) without "pci=off", which
 * Firecracker's users often pass but which would hide kvmbox's virtio-pci devices, then
 * the root device as Firecracker appends it.
 */
static char *build_cmdline(const struct api *api)
{
	const char *args = api->boot_args ? api->boot_args : VM_DEFAULT_CMDLINE " reboot=k panic=1";
	size_t cap = strlen(args) + 128 + API_ID_MAX;
	char *out = malloc(cap), *copy = strdup(args), *save = NULL;
	size_t len = 0;

	if (!out || !copy) {
		free(out);
		free(copy);
		return NULL;
	}
	out[0] = '\0';
	for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (!strcmp(tok, "pci=off"))
			continue;
		len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? " " : "", tok);
	}
	free(copy);
	for (unsigned int i = 0; i < api->nr_drives; i++) {
		const struct api_drive *d = &api->drives[i];

		if (!d->root)
			continue;
		if (d->partuuid)
			len += (size_t)snprintf(out + len, cap - len, " root=PARTUUID=%.*s",
						API_ID_MAX, d->partuuid);
		else
			len += (size_t)snprintf(out + len, cap - len, " root=/dev/vda");
		snprintf(out + len, cap - len, " %s", d->ro ? "ro" : "rw");
	}
	return out;
}

/* --disk values, the root drive first (it is /dev/vda), then in the order they were put. */
static int build_disks(struct api *api)
{
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < api->nr_drives; i++) {
			const struct api_drive *d = &api->drives[i];
			char bw[80], ops[80], *s;

			if (d->root != (pass == 0))
				continue;
			tb_format(&d->rl.bw, bw, sizeof(bw));
			tb_format(&d->rl.ops, ops, sizeof(ops));
			if (asprintf(&s, "%s%s%s%s%s%s,id=%s", d->path, d->ro ? ",ro" : "",
				     *bw ? ",bw=" : "", bw, *ops ? ",ops=" : "", ops, d->id) < 0 ||
			    !keep(api, s))
				return -1;
			api->cfg.disks[api->cfg.nr_disks++] = s;
		}
	}
	return 0;
}

/* A NIC's buckets as --net items (",rx-bw=S:MS:B" ...), "" when none limits. */
static void nic_limits(const struct api_nic *n, char *buf, size_t size)
{
	static const char *const keys[] = {"rx-bw", "rx-ops", "tx-bw", "tx-ops"};
	const struct tb_config *tbs[] = {&n->rx_rl.bw, &n->rx_rl.ops, &n->tx_rl.bw, &n->tx_rl.ops};
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < ARRAY_SIZE(keys); i++) {
		char b[80];

		if (tb_format(tbs[i], b, sizeof(b)) > 0)
			len += (size_t)snprintf(buf + len, size - len, ",%s=%s", keys[i], b);
	}
}

static int build_devices(struct api *api)
{
	char *s;

	if (build_disks(api))
		return -1;
	for (unsigned int i = 0; i < api->nr_nics; i++) {
		const struct api_nic *n = &api->nics[i];
		char rl[4 * 90];

		nic_limits(n, rl, sizeof(rl));
		if (asprintf(&s, "tap=%s%s%s%s,id=%s", n->host_dev, n->mac ? ",mac=" : "",
			     n->mac ? n->mac : "", rl, n->id) < 0 ||
		    !keep(api, s))
			return -1;
		api->cfg.nics[api->cfg.nr_nics++] = s;
	}
	if (api->has_vsock) {
		/* Firecracker's vsock is the Unix-socket one: uds_path is served (vsock_uds.c). */
		if (asprintf(&s, "cid=%u,uds=%s", api->vsock_cid, api->vsock_uds) < 0 ||
		    !keep(api, s))
			return -1;
		api->cfg.vsock = s;
	}
	api->cfg.rng = api->entropy;
	if (api->has_balloon) {
		if (asprintf(&s, "amount_mib=%u,deflate_on_oom=%s,stats=%u", api->balloon_mib,
			     api->balloon_deflate ? "on" : "off", api->balloon_stats_s) < 0 ||
		    !keep(api, s))
			return -1;
		api->cfg.balloon = s;
	}
	return 0;
}

int api_build_config(struct api *api, struct api_resp *resp)
{
	enum sandbox_mode seccomp = api->cfg.seccomp;
	char *cmdline;

	if (!api->kernel) {
		api_fault(resp, "Cannot start microvm without kernel configuration.");
		return -1;
	}
	drop_kept(api);
	memset(&api->cfg, 0, sizeof(api->cfg));
	api->cfg.kernel = api->kernel;
	api->cfg.initrd = api->initrd;
	api->cfg.cpus = api->vcpus;
	api->cfg.threads_per_core = api->smt ? 2 : 1;
	api->cfg.memory = (u64)api->mem_mib * MiB;
	api->cfg.track_dirty_pages = api->track_dirty_pages;
	api->cfg.on_reboot = ON_REBOOT_EXIT;
	api->cfg.seccomp = seccomp;
	cmdline = keep(api, build_cmdline(api));
	if (!cmdline || build_devices(api)) {
		api_fault(resp, "Out of memory.");
		return -1;
	}
	api->cfg.cmdline = cmdline;
	return 0;
}

int api_instance_start(struct api *api, struct api_resp *resp)
{
	u64 t0 = vm_now_ns();
	struct vm *vm = NULL;
	int ret;

	if (api_build_config(api, resp))
		return -1;
	log_clear_error();
	ret = vm_create(&vm, &api->cfg);
	if (ret < 0) {
		vm_destroy(vm);
		api->start_status = -ret;
		api_fault(resp, "Failed to start the microVM: %s",
			  *log_last_error() ? log_last_error() : "see kvmbox's log");
		return -1;
	}
	api->vm = vm;
	if (api->boot_timer) {
		vm->timer_start_ns = t0;
		vm->timer_what = "InstanceStart";
	}
	api->state = API_RUNNING;
	resp->status = 204;
	resp->body = NULL;
	return 0;
}
