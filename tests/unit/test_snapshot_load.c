// SPDX-License-Identifier: GPL-2.0-only
/*
 * The checks PUT /snapshot/load makes of its files before anything is restored
 * (src/snapshot/load.c): a whole snapshot passes; a damaged, truncated or other-version
 * state file, missing sections and a memory file shorter than the RAM are refused, each
 * with a message that names the file and the reason.
 *
 * Then PUT /snapshot/load's two phases, without KVM. The checks that change nothing (a
 * saved configuration that is not valid or does not match the state, network_overrides
 * naming no saved interface or a bad tap name, a Uffd backend_path that is no socket)
 * answer 400 and leave the process as it was: still unconfigured, a later load allowed. A load that fails once it has begun
 * applying the saved configuration (its drive is gone) answers 400 and marks the
 * process for exit status 1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "snapshot/create.h"
#include "snapshot/load.h"

#define RAM (1ULL << 20)

static char dir[] = "/tmp/kvmbox-snapload-XXXXXX";
static char state_path[64], mem_path[64], body[512];

/* A snapshot's state file with nr_vcpus vCPU sections (skip: one left out, or -1). */
static void write_state(u32 version, unsigned int nr_vcpus, int skip, size_t cut)
{
	static const char config[] = "{\"machine-config\":{}}";
	u64 ram = RAM;
	struct statefile_section secs[8] = {
		{SNAP_SEC_CONFIG, sizeof(config) - 1, (const u8 *)config},
		{SNAP_SEC_MEMORY, sizeof(ram), (const u8 *)&ram},
		{SNAP_SEC_ARCH_VM, 3, (const u8 *)"irq"},
		{SNAP_SEC_DEVICES, 0, NULL},
	};
	unsigned int n = 4;
	u8 *buf;
	size_t len;
	FILE *f;

	for (unsigned int i = 0; i < nr_vcpus; i++) {
		if ((int)i != skip)
			secs[n++] = (struct statefile_section){SNAP_SEC_VCPU + i, 4,
							       (const u8 *)"regs"};
	}
	assert_int_equal(statefile_build(secs, n, version, &buf, &len), 0);
	f = fopen(state_path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len - cut, f), len - cut);
	fclose(f);
	free(buf);
}

static void write_mem(u64 size)
{
	assert_int_equal(truncate(mem_path, (off_t)size), 0);
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(state_path, sizeof(state_path), "%s/vm.snap", dir);
	snprintf(mem_path, sizeof(mem_path), "%s/vm.mem", dir);
	fclose(fopen(mem_path, "wb"));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(state_path);
	unlink(mem_path);
	rmdir(dir);
	return 0;
}

static void expect_refused(const char *want)
{
	unsigned int nr_vcpus;
	struct statefile sf;
	char err[512] = "";
	u64 ram;

	assert_int_not_equal(
		snapshot_load_check(state_path, mem_path, &sf, &ram, &nr_vcpus, err, sizeof(err)),
		0);
	if (!strstr(err, want))
		fail_msg("error '%s' does not say '%s'", err, want);
}

static void test_whole_snapshot_passes(void **state)
{
	unsigned int nr_vcpus;
	struct statefile sf;
	char err[512];
	u64 ram;

	(void)state;
	write_state(STATEFILE_VERSION, 2, -1, 0);
	write_mem(RAM);
	assert_int_equal(
		snapshot_load_check(state_path, mem_path, &sf, &ram, &nr_vcpus, err, sizeof(err)),
		0);
	assert_int_equal(ram, RAM);
	assert_int_equal(nr_vcpus, 2);
	assert_non_null(statefile_find(&sf, SNAP_SEC_CONFIG));
	statefile_free(&sf);
}

static void test_damaged_state_files_are_refused(void **state)
{
	FILE *f;

	(void)state;
	write_mem(RAM);
	write_state(STATEFILE_VERSION, 1, -1, 1);
	expect_refused("truncated");
	write_state(STATEFILE_VERSION + 1, 1, -1, 0);
	expect_refused("format version 2");
	write_state(STATEFILE_VERSION, 1, -1, 0);
	f = fopen(state_path, "r+b");
	assert_non_null(f);
	fseek(f, 30, SEEK_SET);
	fputc(0x5a, f);
	fclose(f);
	expect_refused("CRC mismatch");
}

static void test_missing_sections_are_refused(void **state)
{
	(void)state;
	write_mem(RAM);
	write_state(STATEFILE_VERSION, 0, -1, 0);
	expect_refused("no section of type 16");
	write_state(STATEFILE_VERSION, 3, 1, 0);
	expect_refused("vCPU sections are not numbered");
}

static void test_short_memory_file_is_refused(void **state)
{
	(void)state;
	write_state(STATEFILE_VERSION, 1, -1, 0);
	write_mem(RAM - 4096);
	expect_refused("1044480 bytes, the snapshot's RAM is 1048576");
	unlink(mem_path);
	expect_refused("No such file");
	fclose(fopen(mem_path, "wb"));
}

#define API_RAM (16ULL << 20) /* the least kvmbox takes */

/* A state file of one vCPU and 16 MiB of RAM whose configuration is config. */
static void write_config_state(const char *config)
{
	u64 ram = API_RAM;
	struct statefile_section secs[] = {
		{SNAP_SEC_CONFIG, strlen(config), (const u8 *)config},
		{SNAP_SEC_MEMORY, sizeof(ram), (const u8 *)&ram},
		{SNAP_SEC_ARCH_VM, 3, (const u8 *)"irq"},
		{SNAP_SEC_DEVICES, 0, NULL},
		{SNAP_SEC_VCPU, 4, (const u8 *)"regs"},
	};
	u8 *buf;
	size_t len;
	FILE *f;

	assert_int_equal(statefile_build(secs, 5, STATEFILE_VERSION, &buf, &len), 0);
	f = fopen(state_path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
	free(buf);
}

/*
 * PUT /snapshot/load of the state file (and the memory file as mem_file_path if
 * with_mem) with extra fields; the status, the body in *out.
 */
static int load_with(struct api *api, bool with_mem, const char *extra, char **out)
{
	struct http_request req = {.method = HTTP_PUT, .keep_alive = true};
	struct api_resp resp = {0};

	strcpy(req.method_name, "PUT");
	strcpy(req.path, "/snapshot/load");
	snprintf(body, sizeof(body), "{\"snapshot_path\": \"%s\"%s%s%s%s}", state_path,
		 with_mem ? ", \"mem_file_path\": \"" : "", with_mem ? mem_path : "",
		 with_mem ? "\"" : "", extra);
	req.body = body;
	req.body_len = strlen(body);
	api_handle(api, &req, &resp);
	*out = resp.body;
	return resp.status;
}

static int load(struct api *api, const char *extra, char **out)
{
	return load_with(api, true, extra, out);
}

/* A 400 saying want, and the process as it was. */
static void expect_load_refused(const char *config, const char *extra, const char *want)
{
	struct api api;
	char *out = NULL;

	api_init(&api, "vm");
	write_config_state(config);
	write_mem(API_RAM);
	assert_int_equal(load(&api, extra, &out), 400);
	if (!out || !strstr(out, want))
		fail_msg("load: got %s, wanted %s", out, want);
	free(out);
	assert_int_equal(api.load_failed, 0);
	assert_int_equal(api.state, API_NOT_STARTED);
	assert_null(api.kernel);
	assert_int_equal(api.nr_drives + api.nr_nics, 0);
	api_free(&api);
}

#define NIC                                                                              \
	"\"network-interfaces\": [{\"iface_id\": \"1\", \"host_dev_name\": \"tap0\"}], " \
	"\"boot-source\": {\"kernel_image_path\": \"/gone/vmlinuz\"}"

static void test_config_not_matching_the_state_is_refused(void **state)
{
	(void)state;
	expect_load_refused("{}", "", "its configuration is not valid");
	expect_load_refused("[1", "", "its configuration is not valid");
	expect_load_refused("{\"machine-config\": {\"vcpu_count\": 1, \"mem_size_mib\": 32}, " NIC
			    "}",
			    "", "(32 MiB, 1 vCPUs) does not match its state (16 MiB, 1 vCPUs)");
	expect_load_refused("{\"machine-config\": {\"vcpu_count\": 2, \"mem_size_mib\": 16}, " NIC
			    "}",
			    "", "does not match its state (16 MiB, 1 vCPUs)");
}

#define GOOD "{\"machine-config\": {\"vcpu_count\": 1, \"mem_size_mib\": 16}, " NIC "}"

static void test_bad_network_overrides_are_refused(void **state)
{
	(void)state;
	expect_load_refused(GOOD, ", \"network_overrides\": {}", "network_overrides");
	expect_load_refused(
		GOOD, ", \"network_overrides\": [{\"iface_id\": \"2\", \"host_dev_name\": \"t\"}]",
		"the snapshot has no interface 2");
	expect_load_refused(
		GOOD,
		", \"network_overrides\": [{\"iface_id\": \"1\", \"host_dev_name\": \"a/b\"}]",
		"host_dev_name a/b is not a valid interface name");
	expect_load_refused(GOOD, ", \"network_overrides\": [{\"iface_id\": \"1\"}]",
			    "host_dev_name");
}

/*
 * The Uffd backend: no memory file is looked at (there is none here), and a backend_path
 * that is no handler's socket is a 400 naming it, with nothing kept.
 */
static void test_uffd_backend_path_is_checked(void **state)
{
	static const char *const paths[] = {"/nonexistent/uffd.sock", "/dev/null"};
	static const char *const want[] = {"No such file", "/dev/null is not a Unix socket"};
	struct api api;
	char *out = NULL, extra[160];

	(void)state;
	unlink(mem_path);
	write_config_state(GOOD);
	for (unsigned int i = 0; i < 2; i++) {
		api_init(&api, "vm");
		snprintf(
			extra, sizeof(extra),
			", \"mem_backend\": {\"backend_type\": \"Uffd\", \"backend_path\": \"%s\"}",
			paths[i]);
		assert_int_equal(load_with(&api, false, extra, &out), 400);
		if (!out || !strstr(out, want[i]) || !strstr(out, paths[i]))
			fail_msg("Uffd load: got %s, wanted %s", out, want[i]);
		free(out);
		assert_null(api.restore_uffd);
		assert_int_equal(api.load_failed, 0);
		assert_int_equal(api.state, API_NOT_STARTED);
		api_free(&api);
	}
	fclose(fopen(mem_path, "wb"));
}

/*
 * The userspace vsock binds its uds_path again: a path that exists (a killed kvmbox
 * leaves its socket file) is refused before anything is built, as is a vsock_override
 * of a snapshot without a vsock or one PUT /vsock would not take.
 */
static void test_bad_vsock_paths_are_refused(void **state)
{
	char config[512], extra[512];

	(void)state;
	expect_load_refused(GOOD, ", \"vsock_override\": {\"uds_path\": \"/tmp/x\"}",
			    "vsock_override: the snapshot has no vsock device");
	expect_load_refused(GOOD, ", \"vsock_override\": 1",
			    "invalid type for field `vsock_override`");
	/* The state file stands for a socket file left behind. */
	snprintf(config, sizeof(config),
		 "{\"machine-config\": {\"vcpu_count\": 1, \"mem_size_mib\": 16}, " NIC
		 ", \"vsock\": {\"guest_cid\": 3, \"uds_path\": \"%s\"}}",
		 state_path);
	snprintf(extra, sizeof(extra), "the vsock uds_path %s exists", state_path);
	expect_load_refused(config, "", extra);
	expect_load_refused(config, ", \"vsock_override\": {}", "missing field `uds_path`");
	expect_load_refused(config, ", \"vsock_override\": {\"uds_path\": \"/tmp/a,b\"}",
			    "kvmbox takes no ','");
	snprintf(extra, sizeof(extra), ", \"vsock_override\": {\"uds_path\": \"%s\"}", mem_path);
	expect_load_refused(config, extra, "exists");
}

/* The drive the saved configuration names is gone: the load fails half-way. */
static void test_failure_after_the_checks_ends_the_process(void **state)
{
	struct api api;
	char *out = NULL;

	(void)state;
	api_init(&api, "vm");
	write_mem(API_RAM);
	write_config_state(
		"{\"machine-config\": {\"vcpu_count\": 1, \"mem_size_mib\": 16}, " NIC ", "
		"\"drives\": [{\"drive_id\": \"rootfs\", \"path_on_host\": \"/gone/root.img\", "
		"\"is_root_device\": true, \"is_read_only\": false}]}");
	assert_int_equal(load(&api, ", \"resume_vm\": true", &out), 400);
	if (!out || !strstr(out, "/gone/root.img cannot be opened") || !strstr(out, "kvmbox exits"))
		fail_msg("load: got %s", out);
	free(out);
	assert_int_equal(api.load_failed, 1);
	assert_null(api.vm);
	api_free(&api);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_snapshot_passes),
		cmocka_unit_test(test_damaged_state_files_are_refused),
		cmocka_unit_test(test_missing_sections_are_refused),
		cmocka_unit_test(test_short_memory_file_is_refused),
		cmocka_unit_test(test_config_not_matching_the_state_is_refused),
		cmocka_unit_test(test_bad_network_overrides_are_refused),
		cmocka_unit_test(test_uffd_backend_path_is_checked),
		cmocka_unit_test(test_bad_vsock_paths_are_refused),
		cmocka_unit_test(test_failure_after_the_checks_ends_the_process),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
