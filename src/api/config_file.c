// SPDX-License-Identifier: GPL-2.0-only
/*
 * --config-file: the whole pre-boot configuration in one JSON file, with the top-level
 * keys of GET /vm/config, applied through the same handlers as the API calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/file.h"
#include "../util/log.h"
#include "fields.h"

#define CONFIG_FILE_MAX (1 * MiB)

/* Says what the handler refused, from its fault_message. */
static int report(const char *path, const char *key, struct api_resp *resp)
{
	json_t *j = resp->body ? json_loads(resp->body, 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(j, "fault_message"));
	int ret = resp->status == 204 ? 0 : -1;

	if (ret)
		pr_err("%s: %s: %s", path, key, msg ? msg : "refused");
	json_decref(j);
	free(resp->body);
	resp->body = NULL;
	return ret;
}

/* "drives" and "network-interfaces": arrays of bodies, each naming its own id. */
static int apply_list(struct api *api, const char *path, const char *key, json_t *list)
{
	bool drives = !strcmp(key, "drives");
	const char *id_key = drives ? "drive_id" : "iface_id";
	size_t i;
	json_t *item;

	if (!json_is_array(list)) {
		pr_err("%s: %s must be an array", path, key);
		return -1;
	}
	json_array_foreach(list, i, item)
	{
		struct api_resp resp = {0};
		const char *id = api_str(item, id_key);

		if (!id) {
			pr_err("%s: %s[%zu]: missing field `%s`", path, key, i, id_key);
			return -1;
		}
		if (drives)
			api_put_drive(api, id, item, &resp);
		else
			api_put_nic(api, id, item, &resp);
		if (report(path, key, &resp))
			return -1;
	}
	return 0;
}

static int apply_key(struct api *api, const char *path, const char *key, json_t *v)
{
	struct api_resp resp = {0};

	if (!strcmp(key, "drives") || !strcmp(key, "network-interfaces"))
		return apply_list(api, path, key, v);
	if (!strcmp(key, "machine-config"))
		api_put_machine_config(api, v, false, &resp);
	else if (!strcmp(key, "boot-source"))
		api_put_boot_source(api, v, &resp);
	else if (!strcmp(key, "vsock"))
		api_put_vsock(api, v, &resp);
	else if (!strcmp(key, "entropy"))
		api_put_entropy(api, v, &resp);
	else if (!strcmp(key, "balloon"))
		api_put_balloon(api, v, &resp);
	else if (!strcmp(key, "logger"))
		api_put_logger(api, v, &resp);
	else if (!strcmp(key, "metrics"))
		api_put_metrics(api, v, &resp);
	else
		api_fault(&resp, "not supported by kvmbox (give null or leave it out)");
	return report(path, key, &resp);
}

/* Applied in this order whatever the file's: the logger first, the boot source before
 * the drives whose root device extends its command line (order does not matter there). */
static const char *const known_keys[] = {
	"logger", "metrics", "machine-config", "boot-source", "drives",	    "network-interfaces",
	"vsock",  "entropy", "balloon",	       "mmds-config", "cpu-config",
};

static bool known(const char *key)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(known_keys); i++) {
		if (!strcmp(known_keys[i], key))
			return true;
	}
	return false;
}

int api_apply_config(struct api *api, const char *path, json_t *root)
{
	const char *key;
	json_t *v;

	json_object_foreach(root, key, v)
	{
		if (!known(key)) {
			pr_err("%s: unknown key `%s`", path, key);
			return -1;
		}
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(known_keys); i++) {
		v = json_object_get(root, known_keys[i]);
		if (v && !json_is_null(v) && apply_key(api, path, known_keys[i], v))
			return -1;
	}
	if (!api->kernel) {
		pr_err("%s: boot-source is required", path);
		return -1;
	}
	return 0;
}

int api_load_config_file(struct api *api, const char *path)
{
	json_error_t jerr;
	size_t len;
	u8 *buf;
	json_t *root;
	char *what;
	int ret;

	if (read_whole_file(path, "--config-file", CONFIG_FILE_MAX, &buf, &len))
		return -1;
	root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!root) {
		pr_err("--config-file %s: not valid JSON: %s at line %d column %d", path, jerr.text,
		       jerr.line, jerr.column);
		return -1;
	}
	if (asprintf(&what, "--config-file %s", path) >= 0) {
		ret = api_apply_config(api, what, root);
		free(what);
	} else {
		pr_err("--config-file %s: out of memory", path);
		ret = -1;
	}
	json_decref(root);
	return ret;
}
