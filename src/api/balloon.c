// SPDX-License-Identifier: GPL-2.0-only
/*
 * The balloon endpoints as Firecracker has them: PUT /balloon before the start (the
 * device's three settings), PATCH /balloon after it (a new target), GET /balloon (the
 * settings, with the current target), GET /balloon/statistics and PATCH
 * /balloon/statistics after the start, the latter only to change an interval that is
 * already on: statistics cannot be turned on or off once the device exists.
 */
#include <stdio.h>

#include "../devices/virtio/balloon.h"
#include "fields.h"

static const struct api_field balloon_fields[] = {
	{"amount_mib", F_UINT, true},
	{"deflate_on_oom", F_BOOL, true},
	{"stats_polling_interval_s", F_UINT, false},
	{"free_page_hinting", F_BOOL, false},
	{"free_page_reporting", F_BOOL, false},
	API_FIELDS_END,
};

static bool amount_ok(const struct api *api, u64 mib, struct api_resp *resp)
{
	if (mib <= api->mem_mib)
		return true;
	api_fault(resp, "Amount of pages requested is too large: %llu MiB, the guest has %u MiB.",
		  (unsigned long long)mib, api->mem_mib);
	return false;
}

void api_put_balloon(struct api *api, json_t *body, struct api_resp *resp)
{
	u64 mib = 0, secs = 0;

	if (api_check_body(body, balloon_fields, resp))
		return;
	api_uint(body, "amount_mib", &mib);
	api_uint(body, "stats_polling_interval_s", &secs);
	if (!amount_ok(api, mib, resp))
		return;
	if (secs > BALLOON_MAX_INTERVAL) {
		api_fault(resp, "stats_polling_interval_s is at most %u seconds.",
			  BALLOON_MAX_INTERVAL);
		return;
	}
	/* Free page hinting and reporting are not done: refused rather than ignored. */
	if (api_bool(body, "free_page_hinting", false) ||
	    api_bool(body, "free_page_reporting", false)) {
		api_fault(resp, "Free page hinting and reporting are not supported by kvmbox.");
		return;
	}
	api->has_balloon = true;
	api->balloon_mib = (u32)mib;
	api->balloon_deflate = api_bool(body, "deflate_on_oom", false);
	api->balloon_stats_s = (u32)secs;
	resp->status = 204;
}

/* The running device; a 400 when there is none. */
static struct virtio_balloon *running_balloon(struct api *api, struct api_resp *resp)
{
	struct virtio_balloon *b = api->has_balloon ? virtio_balloon_find(api->vm) : NULL;

	if (!b)
		api_fault(resp, "No balloon device configured.");
	return b;
}

static const struct api_field balloon_update_fields[] = {
	{"amount_mib", F_UINT, true},
	API_FIELDS_END,
};

void api_patch_balloon(struct api *api, json_t *body, struct api_resp *resp)
{
	struct virtio_balloon *b;
	u64 mib = 0;

	if (api_check_body(body, balloon_update_fields, resp))
		return;
	b = running_balloon(api, resp);
	api_uint(body, "amount_mib", &mib);
	if (!b || !amount_ok(api, mib, resp))
		return;
	virtio_balloon_set_target(b, (u32)mib);
	api->balloon_mib = (u32)mib;
	resp->status = 204;
}

static const struct api_field stats_update_fields[] = {
	{"stats_polling_interval_s", F_UINT, true},
	API_FIELDS_END,
};

void api_patch_balloon_stats(struct api *api, json_t *body, struct api_resp *resp)
{
	struct virtio_balloon *b;
	u64 secs = 0;

	if (api_check_body(body, stats_update_fields, resp))
		return;
	b = running_balloon(api, resp);
	if (!b)
		return;
	api_uint(body, "stats_polling_interval_s", &secs);
	if (!api->balloon_stats_s || !secs) {
		api_fault(resp, "Cannot enable or disable the statistics after boot.");
		return;
	}
	if (virtio_balloon_set_interval(b, secs > BALLOON_MAX_INTERVAL ? 0 : (u32)secs)) {
		api_fault(resp, "stats_polling_interval_s is at most %u seconds.",
			  BALLOON_MAX_INTERVAL);
		return;
	}
	api->balloon_stats_s = (u32)secs;
	resp->status = 204;
}

json_t *api_balloon_json(const struct api *api)
{
	if (!api->has_balloon)
		return json_null();
	return json_pack("{s:i, s:b, s:i, s:b, s:b}", "amount_mib", (json_int_t)api->balloon_mib,
			 "deflate_on_oom", api->balloon_deflate, "stats_polling_interval_s",
			 (json_int_t)api->balloon_stats_s, "free_page_hinting", 0,
			 "free_page_reporting", 0);
}

void api_get_balloon(struct api *api, json_t *body, struct api_resp *resp)
{
	(void)body;
	if (!api->has_balloon)
		api_fault(resp, "No balloon device configured.");
	else
		api_ok_json(resp, api_balloon_json(api));
}

/* Firecracker's names of the virtio statistics tags; byte counts are in bytes there too. */
static const char *const stat_names[BALLOON_STAT_TAGS] = {
	[VIRTIO_BALLOON_S_SWAP_IN] = "swap_in",
	[VIRTIO_BALLOON_S_SWAP_OUT] = "swap_out",
	[VIRTIO_BALLOON_S_MAJFLT] = "major_faults",
	[VIRTIO_BALLOON_S_MINFLT] = "minor_faults",
	[VIRTIO_BALLOON_S_MEMFREE] = "free_memory",
	[VIRTIO_BALLOON_S_MEMTOT] = "total_memory",
	[VIRTIO_BALLOON_S_AVAIL] = "available_memory",
	[VIRTIO_BALLOON_S_CACHES] = "disk_caches",
	[VIRTIO_BALLOON_S_HTLB_PGALLOC] = "hugetlb_allocations",
	[VIRTIO_BALLOON_S_HTLB_PGFAIL] = "hugetlb_failures",
	[10] = "oom_kill",
	[11] = "alloc_stall",
	[12] = "async_scan",
	[13] = "direct_scan",
	[14] = "async_reclaim",
	[15] = "direct_reclaim",
};

json_t *api_balloon_stats_json(const struct balloon_info *info)
{
	json_t *j =
		json_pack("{s:I, s:I, s:I, s:I}", "target_pages", (json_int_t)info->target_pages,
			  "actual_pages", (json_int_t)info->actual_pages, "target_mib",
			  (json_int_t)(info->target_pages / BALLOON_PAGES_PER_MIB), "actual_mib",
			  (json_int_t)(info->actual_pages / BALLOON_PAGES_PER_MIB));

	/* Only what the guest reported; a value past INT64_MAX is clamped, not negative. */
	for (unsigned int t = 0; j && t < BALLOON_STAT_TAGS; t++) {
		if (info->stats_valid & (1u << t))
			json_object_set_new(
				j, stat_names[t],
				json_integer((json_int_t)MIN(info->stats[t], (u64)INT64_MAX)));
	}
	return j;
}

void api_get_balloon_stats(struct api *api, json_t *body, struct api_resp *resp)
{
	struct virtio_balloon *b = running_balloon(api, resp);
	struct balloon_info info;

	(void)body;
	if (!b)
		return;
	if (!api->balloon_stats_s) {
		api_fault(resp, "Statistics for the balloon device are not enabled.");
		return;
	}
	virtio_balloon_info(b, &info);
	api_ok_json(resp, api_balloon_stats_json(&info));
}
