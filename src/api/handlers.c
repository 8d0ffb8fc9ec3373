// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pre-boot configuration endpoints: each checks its body as Firecracker does and
 * records it in struct api; nothing touches KVM before InstanceStart.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../arch/arch.h"
#include "../devices/virtio/blk.h"
#include "../devices/virtio/net.h"
#include "../devices/virtio/vsock.h"
#include "../vm.h"
#include "fields.h"

static void no_content(struct api_resp *resp)
{
	resp->status = 204;
	resp->body = NULL;
}

/* A file the VM will open: it must exist and be readable now, as Firecracker checks. */
static int check_file(const char *what, const char *path, bool block, struct api_resp *resp)
{
	struct stat st;

	if (stat(path, &st) < 0 || access(path, R_OK) < 0) {
		api_fault(resp, "%s %s cannot be opened: %s", what, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !(block && S_ISBLK(st.st_mode))) {
		api_fault(resp, "%s %s is not a regular file%s", what, path,
			  block ? " or block device" : "");
		return -1;
	}
	/* kvmbox's --disk syntax separates options with commas. */
	if (block && strchr(path, ',')) {
		api_fault(resp, "%s %s: kvmbox cannot take a path with a comma", what, path);
		return -1;
	}
	return 0;
}

static const struct api_field machine_fields[] = {
	{"vcpu_count", F_UINT, true},
	{"mem_size_mib", F_UINT, true},
	{"smt", F_BOOL, false},
	{"track_dirty_pages", F_BOOL, false},
	{"cpu_template", F_STR, false},
	{"huge_pages", F_STR, false},
	API_FIELDS_END,
};

static const struct api_field machine_patch_fields[] = {
	{"vcpu_count", F_UINT, false},
	{"mem_size_mib", F_UINT, false},
	{"smt", F_BOOL, false},
	{"track_dirty_pages", F_BOOL, false},
	{"cpu_template", F_STR, false},
	{"huge_pages", F_STR, false},
	API_FIELDS_END,
};

/* Values only Firecracker's own features give meaning to; the neutral one is accepted. */
static int check_machine_enums(json_t *body, struct api_resp *resp)
{
	const char *tmpl = api_str(body, "cpu_template"), *huge = api_str(body, "huge_pages");

	if (tmpl && strcmp(tmpl, "None")) {
		api_fault(resp, "cpu_template %s is not supported by kvmbox (use None)", tmpl);
		return -1;
	}
	if (huge && strcmp(huge, "None")) {
		if (!strcmp(huge, "2M"))
			api_fault(resp, "huge_pages 2M is not supported by kvmbox (use None)");
		else
			api_fault(resp, "unknown variant `%s`, expected `None` or `2M`", huge);
		return -1;
	}
	return 0;
}

void api_put_machine_config(struct api *api, json_t *body, bool patch, struct api_resp *resp)
{
	u64 vcpus = api->vcpus, mem = api->mem_mib;
	bool smt = patch ? api->smt : false;

	if (api_check_body(body, patch ? machine_patch_fields : machine_fields, resp) ||
	    check_machine_enums(body, resp))
		return;
	api_uint(body, "vcpu_count", &vcpus);
	api_uint(body, "mem_size_mib", &mem);
	smt = api_bool(body, "smt", smt);
	/* Firecracker's answer on aarch64 too: a 400 rather than a setting that does nothing. */
	if (smt && !arch_supports_smt()) {
		api_fault(resp, "Enabling simultaneous multithreading is not supported on this "
				"architecture");
		return;
	}
	if (vcpus < 1 || vcpus > API_MAX_VCPUS || (smt && vcpus > 1 && vcpus % 2)) {
		api_fault(resp, "The vCPU number is invalid! The vCPU number can only be 1 or an "
				"even number when SMT is enabled.");
		return;
	}
	if (mem < VM_MIN_MEMORY / MiB || mem > (u64)1 << 32) {
		api_fault(resp, "The memory size (MiB) is invalid: kvmbox needs at least %llu",
			  (unsigned long long)(VM_MIN_MEMORY / MiB));
		return;
	}
	api->vcpus = (unsigned int)vcpus;
	api->mem_mib = (unsigned int)mem;
	api->smt = smt;
	api->track_dirty_pages =
		api_bool(body, "track_dirty_pages", patch ? api->track_dirty_pages : false);
	no_content(resp);
}

static const struct api_field boot_fields[] = {
	{"kernel_image_path", F_STR, true},
	{"initrd_path", F_STR, false},
	{"boot_args", F_STR, false},
	API_FIELDS_END,
};

void api_put_boot_source(struct api *api, json_t *body, struct api_resp *resp)
{
	const char *kernel, *initrd;

	if (api_check_body(body, boot_fields, resp))
		return;
	kernel = api_str(body, "kernel_image_path");
	initrd = api_str(body, "initrd_path");
	if (check_file("The kernel file", kernel, false, resp) ||
	    (initrd && check_file("The initrd file", initrd, false, resp)))
		return;
	api_set_str(&api->kernel, kernel);
	api_set_str(&api->initrd, initrd);
	api_set_str(&api->boot_args, api_str(body, "boot_args"));
	no_content(resp);
}

/* The path's id and the body's must be the same valid id. */
static int check_ids(const char *path_id, json_t *body, const char *key, struct api_resp *resp)
{
	const char *body_id = api_str(body, key);

	if (!api_valid_id(path_id)) {
		api_fault(resp, "Invalid ID: %s (1 to %d letters, digits or _)", path_id,
			  API_ID_MAX);
		return -1;
	}
	if (strcmp(path_id, body_id)) {
		api_fault(resp,
			  "The id from the path [%s] does not match the id from the body [%s]!",
			  path_id, body_id);
		return -1;
	}
	return 0;
}

static const struct api_field drive_fields[] = {
	{"drive_id", F_STR, true},	    {"path_on_host", F_STR, false},
	{"is_root_device", F_BOOL, true},   {"is_read_only", F_BOOL, false},
	{"partuuid", F_STR, false},	    {"cache_type", F_STR, false},
	{"rate_limiter", F_LIMITER, false}, {"io_engine", F_STR, false},
	{"socket", F_STR, false},	    API_FIELDS_END,
};

static int check_drive_enums(json_t *body, struct api_resp *resp)
{
	const char *cache = api_str(body, "cache_type"), *engine = api_str(body, "io_engine");

	if (cache && strcmp(cache, "Unsafe") && strcmp(cache, "Writeback")) {
		api_fault(resp, "unknown variant `%s`, expected `Unsafe` or `Writeback`", cache);
		return -1;
	}
	if (engine && strcmp(engine, "Sync") && strcmp(engine, "Async")) {
		api_fault(resp, "unknown variant `%s`, expected `Sync` or `Async`", engine);
		return -1;
	}
	if (api_str(body, "socket")) {
		api_fault(resp, "vhost-user drives (socket) are not supported by kvmbox");
		return -1;
	}
	if (!api_str(body, "path_on_host")) {
		api_fault(resp, "missing field `path_on_host`");
		return -1;
	}
	return 0;
}

static struct api_drive *find_drive(struct api *api, const char *id)
{
	for (unsigned int i = 0; i < api->nr_drives; i++) {
		if (!strcmp(api->drives[i].id, id))
			return &api->drives[i];
	}
	return NULL;
}

void api_put_drive(struct api *api, const char *id, json_t *body, struct api_resp *resp)
{
	struct api_drive *d;
	struct rl_config rl;
	unsigned int given;
	const char *path;
	bool root;

	if (api_check_body(body, drive_fields, resp) || check_ids(id, body, "drive_id", resp) ||
	    check_drive_enums(body, resp) ||
	    api_parse_limiter("rate_limiter", json_object_get(body, "rate_limiter"), &rl, &given,
			      resp))
		return;
	path = api_str(body, "path_on_host");
	root = api_bool(body, "is_root_device", false);
	if (check_file("The drive's backing file", path, true, resp))
		return;
	for (unsigned int i = 0; i < api->nr_drives; i++) {
		const struct api_drive *o = &api->drives[i];

		if (!strcmp(o->id, id))
			continue;
		if (root && o->root) {
			api_fault(resp, "A root block device already exists!");
			return;
		}
		/* Each disk locks its file: a second one on the same file could not start. */
		if (!strcmp(o->path, path)) {
			api_fault(resp, "%s is already the backing file of drive %s", path, o->id);
			return;
		}
	}
	d = find_drive(api, id);
	if (!d) {
		if (api->nr_drives == VM_MAX_DISKS) {
			api_fault(resp, "kvmbox takes at most %d drives", VM_MAX_DISKS);
			return;
		}
		d = &api->drives[api->nr_drives++];
		memset(d, 0, sizeof(*d));
		strcpy(d->id, id);
	}
	api_set_str(&d->path, path);
	api_set_str(&d->partuuid, api_str(body, "partuuid"));
	d->root = root;
	d->ro = api_bool(body, "is_read_only", false);
	d->writeback = !strcmp(api_str(body, "cache_type") ?: "", "Writeback");
	d->async = !strcmp(api_str(body, "io_engine") ?: "", "Async");
	d->rl = rl;
	no_content(resp);
}

static const struct api_field nic_fields[] = {
	{"iface_id", F_STR, true},
	{"host_dev_name", F_STR, true},
	{"guest_mac", F_STR, false},
	{"rx_rate_limiter", F_LIMITER, false},
	{"tx_rate_limiter", F_LIMITER, false},
	API_FIELDS_END,
};

/* xx:xx:xx:xx:xx:xx */
static bool valid_mac(const char *s)
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? s[i] != ':' : !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	}
	return true;
}

static struct api_nic *find_nic(struct api *api, const char *id)
{
	for (unsigned int i = 0; i < api->nr_nics; i++) {
		if (!strcmp(api->nics[i].id, id))
			return &api->nics[i];
	}
	return NULL;
}

void api_put_nic(struct api *api, const char *id, json_t *body, struct api_resp *resp)
{
	struct rl_config rx, tx;
	const char *dev, *mac;
	struct api_nic *n;
	unsigned int given;

	if (api_check_body(body, nic_fields, resp) || check_ids(id, body, "iface_id", resp) ||
	    api_parse_limiter("rx_rate_limiter", json_object_get(body, "rx_rate_limiter"), &rx,
			      &given, resp) ||
	    api_parse_limiter("tx_rate_limiter", json_object_get(body, "tx_rate_limiter"), &tx,
			      &given, resp))
		return;
	dev = api_str(body, "host_dev_name");
	mac = api_str(body, "guest_mac");
	if (!api_valid_ifname(dev)) {
		api_fault(resp, "host_dev_name %s is not a valid interface name", dev);
		return;
	}
	if (mac && !valid_mac(mac)) {
		api_fault(resp, "Invalid MAC address: %s", mac);
		return;
	}
	n = find_nic(api, id);
	if (!n) {
		if (api->nr_nics == VM_MAX_NICS) {
			api_fault(resp, "kvmbox takes at most %d network interfaces", VM_MAX_NICS);
			return;
		}
		n = &api->nics[api->nr_nics++];
		memset(n, 0, sizeof(*n));
		strcpy(n->id, id);
	}
	api_set_str(&n->host_dev, dev);
	api_set_str(&n->mac, mac);
	n->rx_rl = rx;
	n->tx_rl = tx;
	no_content(resp);
}

static const struct api_field vsock_fields[] = {
	{"vsock_id", F_STR, false},
	{"guest_cid", F_UINT, true},
	{"uds_path", F_STR, true},
	API_FIELDS_END,
};

/* A path the userspace vsock can bind, with "_<port>" still fitting a sockaddr_un. */
bool api_vsock_uds_ok(const char *uds, struct api_resp *resp)
{
	struct stat st;

	if (!*uds || strlen(uds) > VSOCK_UDS_MAX) {
		api_fault(resp, "Invalid uds_path: give 1 to %d bytes", VSOCK_UDS_MAX);
		return false;
	}
	/* It becomes part of the --vsock option string, which commas separate. */
	if (strchr(uds, ',')) {
		api_fault(resp, "Invalid uds_path %s: kvmbox takes no ',' in it", uds);
		return false;
	}
	if (!lstat(uds, &st)) {
		api_fault(resp, "Invalid uds_path %s: the path exists (remove it, or give another)",
			  uds);
		return false;
	}
	return true;
}

void api_put_vsock(struct api *api, json_t *body, struct api_resp *resp)
{
	u64 cid = 0;

	if (api_check_body(body, vsock_fields, resp))
		return;
	api_uint(body, "guest_cid", &cid);
	if (cid < 3 || cid > 0xfffffffeULL) {
		api_fault(resp, "Invalid guest CID %llu: give 3 to 4294967294",
			  (unsigned long long)cid);
		return;
	}
	if (!api_vsock_uds_ok(api_str(body, "uds_path"), resp))
		return;
	api->has_vsock = true;
	api->vsock_cid = (unsigned int)cid;
	api_set_str(&api->vsock_id, api_str(body, "vsock_id"));
	api_set_str(&api->vsock_uds, api_str(body, "uds_path"));
	no_content(resp);
}

static const struct api_field entropy_fields[] = {
	{"rate_limiter", F_LIMITER, false},
	API_FIELDS_END,
};

void api_put_entropy(struct api *api, json_t *body, struct api_resp *resp)
{
	struct rl_config rl;
	unsigned int given;

	if (api_check_body(body, entropy_fields, resp) ||
	    api_parse_limiter("rate_limiter", json_object_get(body, "rate_limiter"), &rl, &given,
			      resp))
		return;
	if (tb_active(&rl.bw) || tb_active(&rl.ops)) {
		api_fault(resp, "rate_limiter: token buckets on the entropy device are not "
				"supported by kvmbox yet (give {} or null)");
		return;
	}
	api->entropy = true;
	no_content(resp);
}

static const struct api_field drive_patch_fields[] = {
	{"drive_id", F_STR, true},
	{"path_on_host", F_STR, false},
	{"rate_limiter", F_LIMITER, false},
	API_FIELDS_END,
};

/*
 * A PATCH's rate_limiter on top of the current one, as Firecracker updates it: a bucket
 * the body leaves out (or null) stays, one with size or refill_time 0 is removed.
 */
static void merge_limiter(struct rl_config *cur, const struct rl_config *upd, unsigned int given)
{
	if (given & 1)
		cur->bw = tb_active(&upd->bw) ? upd->bw : (struct tb_config){0};
	if (given & 2)
		cur->ops = tb_active(&upd->ops) ? upd->ops : (struct tb_config){0};
}

/* The new backing file: the vCPUs are paused around the swap so no request arrives. */
static int patch_drive_path(struct api *api, struct api_drive *d, const char *path,
			    struct api_resp *resp)
{
	bool was_paused = api->state == API_PAUSED;
	char err[256];
	int ret;

	if (check_file("The drive's backing file", path, true, resp))
		return -1;
	if (!was_paused && vm_pause(api->vm, 5000)) {
		api_fault(resp, "Cannot update the drive: the vCPUs did not pause.");
		return -1;
	}
	ret = virtio_blk_swap(api->vm, d->path, path, err, sizeof(err));
	if (!was_paused)
		vm_resume(api->vm);
	if (ret) {
		api_fault(resp, "Cannot update the drive %s to %s: %s", d->id, path, err);
		return -1;
	}
	api_set_str(&d->path, path);
	return 0;
}

/*
 * PATCH /drives/{id} after the start: a new backing file (Kata fills its placeholders
 * this way) and/or new rate limiter buckets, which the disk's worker uses from its next
 * request on.
 */
void api_patch_drive(struct api *api, const char *id, json_t *body, struct api_resp *resp)
{
	struct rl_config upd, rl;
	const char *path;
	struct api_drive *d;
	unsigned int given;

	if (api_check_body(body, drive_patch_fields, resp) ||
	    check_ids(id, body, "drive_id", resp) ||
	    api_parse_limiter("rate_limiter", json_object_get(body, "rate_limiter"), &upd, &given,
			      resp))
		return;
	d = find_drive(api, id);
	if (!d) {
		api_fault(resp, "Invalid block device ID: %s", id);
		return;
	}
	path = api_str(body, "path_on_host");
	if (path && patch_drive_path(api, d, path, resp))
		return;
	rl = d->rl;
	merge_limiter(&rl, &upd, given);
	if (given && virtio_blk_set_limiter(api->vm, d->path, &rl)) {
		api_fault(resp, "Cannot update the rate limiter of drive %s: no such disk", id);
		return;
	}
	d->rl = rl;
	resp->status = 204;
}

static const struct api_field nic_patch_fields[] = {
	{"iface_id", F_STR, true},
	{"rx_rate_limiter", F_LIMITER, false},
	{"tx_rate_limiter", F_LIMITER, false},
	API_FIELDS_END,
};

/* PATCH /network-interfaces/{id} after the start: new rate limiter buckets, as for drives. */
void api_patch_nic(struct api *api, const char *id, json_t *body, struct api_resp *resp)
{
	struct rl_config rx_upd, tx_upd, rx, tx;
	unsigned int rx_given, tx_given;
	struct api_nic *n;

	if (api_check_body(body, nic_patch_fields, resp) || check_ids(id, body, "iface_id", resp) ||
	    api_parse_limiter("rx_rate_limiter", json_object_get(body, "rx_rate_limiter"), &rx_upd,
			      &rx_given, resp) ||
	    api_parse_limiter("tx_rate_limiter", json_object_get(body, "tx_rate_limiter"), &tx_upd,
			      &tx_given, resp))
		return;
	n = find_nic(api, id);
	if (!n) {
		api_fault(resp, "Invalid network interface ID: %s", id);
		return;
	}
	rx = n->rx_rl;
	tx = n->tx_rl;
	merge_limiter(&rx, &rx_upd, rx_given);
	merge_limiter(&tx, &tx_upd, tx_given);
	/* The NICs were built in the order they were put: n's place is its --net index. */
	if (virtio_net_set_limiters(api->vm, (unsigned int)(n - api->nics), &rx, &tx)) {
		api_fault(resp, "Cannot update the rate limiters of %s: no such device", id);
		return;
	}
	n->rx_rl = rx;
	n->tx_rl = tx;
	resp->status = 204;
}
