// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control API's balloon endpoints (src/api/balloon.c): PUT /balloon before the
 * start and its refusals, GET /balloon and GET /vm/config, the --balloon string the
 * start builds, and after the start PATCH /balloon, GET and PATCH /balloon/statistics
 * against a virtio-balloon device in a VM without KVM (no transport: no interrupt).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api_call.h"
#include "devices/virtio/balloon.h"
#include "vm.h"

static void expect(struct api *api, enum http_method m, const char *path, const char *body,
		   int status, const char *want)
{
	char *out = NULL;

	assert_int_equal(call(api, m, path, body, &out), status);
	if (want && (!out || !strstr(out, want)))
		fail_msg("%s %s: got %s, wanted %s", path, body ? body : "", out, want);
	free(out);
}

#define OK_BODY "{\"amount_mib\":16,\"deflate_on_oom\":true,\"stats_polling_interval_s\":2}"

static void test_pre_boot(void **state)
{
	struct api api;
	struct api_resp resp = {0};

	(void)state;
	api_init(&api, NULL);
	expect(&api, HTTP_GET, "/balloon", NULL, 400, "No balloon device");
	expect(&api, HTTP_GET, "/vm/config", NULL, 200, "\"balloon\":null");
	expect(&api, HTTP_PUT, "/balloon", "{\"amount_mib\":1}", 400,
	       "missing field `deflate_on_oom`");
	expect(&api, HTTP_PUT, "/balloon", "{\"amount_mib\":-1,\"deflate_on_oom\":true}", 400,
	       "invalid type for field `amount_mib`");
	expect(&api, HTTP_PUT, "/balloon", "{\"amount_mib\":1,\"deflate_on_oom\":1}", 400,
	       "invalid type for field `deflate_on_oom`");
	expect(&api, HTTP_PUT, "/balloon", "{\"amount_mib\":1,\"deflate_on_oom\":true,\"x\":1}",
	       400, "unknown field `x`");
	expect(&api, HTTP_PUT, "/balloon", "{\"amount_mib\":129,\"deflate_on_oom\":true}", 400,
	       "too large");
	expect(&api, HTTP_PUT, "/balloon",
	       "{\"amount_mib\":1,\"deflate_on_oom\":true,\"stats_polling_interval_s\":3601}", 400,
	       "at most 3600");
	expect(&api, HTTP_PUT, "/balloon",
	       "{\"amount_mib\":1,\"deflate_on_oom\":true,\"free_page_reporting\":true}", 400,
	       "not supported");
	/* Every refusal above left no balloon behind. */
	expect(&api, HTTP_GET, "/balloon", NULL, 400, "No balloon device");
	expect(&api, HTTP_PUT, "/balloon",
	       "{\"amount_mib\":1,\"deflate_on_oom\":false,\"free_page_hinting\":false,"
	       "\"free_page_reporting\":null}",
	       204, NULL);
	expect(&api, HTTP_PUT, "/balloon", OK_BODY, 204, NULL);
	expect(&api, HTTP_GET, "/balloon", NULL, 200,
	       "{\"amount_mib\":16,\"deflate_on_oom\":true,\"stats_polling_interval_s\":2,"
	       "\"free_page_hinting\":false,\"free_page_reporting\":false}");
	expect(&api, HTTP_GET, "/vm/config", NULL, 200, "\"balloon\":{\"amount_mib\":16");
	/* Post-boot calls before the start. */
	expect(&api, HTTP_PATCH, "/balloon", "{\"amount_mib\":1}", 400, "before starting");
	expect(&api, HTTP_GET, "/balloon/statistics", NULL, 400, "before starting");
	expect(&api, HTTP_PATCH, "/balloon/statistics", "{\"stats_polling_interval_s\":1}", 400,
	       "before starting");
	expect(&api, HTTP_GET, "/balloon/other", NULL, 400, "Invalid request method");
	api.kernel = strdup("/k");
	assert_int_equal(api_build_config(&api, &resp), 0);
	assert_string_equal(api.cfg.balloon, "amount_mib=16,deflate_on_oom=on,stats=2");
	api_free(&api);
}

static const struct device_ops fake_pci = {.name = "virtio-pci"};

/* A started API with a VM that holds only the balloon device, made from opts. */
static void start_with_balloon(struct api *api, struct vm *vm, struct virtio_balloon *b,
			       const char *opts, u32 stats_s)
{
	struct balloon_options o;

	api_init(api, NULL);
	memset(vm, 0, sizeof(*vm));
	memset(b, 0, sizeof(*b));
	assert_int_equal(balloon_parse_options(opts, &o, NULL, 0), 0);
	assert_int_equal(virtio_balloon_init(b, &o), 0);
	b->vdev.dev.ops = &fake_pci;
	vm->devices = &b->vdev.dev;
	api->vm = vm;
	api->has_balloon = true;
	api->balloon_mib = o.amount_mib;
	api->balloon_stats_s = stats_s;
	api->state = API_RUNNING;
}

static void test_post_boot(void **state)
{
	struct api api;
	struct vm vm;
	struct virtio_balloon b;
	struct balloon_info info;

	(void)state;
	start_with_balloon(&api, &vm, &b, "amount_mib=0,stats=1", 1);
	expect(&api, HTTP_PUT, "/balloon", OK_BODY, 400, "after starting");
	expect(&api, HTTP_PATCH, "/balloon", "{\"amount_mib\":200}", 400, "too large");
	expect(&api, HTTP_PATCH, "/balloon", "{\"amount_mib\":64,\"deflate_on_oom\":true}", 400,
	       "unknown field");
	expect(&api, HTTP_PATCH, "/balloon", "{\"amount_mib\":64}", 204, NULL);
	virtio_balloon_info(&b, &info);
	assert_int_equal(info.target_pages, 64 * 256);
	expect(&api, HTTP_GET, "/balloon", NULL, 200, "\"amount_mib\":64");
	/* Only target and actual until the guest reports; then what it reported. */
	expect(&api, HTTP_GET, "/balloon/statistics", NULL, 200,
	       "{\"target_pages\":16384,\"actual_pages\":0,\"target_mib\":64,\"actual_mib\":0}");
	b.stats[VIRTIO_BALLOON_S_MEMFREE] = 5 * MiB;
	b.stats[VIRTIO_BALLOON_S_AVAIL] = 7 * MiB;
	b.stats_valid = BIT(VIRTIO_BALLOON_S_MEMFREE) | BIT(VIRTIO_BALLOON_S_AVAIL);
	expect(&api, HTTP_GET, "/balloon/statistics", NULL, 200,
	       "\"actual_mib\":0,\"free_memory\":5242880,\"available_memory\":7340032}");
	expect(&api, HTTP_PATCH, "/balloon/statistics", "{\"stats_polling_interval_s\":0}", 400,
	       "Cannot enable or disable");
	expect(&api, HTTP_PATCH, "/balloon/statistics", "{\"stats_polling_interval_s\":9999}", 400,
	       "at most 3600");
	expect(&api, HTTP_PATCH, "/balloon/statistics", "{\"stats_polling_interval_s\":5}", 204,
	       NULL);
	expect(&api, HTTP_GET, "/balloon", NULL, 200, "\"stats_polling_interval_s\":5");
	virtio_balloon_cleanup(&b);
	api_free(&api);

	/* Statistics off at creation: they stay off. */
	start_with_balloon(&api, &vm, &b, "", 0);
	expect(&api, HTTP_GET, "/balloon/statistics", NULL, 400, "not enabled");
	expect(&api, HTTP_PATCH, "/balloon/statistics", "{\"stats_polling_interval_s\":1}", 400,
	       "Cannot enable or disable");
	virtio_balloon_cleanup(&b);
	api_free(&api);

	/* No balloon at all. */
	start_with_balloon(&api, &vm, &b, "", 0);
	api.has_balloon = false;
	expect(&api, HTTP_PATCH, "/balloon", "{\"amount_mib\":1}", 400, "No balloon device");
	expect(&api, HTTP_GET, "/balloon/statistics", NULL, 400, "No balloon device");
	virtio_balloon_cleanup(&b);
	api_free(&api);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pre_boot),
		cmocka_unit_test(test_post_boot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
