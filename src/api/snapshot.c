// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUT /snapshot/create: a Full or Diff snapshot of the paused VM (src/snapshot/create.c;
 * Diff needs track_dirty_pages).
 * PUT /snapshot/load: snapshot_load.c.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "fields.h"
#include "snapshot/create.h"

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
	bool diff;
	int ret;

	if (api_check_body(body, create_fields, resp))
		return;
	type = api_str(body, "snapshot_type");
	state_path = api_str(body, "snapshot_path");
	mem_path = api_str(body, "mem_file_path");
	diff = type && !strcmp(type, "Diff");
	if (type && !diff && strcmp(type, "Full")) {
		api_fault(resp, "unknown variant of snapshot_type, expected `Full` or `Diff`");
		return;
	}
	if (!state_path || !*state_path || !mem_path || !*mem_path ||
	    !strcmp(state_path, mem_path)) {
		api_fault(resp, "snapshot_path and mem_file_path must be two different files.");
		return;
	}
	if (diff && !api->track_dirty_pages) {
		api_fault(resp, "Diff snapshots need track_dirty_pages set to true in "
				"machine-config (or in the snapshot load that made this microVM).");
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
	ret = snapshot_create(api->vm, config, state_path, mem_path, diff, err, sizeof(err));
	free(config);
	if (ret) {
		api_fault(resp, "Cannot create a snapshot: %s", err);
		return;
	}
	resp->status = 204;
}
