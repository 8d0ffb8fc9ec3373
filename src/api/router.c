// SPDX-License-Identifier: GPL-2.0-only
/*
 * The API's routes: method and path to a handler, the phase (before or after
 * InstanceStart) each call is allowed in, and Firecracker's answers for everything else.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../snapshot/uffd.h"
#include "fields.h"

void api_fault(struct api_resp *resp, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(resp->body);
	j = json_pack("{s:s}", "fault_message", msg);
	resp->status = 400;
	resp->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
}

void api_ok_json(struct api_resp *resp, json_t *json)
{
	free(resp->body);
	resp->status = 200;
	resp->body = json ? json_dumps(json, JSON_COMPACT) : NULL;
	json_decref(json);
	if (!resp->body)
		api_fault(resp, "Out of memory.");
}

void api_init(struct api *api, const char *instance_id)
{
	memset(api, 0, sizeof(*api));
	api->instance_id = instance_id ? instance_id : "anonymous-instance";
	api->body_limit = HTTP_DEFAULT_BODY_LIMIT;
	api->vcpus = 1;
	api->mem_mib = 128; /* Firecracker's default */
	api->metrics_fd = -1;
	pthread_mutex_init(&api->lock, NULL);
}

void api_free(struct api *api)
{
	for (unsigned int i = 0; i < api->nr_drives; i++) {
		free(api->drives[i].path);
		free(api->drives[i].partuuid);
	}
	for (unsigned int i = 0; i < api->nr_nics; i++) {
		free(api->nics[i].host_dev);
		free(api->nics[i].mac);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(api->cfg_strings); i++)
		free(api->cfg_strings[i]);
	free(api->kernel);
	free(api->initrd);
	free(api->boot_args);
	free(api->vsock_id);
	free(api->vsock_uds);
	free(api->log_path);
	free(api->log_level);
	free(api->metrics_path);
	free(api->restore_mem);
	if (api->restore_uffd)
		uffd_close(api->restore_uffd);
	free(api->restore_uffd);
	if (api->metrics_fd >= 0)
		close(api->metrics_fd);
	pthread_mutex_destroy(&api->lock);
}

static const char *const state_names[] = {
	[API_NOT_STARTED] = "Not started",
	[API_RUNNING] = "Running",
	[API_PAUSED] = "Paused",
};

static void get_root(struct api *api, const char *id, json_t *body, struct api_resp *resp)
{
	(void)id, (void)body;
	api_ok_json(resp, json_pack("{s:s, s:s, s:s, s:s}", "id", api->instance_id, "state",
				    state_names[api->state], "vmm_version", API_VERSION, "app_name",
				    "Firecracker"));
}

static void get_version(struct api *api, const char *id, json_t *body, struct api_resp *resp)
{
	(void)api, (void)id, (void)body;
	api_ok_json(resp, json_pack("{s:s}", "firecracker_version", API_VERSION));
}

static void get_machine(struct api *api, const char *id, json_t *body, struct api_resp *resp)
{
	(void)id, (void)body;
	api_ok_json(resp, api_machine_config_json(api));
}

static void get_vm_config(struct api *api, const char *id, json_t *body, struct api_resp *resp)
{
	(void)id, (void)body;
	api_ok_json(resp, api_vm_config_json(api));
}

static void put_machine(struct api *api, const char *id, json_t *body, struct api_resp *resp)
{
	(void)id;
	api_put_machine_config(api, body, false, resp);
}

static void patch_machine(struct api *api, const char *id, json_t *body, struct api_resp *resp)
{
	(void)id;
	api_put_machine_config(api, body, true, resp);
}

#define BODY_ONLY(name, fn)                                                                    \
	static void name(struct api *api, const char *id, json_t *body, struct api_resp *resp) \
	{                                                                                      \
		(void)id;                                                                      \
		fn(api, body, resp);                                                           \
	}
BODY_ONLY(put_boot, api_put_boot_source)
BODY_ONLY(put_vsock, api_put_vsock)
BODY_ONLY(put_entropy, api_put_entropy)
BODY_ONLY(put_balloon, api_put_balloon)
BODY_ONLY(patch_balloon, api_patch_balloon)
BODY_ONLY(get_balloon, api_get_balloon)
BODY_ONLY(patch_balloon_stats, api_patch_balloon_stats)
BODY_ONLY(get_balloon_stats, api_get_balloon_stats)
BODY_ONLY(put_logger, api_put_logger)
BODY_ONLY(put_metrics, api_put_metrics)
BODY_ONLY(put_action, api_put_action)
BODY_ONLY(patch_vm, api_patch_vm)
BODY_ONLY(put_snapshot_create, api_put_snapshot_create)
BODY_ONLY(put_snapshot_load, api_put_snapshot_load)

enum phase { ANY, PRE_BOOT, POST_BOOT };

struct route {
	enum http_method method;
	const char *path; /* with has_id: the prefix before "/{id}" */
	bool has_id;
	enum phase phase;
	void (*fn)(struct api *api, const char *id, json_t *body, struct api_resp *resp);
};

static const struct route routes[] = {
	{HTTP_GET, "/", false, ANY, get_root},
	{HTTP_GET, "/version", false, ANY, get_version},
	{HTTP_GET, "/machine-config", false, ANY, get_machine},
	{HTTP_GET, "/vm/config", false, ANY, get_vm_config},
	{HTTP_PUT, "/machine-config", false, PRE_BOOT, put_machine},
	{HTTP_PATCH, "/machine-config", false, PRE_BOOT, patch_machine},
	{HTTP_PUT, "/boot-source", false, PRE_BOOT, put_boot},
	{HTTP_PUT, "/drives", true, PRE_BOOT, api_put_drive},
	{HTTP_PATCH, "/drives", true, POST_BOOT, api_patch_drive},
	{HTTP_PUT, "/network-interfaces", true, PRE_BOOT, api_put_nic},
	{HTTP_PATCH, "/network-interfaces", true, POST_BOOT, api_patch_nic},
	{HTTP_PUT, "/vsock", false, PRE_BOOT, put_vsock},
	{HTTP_PUT, "/entropy", false, PRE_BOOT, put_entropy},
	{HTTP_PUT, "/balloon", false, PRE_BOOT, put_balloon},
	{HTTP_PATCH, "/balloon", false, POST_BOOT, patch_balloon},
	{HTTP_GET, "/balloon", false, ANY, get_balloon},
	{HTTP_PATCH, "/balloon/statistics", false, POST_BOOT, patch_balloon_stats},
	{HTTP_GET, "/balloon/statistics", false, POST_BOOT, get_balloon_stats},
	{HTTP_PUT, "/logger", false, PRE_BOOT, put_logger},
	{HTTP_PUT, "/metrics", false, PRE_BOOT, put_metrics},
	{HTTP_PUT, "/actions", false, ANY, put_action},
	{HTTP_PATCH, "/vm", false, POST_BOOT, patch_vm},
	{HTTP_PUT, "/snapshot/create", false, POST_BOOT, put_snapshot_create},
	{HTTP_PUT, "/snapshot/load", false, PRE_BOOT, put_snapshot_load},
};

/* Firecracker features kvmbox lacks: every method on these paths gets a 400 saying so. */
static const char *const unsupported[][2] = {
	{"/mmds", "MMDS (the microVM metadata service) is"},
	{"/cpu-config", "Custom CPU templates are"},
	{"/hotplug", "Memory hotplug is"},
	{"/serial", "Serial output configuration is"},
	{"/pmem", "pmem devices are"},
	{NULL, NULL}, /* keeps clang-format from packing the rows */
};

static bool path_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	return !strncmp(path, prefix, n) && (path[n] == '\0' || path[n] == '/');
}

/* The route for method and path; *id points into path for "/prefix/{id}" routes. */
static const struct route *find_route(enum http_method method, const char *path, const char **id)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(routes); i++) {
		const struct route *r = &routes[i];
		size_t n = strlen(r->path);

		if (r->method != method || strncmp(path, r->path, n))
			continue;
		if (!r->has_id && path[n] == '\0')
			return r;
		if (r->has_id && path[n] == '/' && !strchr(path + n + 1, '/')) {
			*id = path + n + 1;
			return r;
		}
	}
	return NULL;
}

/* The body as JSON for PUT and PATCH; GET takes none. NULL after a fault. */
static json_t *parse_body(const struct http_request *req, struct api_resp *resp)
{
	json_error_t jerr;
	json_t *body;

	if (req->method == HTTP_GET) {
		if (req->body_len)
			api_fault(resp, "GET request cannot have a body.");
		return req->body_len ? NULL : json_null();
	}
	if (!req->body_len) {
		api_fault(resp, "Empty %s request.", req->method_name);
		return NULL;
	}
	body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
			  &jerr);
	if (!body)
		api_fault(resp,
			  "An error occurred when deserializing the json body of a request: "
			  "%s at line %d column %d.",
			  jerr.text, jerr.line, jerr.column);
	return body;
}

static bool phase_ok(const struct api *api, enum phase phase, struct api_resp *resp)
{
	bool booted = api->state != API_NOT_STARTED;

	if (phase == PRE_BOOT && booted)
		api_fault(resp, "The requested operation is not supported after starting the "
				"microVM.");
	else if (phase == POST_BOOT && !booted)
		api_fault(resp, "The requested operation is not supported before starting the "
				"microVM.");
	else
		return true;
	return false;
}

void api_handle(struct api *api, const struct http_request *req, struct api_resp *resp)
{
	const struct route *r;
	const char *id = NULL;
	json_t *body;

	resp->status = 500;
	resp->body = NULL;
	for (unsigned int i = 0; unsupported[i][0]; i++) {
		if (path_under(req->path, unsupported[i][0])) {
			api_fault(resp, "%s not supported by kvmbox.", unsupported[i][1]);
			return;
		}
	}
	r = find_route(req->method, req->path, &id);
	if (!r) {
		api_fault(resp, "Invalid request method and/or path: %s %s.", req->method_name,
			  req->path);
		return;
	}
	body = parse_body(req, resp);
	if (!body)
		return;
	pthread_mutex_lock(&api->lock);
	if (phase_ok(api, r->phase, resp))
		r->fn(api, id, body, resp);
	pthread_mutex_unlock(&api->lock);
	json_decref(body);
	if (resp->status == 500)
		api_fault(resp, "Internal error: the handler gave no answer.");
}
