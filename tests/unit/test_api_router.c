// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control API's router and handlers (src/api/): Firecracker's status-code matrix
 * (200 JSON for GET, 204 without a body for PUT/PATCH, 400 with a fault_message for
 * everything wrong), the pre-boot/post-boot phases, and that a refused call leaves the
 * configuration as it was. InstanceStart is only exercised where it fails before KVM.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "api_call.h"

static char dir[64], kernel[128], disk[128];

static int setup(void **state)
{
	FILE *f;

	(void)state;
	strcpy(dir, "/tmp/kvmbox-api-test-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(kernel, sizeof(kernel), "%s/kernel", dir);
	snprintf(disk, sizeof(disk), "%s/empty.img", dir);
	f = fopen(kernel, "w");
	if (!f)
		return -1;
	fputs("not a kernel\n", f);
	fclose(f);
	f = fopen(disk, "w"); /* a zero-length placeholder drive, as Kata makes them */
	if (!f)
		return -1;
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	char path[160];

	(void)state;
	unlink(kernel);
	unlink(disk);
	for (int i = 1; i < VM_MAX_DISKS; i++) {
		snprintf(path, sizeof(path), "%s/drive_%d.img", dir, i);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}

#define PUT(p, b)   call(&api, HTTP_PUT, p, b, NULL)
#define PATCH(p, b) call(&api, HTTP_PATCH, p, b, NULL)

/* The fault message of a 400 contains want. */
static void expect_fault(struct api *api, enum http_method m, const char *path, const char *body,
			 const char *want)
{
	char *out;

	assert_int_equal(call(api, m, path, body, &out), 400);
	if (!strstr(out, want))
		fail_msg("%s: got %s, wanted %s", path, out, want);
	free(out);
}

static void test_gets(void **state)
{
	struct api api;
	char *out;

	(void)state;
	api_init(&api, "vm1");
	assert_int_equal(call(&api, HTTP_GET, "/", NULL, &out), 200);
	assert_non_null(strstr(out, "\"id\":\"vm1\""));
	assert_non_null(strstr(out, "\"state\":\"Not started\""));
	free(out);
	assert_int_equal(call(&api, HTTP_GET, "/version", NULL, &out), 200);
	assert_non_null(strstr(out, "\"firecracker_version\":\"1.16.0\""));
	free(out);
	assert_int_equal(call(&api, HTTP_GET, "/machine-config", NULL, &out), 200);
	assert_non_null(strstr(out, "\"vcpu_count\":1,\"mem_size_mib\":128"));
	free(out);
	assert_int_equal(call(&api, HTTP_GET, "/vm/config", NULL, &out), 200);
	assert_non_null(strstr(out, "\"boot-source\":null"));
	free(out);
	expect_fault(&api, HTTP_GET, "/", "{}", "GET request cannot have a body");
	expect_fault(&api, HTTP_GET, "/nothing", NULL, "Invalid request method and/or path");
	expect_fault(&api, HTTP_OTHER, "/", NULL, "Invalid request method and/or path: DELETE");
	expect_fault(&api, HTTP_GET, "/drives/a/b", NULL, "Invalid request method");
	api_free(&api);
}

static void test_bodies(void **state)
{
	struct api api;

	(void)state;
	api_init(&api, NULL);
	expect_fault(&api, HTTP_PUT, "/machine-config", NULL, "Empty PUT request");
	expect_fault(&api, HTTP_PATCH, "/machine-config", NULL, "Empty PATCH request");
	expect_fault(&api, HTTP_PUT, "/machine-config", "{", "deserializing the json body");
	expect_fault(&api, HTTP_PUT, "/machine-config", "[1]", "must be a JSON object");
	expect_fault(&api, HTTP_PUT, "/machine-config",
		     "{\"vcpu_count\":1,\"vcpu_count\":2,\"mem_size_mib\":64}", "deserializing");
	expect_fault(&api, HTTP_PUT, "/balloon", "{}", "missing field `amount_mib`");
	expect_fault(&api, HTTP_GET, "/mmds", NULL, "MMDS");
	expect_fault(&api, HTTP_PUT, "/snapshot/create", "{}", "not supported before starting");
	expect_fault(&api, HTTP_PUT, "/snapshot/load", "{}", "snapshot_path");
	expect_fault(&api, HTTP_PUT, "/snapshot/load", "{\"snapshot_path\": \"/nonexistent/s\"}",
		     "mem_backend");
	expect_fault(&api, HTTP_PUT, "/snapshot/load",
		     "{\"snapshot_path\": \"/s\", \"mem_backend\": {\"backend_type\": \"Uffd\", "
		     "\"backend_path\": \"/m\"}}",
		     "Cannot load the snapshot: /s");
	expect_fault(&api, HTTP_PUT, "/snapshot/load",
		     "{\"snapshot_path\": \"/s\", \"mem_backend\": {\"backend_type\": \"Mmap\", "
		     "\"backend_path\": \"/m\"}}",
		     "expected `File` or `Uffd`");
	expect_fault(&api, HTTP_PUT, "/snapshot/load",
		     "{\"snapshot_path\": \"/nonexistent/s\", \"mem_file_path\": \"/m\"}",
		     "Cannot load the snapshot: /nonexistent/s");
	api_free(&api);
}

/* PUT /snapshot/create refuses, without touching the VM, what it cannot do. */
static void test_snapshot_create_refusals(void **state)
{
	const char *ok = "{\"snapshot_path\": \"/tmp/s\", \"mem_file_path\": \"/tmp/m\"}";
	const char *diff = "{\"snapshot_type\": \"Diff\", \"snapshot_path\": \"/tmp/s\", "
			   "\"mem_file_path\": \"/tmp/m\"}";
	struct api api;

	(void)state;
	api_init(&api, NULL);
	api.state = API_RUNNING; /* api.vm stays NULL: any use of it would crash */
	expect_fault(&api, HTTP_PUT, "/snapshot/create", ok, "the microVM is not paused");
	expect_fault(&api, HTTP_PUT, "/snapshot/create", "{\"snapshot_path\": \"/tmp/s\"}",
		     "mem_file_path");
	/* Diff needs the dirty log; with it, the VM must still be paused. */
	expect_fault(&api, HTTP_PUT, "/snapshot/create", diff,
		     "Diff snapshots need track_dirty_pages set to true");
	api.track_dirty_pages = true;
	expect_fault(&api, HTTP_PUT, "/snapshot/create", diff, "the microVM is not paused");
	api.track_dirty_pages = false;
	expect_fault(&api, HTTP_PUT, "/snapshot/create",
		     "{\"snapshot_type\": \"Half\", \"snapshot_path\": \"/tmp/s\", "
		     "\"mem_file_path\": \"/tmp/m\"}",
		     "expected `Full` or `Diff`");
	expect_fault(&api, HTTP_PUT, "/snapshot/create",
		     "{\"snapshot_path\": \"/tmp/s\", \"mem_file_path\": \"/tmp/s\"}",
		     "two different files");
	expect_fault(&api, HTTP_PUT, "/snapshot/create",
		     "{\"snapshot_path\": \"/tmp/s\", \"mem_file_path\": \"/tmp/m\", \"x\": 1}",
		     "unknown field `x`");
	api.state = API_PAUSED;
	expect_fault(&api, HTTP_PUT, "/snapshot/load", "{}", "not supported after starting");
	api.state = API_NOT_STARTED;
	api.kernel = strdup("/boot/vmlinuz"); /* as PUT /boot-source leaves it */
	expect_fault(&api, HTTP_PUT, "/snapshot/load",
		     "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}",
		     "not allowed after configuring");
	api_free(&api);
}

static void test_machine_config(void **state)
{
	struct api api;
	char *out;

	(void)state;
	api_init(&api, NULL);
	assert_int_equal(PUT("/machine-config", "{\"vcpu_count\":2,\"mem_size_mib\":256,"
						"\"smt\":true,\"track_dirty_pages\":false,"
						"\"cpu_template\":null,\"huge_pages\":\"None\"}"),
			 204);
	expect_fault(&api, HTTP_PUT, "/machine-config", "{\"vcpu_count\":2}",
		     "missing field `mem_size_mib`");
	expect_fault(&api, HTTP_PUT, "/machine-config",
		     "{\"vcpu_count\":2,\"mem_size_mib\":64,\"x\":1}", "unknown field `x`");
	expect_fault(&api, HTTP_PUT, "/machine-config",
		     "{\"vcpu_count\":\"2\",\"mem_size_mib\":64}", "invalid type");
	expect_fault(&api, HTTP_PUT, "/machine-config", "{\"vcpu_count\":0,\"mem_size_mib\":64}",
		     "vCPU number is invalid");
	expect_fault(&api, HTTP_PUT, "/machine-config", "{\"vcpu_count\":33,\"mem_size_mib\":64}",
		     "vCPU number is invalid");
	expect_fault(&api, HTTP_PUT, "/machine-config",
		     "{\"vcpu_count\":3,\"mem_size_mib\":64,\"smt\":true}", "vCPU number");
	expect_fault(&api, HTTP_PUT, "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":8}",
		     "memory size");
	expect_fault(&api, HTTP_PUT, "/machine-config",
		     "{\"vcpu_count\":1,\"mem_size_mib\":64,\"huge_pages\":\"1G\"}",
		     "unknown variant `1G`");
	expect_fault(&api, HTTP_PUT, "/machine-config",
		     "{\"vcpu_count\":1,\"mem_size_mib\":64,\"cpu_template\":\"T2\"}",
		     "cpu_template T2 is not supported");
	expect_fault(&api, HTTP_PATCH, "/machine-config", "{\"vcpu_count\":5}", "vCPU number");
	/* None of the refused calls changed anything. */
	assert_int_equal(call(&api, HTTP_GET, "/machine-config", NULL, &out), 200);
	assert_string_equal(out, "{\"vcpu_count\":2,\"mem_size_mib\":256,\"smt\":true,"
				 "\"track_dirty_pages\":false,\"huge_pages\":\"None\"}");
	free(out);
	assert_int_equal(PATCH("/machine-config", "{\"mem_size_mib\":512}"), 204);
	assert_int_equal(api.mem_mib, 512);
	assert_int_equal(api.vcpus, 2);
	assert_true(api.smt);
	api_free(&api);
}

static void test_drives(void **state)
{
	struct api api;
	char body[512], id[16], path[160];

	(void)state;
	api_init(&api, NULL);
	snprintf(body, sizeof(body),
		 "{\"drive_id\":\"rootfs\",\"path_on_host\":\"%s\",\"is_root_device\":true,"
		 "\"is_read_only\":false,\"rate_limiter\":{},\"cache_type\":\"Unsafe\","
		 "\"io_engine\":\"Sync\"}",
		 disk);
	assert_int_equal(PUT("/drives/rootfs", body), 204);
	expect_fault(&api, HTTP_PUT, "/drives/other", body, "does not match the id");
	expect_fault(&api, HTTP_PUT, "/drives/bad-id", body, "Invalid ID");
	snprintf(body, sizeof(body),
		 "{\"drive_id\":\"second\",\"path_on_host\":\"%s\",\"is_root_device\":true}", disk);
	expect_fault(&api, HTTP_PUT, "/drives/second", body, "root block device already exists");
	expect_fault(&api, HTTP_PUT, "/drives/second",
		     "{\"drive_id\":\"second\",\"path_on_host\":\"/nonexistent\","
		     "\"is_root_device\":false}",
		     "cannot be opened");
	expect_fault(&api, HTTP_PUT, "/drives/second",
		     "{\"drive_id\":\"second\",\"path_on_host\":\"/x\"}",
		     "missing field `is_root_device`");
	snprintf(body, sizeof(body),
		 "{\"drive_id\":\"second\",\"path_on_host\":\"%s\",\"is_root_device\":false,"
		 "\"cache_type\":\"Fast\"}",
		 disk);
	expect_fault(&api, HTTP_PUT, "/drives/second", body, "unknown variant `Fast`");
	snprintf(body, sizeof(body),
		 "{\"drive_id\":\"second\",\"path_on_host\":\"%s\",\"is_root_device\":false,"
		 "\"rate_limiter\":{\"bandwidth\":{\"size\":1}}}",
		 disk);
	expect_fault(&api, HTTP_PUT, "/drives/second", body,
		     "rate_limiter.bandwidth: missing field `refill_time`");
	assert_int_equal(api.nr_drives, 1);
	snprintf(body, sizeof(body),
		 "{\"drive_id\":\"second\",\"path_on_host\":\"%s\",\"is_root_device\":false}",
		 disk);
	expect_fault(&api, HTTP_PUT, "/drives/second", body, "already the backing file");
	/* Kata's shape: eight placeholder drives in all, each on its own file. */
	for (int i = 1; i < VM_MAX_DISKS; i++) {
		snprintf(id, sizeof(id), "drive_%d", i);
		snprintf(path, sizeof(path), "%s/%s.img", dir, id);
		fclose(fopen(path, "w"));
		snprintf(body, sizeof(body),
			 "{\"drive_id\":\"%s\",\"path_on_host\":\"%s\",\"is_root_device\":false}",
			 id, path);
		snprintf(id, sizeof(id), "/drives/drive_%d", i);
		assert_int_equal(PUT(id, body), 204);
	}
	/* A drive put again is updated, not added; a ninth is refused. */
	assert_int_equal(PUT(id, body), 204);
	assert_int_equal(api.nr_drives, VM_MAX_DISKS);
	snprintf(body, sizeof(body),
		 "{\"drive_id\":\"ninth\",\"path_on_host\":\"%s\",\"is_root_device\":false}",
		 kernel);
	expect_fault(&api, HTTP_PUT, "/drives/ninth", body, "at most 8 drives");
	api_free(&api);
}

static void test_devices(void **state)
{
	struct api api;

	(void)state;
	api_init(&api, NULL);
	assert_int_equal(PUT("/network-interfaces/1",
			     "{\"iface_id\":\"1\",\"host_dev_name\":"
			     "\"tap0\",\"guest_mac\":\"AA:FC:00:00:00:01\","
			     "\"rx_rate_limiter\":null}"),
			 204);
	expect_fault(&api, HTTP_PUT, "/network-interfaces/1",
		     "{\"iface_id\":\"1\",\"host_dev_name\":\"tap0\",\"guest_mac\":\"zz\"}",
		     "Invalid MAC");
	expect_fault(&api, HTTP_PUT, "/network-interfaces/2",
		     "{\"iface_id\":\"1\",\"host_dev_name\":\"tap0\"}", "does not match");
	expect_fault(&api, HTTP_PUT, "/vsock", "{\"guest_cid\":2,\"uds_path\":\"/v\"}",
		     "Invalid guest CID");
	expect_fault(&api, HTTP_PUT, "/vsock", "{\"guest_cid\":3}", "missing field `uds_path`");
	/* uds_path is served: it must be bindable, with room for "_<port>". */
	expect_fault(&api, HTTP_PUT, "/vsock", "{\"guest_cid\":3,\"uds_path\":\"\"}",
		     "Invalid uds_path");
	expect_fault(&api, HTTP_PUT, "/vsock",
		     "{\"guest_cid\":3,\"uds_path\":\"/tmp/"
		     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		     "aaaaaaaaaaaaaaaa\"}",
		     "give 1 to 96 bytes");
	expect_fault(&api, HTTP_PUT, "/vsock", "{\"guest_cid\":3,\"uds_path\":\"/tmp/a,b\"}",
		     "no ','");
	expect_fault(&api, HTTP_PUT, "/vsock", "{\"guest_cid\":3,\"uds_path\":\"/tmp\"}",
		     "the path exists");
	assert_int_equal(PUT("/vsock", "{\"vsock_id\":\"v\",\"guest_cid\":3,\"uds_path\":\"/v\"}"),
			 204);
	expect_fault(&api, HTTP_PUT, "/entropy",
		     "{\"rate_limiter\":{\"ops\":{\"size\":1,\"refill_time\":1}}}",
		     "rate_limiter: token buckets on the entropy device are not supported");
	assert_int_equal(PUT("/entropy", "{\"rate_limiter\":{}}"), 204);
	expect_fault(&api, HTTP_PUT, "/logger", "{\"level\":\"Loud\"}", "Invalid log level");
	expect_fault(&api, HTTP_PUT, "/logger", "{\"log_path\":\"/nonexistent/log\"}",
		     "Cannot open");
	expect_fault(&api, HTTP_PUT, "/metrics", "{}", "missing field `metrics_path`");
	api_free(&api);
}

static void test_actions_pre_boot(void **state)
{
	struct api api;
	char body[256];

	(void)state;
	api_init(&api, NULL);
	expect_fault(&api, HTTP_PUT, "/actions", "{\"action_type\":\"Reboot\"}",
		     "unknown variant `Reboot`");
	expect_fault(&api, HTTP_PUT, "/actions", "{}", "missing field `action_type`");
	expect_fault(&api, HTTP_PUT, "/actions", "{\"action_type\":\"FlushMetrics\"}",
		     "not supported before starting");
	expect_fault(&api, HTTP_PUT, "/actions", "{\"action_type\":\"SendCtrlAltDel\"}",
		     "not supported before starting");
	expect_fault(&api, HTTP_PATCH, "/vm", "{\"state\":\"Paused\"}",
		     "not supported before starting");
	expect_fault(&api, HTTP_PUT, "/actions", "{\"action_type\":\"InstanceStart\"}",
		     "without kernel configuration");
	/* A kernel that is no kernel fails before KVM is opened; the process goes on. */
	snprintf(body, sizeof(body), "{\"kernel_image_path\":\"%s\"}", kernel);
	assert_int_equal(PUT("/boot-source", body), 204);
	expect_fault(&api, HTTP_PUT, "/actions", "{\"action_type\":\"InstanceStart\"}",
		     "Failed to start the microVM");
	assert_int_equal(api.state, API_NOT_STARTED);
	assert_int_equal(PUT("/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":64}"), 204);
	api_free(&api);
}

static void test_post_boot_phase(void **state)
{
	struct api api;
	char *out;

	(void)state;
	api_init(&api, NULL);
	api.state = API_RUNNING; /* as after InstanceStart, without a VM */
	expect_fault(&api, HTTP_PUT, "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":64}",
		     "not supported after starting");
	expect_fault(&api, HTTP_PUT, "/boot-source", "{\"kernel_image_path\":\"/x\"}",
		     "not supported after starting");
	expect_fault(&api, HTTP_PUT, "/drives/a", "{}", "not supported after starting");
	expect_fault(&api, HTTP_PUT, "/actions", "{\"action_type\":\"InstanceStart\"}",
		     "not supported after starting");
	expect_fault(&api, HTTP_PUT, "/actions", "{\"action_type\":\"FlushMetrics\"}",
		     "metrics system is not initialized");
	expect_fault(&api, HTTP_PATCH, "/vm", "{\"state\":\"Sleeping\"}",
		     "unknown variant `Sleeping`");
	expect_fault(&api, HTTP_PATCH, "/vm", "{}", "missing field `state`");
	expect_fault(&api, HTTP_PATCH, "/drives/a", "{\"drive_id\":\"a\"}",
		     "Invalid block device ID");
	assert_int_equal(call(&api, HTTP_GET, "/", NULL, &out), 200);
	assert_non_null(strstr(out, "\"state\":\"Running\""));
	free(out);
	api_free(&api);
}

static void test_build_config(void **state)
{
	struct api api;
	struct api_resp resp = {0};
	char body[512];

	(void)state;
	api_init(&api, NULL);
	snprintf(body, sizeof(body),
		 "{\"kernel_image_path\":\"%s\",\"boot_args\":\"console=ttyS0 pci=off ro\"}",
		 kernel);
	assert_int_equal(PUT("/boot-source", body), 204);
	snprintf(body, sizeof(body),
		 "{\"drive_id\":\"data\",\"path_on_host\":\"%s\",\"is_root_device\":false,"
		 "\"is_read_only\":true}",
		 kernel);
	assert_int_equal(PUT("/drives/data", body), 204);
	snprintf(body, sizeof(body),
		 "{\"drive_id\":\"root\",\"path_on_host\":\"%s\",\"is_root_device\":true}", disk);
	assert_int_equal(PUT("/drives/root", body), 204);
	assert_int_equal(PUT("/network-interfaces/eth0", "{\"iface_id\":\"eth0\","
							 "\"host_dev_name\":\"tap7\"}"),
			 204);
	assert_int_equal(PUT("/vsock", "{\"guest_cid\":9,\"uds_path\":\"/v\"}"), 204);
	api.cfg.seccomp = SANDBOX_LOG; /* the command line's mode survives the rebuild */
	assert_int_equal(api_build_config(&api, &resp), 0);
	assert_string_equal(api.cfg.cmdline, "console=ttyS0 ro root=/dev/vda rw");
	assert_int_equal(api.cfg.nr_disks, 2);
	/* The root drive is /dev/vda; the IDs name each device's metrics. */
	snprintf(body, sizeof(body), "%s,id=root", disk);
	assert_string_equal(api.cfg.disks[0], body);
	assert_non_null(strstr(api.cfg.disks[1], ",ro,id=data"));
	assert_string_equal(api.cfg.nics[0], "tap=tap7,id=eth0");
	assert_string_equal(api.cfg.vsock, "cid=9,uds=/v");
	assert_int_equal(api.cfg.memory, 128 * MiB);
	assert_int_equal(api.cfg.seccomp, SANDBOX_LOG);
	api_free(&api);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gets),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_snapshot_create_refusals),
		cmocka_unit_test(test_machine_config),
		cmocka_unit_test(test_drives),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_actions_pre_boot),
		cmocka_unit_test(test_post_boot_phase),
		cmocka_unit_test(test_build_config),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
