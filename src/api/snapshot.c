// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUT /snapshot/create: a full snapshot of the paused VM (src/snapshot/create.c).
 * PUT /snapshot/load: its files are checked (src/snapshot/load.c); the restore itself
 * is not done yet.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "fields.h"
#include "snapshot/create.h"
#include "snapshot/load.h"

static const struct api_field create_fields[] = {
	{"snapshot_type", F_STR, false},
	{"snapshot_path", F_STR, true},
	{"mem_file_path", F_STR, true},
	API_FIELDS_END,
};

void api_put_snapshot_create(struct api *api, json_t *body, struct api_resp *resp)
{
	const char *type, *state_path, *mem_path;
	char err[512];
	json_t *vm_config;
	char *config;
	int ret;

	if (api_check_body(body, create_fields, resp))
		return;
	type = api_str(body, "snapshot_type");
	state_path = api_str(body, "snapshot_path");
	mem_path = api_str(body, "mem_file_path");
	if (type && strcmp(type, "Full")) {
		api_fault(resp, "%s",
			  strcmp(type, "Diff")
				  ? "unknown variant of snapshot_type, expected `Full` or `Diff`"
				  : "Diff snapshots are not supported by kvmbox yet.");
		return;
	}
	if (!state_path || !*state_path || !mem_path || !*mem_path ||
	    !strcmp(state_path, mem_path)) {
		api_fault(resp, "snapshot_path and mem_file_path must be two different files.");
		return;
	}
	if (api->state != API_PAUSED) {
		api_fault(resp, "Cannot create a snapshot: the microVM is not paused.");
		return;
	}
	vm_config = api_vm_config_json(api);
	config = json_dumps(vm_config, JSON_COMPACT);
	json_decref(vm_config);
	if (!config) {
		api_fault(resp, "Cannot create a snapshot: out of memory.");
		return;
	}
	ret = snapshot_create(api->vm, config, state_path, mem_path, err, sizeof(err));
	free(config);
	if (ret) {
		api_fault(resp, "Cannot create a snapshot: %s", err);
		return;
	}
	resp->status = 204;
}

static const struct api_field load_fields[] = {
	{"snapshot_path", F_STR, true},
	{"mem_file_path", F_STR, false},
	{"mem_backend", F_ANY_OBJ, false},
	{"enable_diff_snapshots", F_BOOL, false},
	{"track_dirty_pages", F_BOOL, false},
	{"resume_vm", F_BOOL, false},
	API_FIELDS_END,
};

static const struct api_field backend_fields[] = {
	{"backend_type", F_STR, true},
	{"backend_path", F_STR, true},
	API_FIELDS_END,
};

/* The memory file: mem_backend {File, path}, or the older mem_file_path; one of them. */
static const char *load_mem_path(json_t *body, struct api_resp *resp)
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
	if (strcmp(type, "File")) {
		api_fault(resp, "%s",
			  strcmp(type, "Uffd")
				  ? "unknown variant of backend_type, expected `File` or `Uffd`"
				  : "The Uffd memory backend is not supported by kvmbox yet.");
		return NULL;
	}
	return api_str(backend, "backend_path");
}

static bool api_configured(const struct api *api)
{
	return api->kernel || api->nr_drives || api->nr_nics || api->has_vsock || api->entropy;
}

/*
 * PUT /snapshot/load, on a fresh process: the state and memory files are checked (a
 * damaged, truncated or other-version state file, a short memory file: a 400 that says
 * which). Restoring the VM from them is not done yet, which is a 400 too.
 */
void api_put_snapshot_load(struct api *api, json_t *body, struct api_resp *resp)
{
	const char *mem_path;
	struct statefile sf;
	unsigned int nr_vcpus;
	char err[512];
	u64 ram;

	if (api_check_body(body, load_fields, resp))
		return;
	if (api_configured(api)) {
		api_fault(resp, "Loading a snapshot is not allowed after configuring boot-specific "
				"resources.");
		return;
	}
	mem_path = load_mem_path(body, resp);
	if (!mem_path)
		return;
	if (snapshot_load_check(api_str(body, "snapshot_path"), mem_path, &sf, &ram, &nr_vcpus, err,
				sizeof(err))) {
		api_fault(resp, "Cannot load the snapshot: %s", err);
		return;
	}
	statefile_free(&sf);
	api_fault(resp,
		  "The snapshot's files are whole (%u vCPUs, %llu MiB), but restoring a VM "
		  "from a snapshot is not supported by kvmbox yet.",
		  nr_vcpus, (unsigned long long)(ram >> 20));
}
