// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the pure core: size parsing, guest memory layout and accessor, the bus. */
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

#include "bus.h"
#include "config.h"
#include "console.h"
#include "memory.h"
#include "snapshot.h"
#include "util/file.h"
#include "util/log.h"

static void test_parse_size(void **state)
{
	u64 v;

	(void)state;
	assert_int_equal(parse_size("512M", &v), 0);
	assert_int_equal(v, 512 * MiB);
	assert_int_equal(parse_size("2G", &v), 0);
	assert_int_equal(v, 2 * GiB);
	assert_int_equal(parse_size("2GiB", &v), 0);
	assert_int_equal(v, 2 * GiB);
	assert_int_equal(parse_size("64k", &v), 0);
	assert_int_equal(v, 64 * KiB);
	assert_int_equal(parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("1T", &v), 0);
	assert_int_equal(v, 1ULL << 40);
	assert_int_equal(parse_size("", &v), -EINVAL);
	assert_int_equal(parse_size("M", &v), -EINVAL);
	assert_int_equal(parse_size("-1G", &v), -EINVAL);
	assert_int_equal(parse_size("12X", &v), -EINVAL);
	assert_int_equal(parse_size("1GG", &v), -EINVAL);
	assert_int_equal(parse_size(" 1G", &v), -EINVAL);
	assert_int_equal(parse_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(parse_size("17179869184G", &v), -ERANGE);
}

static void test_parse_uint(void **state)
{
	unsigned int v;

	(void)state;
	assert_int_equal(parse_uint("2", 1, 64, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(parse_uint("0", 1, 64, &v), -ERANGE);
	assert_int_equal(parse_uint("65", 1, 64, &v), -ERANGE);
	assert_int_equal(parse_uint("2x", 1, 64, &v), -EINVAL);
	assert_int_equal(parse_uint("", 1, 64, &v), -EINVAL);
	assert_int_equal(parse_uint("-1", 1, 64, &v), -EINVAL);
}

static void test_memory_layout(void **state)
{
	struct guest_memory mem;
	u64 hole = 3 * GiB;

	(void)state;
	assert_int_equal(guest_memory_layout(&mem, 256 * MiB, hole), 0);
	assert_int_equal(mem.nr, 1);
	assert_int_equal(mem.regions[0].size, 256 * MiB);

	assert_int_equal(guest_memory_layout(&mem, 3 * GiB, hole), 0);
	assert_int_equal(mem.nr, 1);

	assert_int_equal(guest_memory_layout(&mem, 5 * GiB, hole), 0);
	assert_int_equal(mem.nr, 2);
	assert_int_equal(mem.regions[0].gpa, 0);
	assert_int_equal(mem.regions[0].size, 3 * GiB);
	assert_int_equal(mem.regions[1].gpa, 4 * GiB);
	assert_int_equal(mem.regions[1].size, 2 * GiB);

	assert_int_equal(guest_memory_layout(&mem, 0, hole), -EINVAL);
	assert_int_equal(guest_memory_layout(&mem, 4097, hole), -EINVAL);
	assert_int_equal(guest_memory_layout(&mem, 1ULL << 50, hole), -EINVAL);

	/* A board with RAM from 1 GiB and no hole (arm64): one region, wherever it ends. */
	assert_int_equal(guest_memory_layout_at(&mem, 1 * GiB, 5 * GiB), 0);
	assert_int_equal(mem.nr, 1);
	assert_int_equal(mem.regions[0].gpa, 1 * GiB);
	assert_int_equal(mem.regions[0].size, 5 * GiB);
	assert_null(gpa_to_hva(&mem, 0, 1));
	assert_int_equal(guest_memory_layout_at(&mem, 1 * GiB + 1, 4096), -EINVAL);
	assert_int_equal(guest_memory_layout_at(&mem, 1 * GiB, 0), -EINVAL);
	assert_int_equal(guest_memory_layout_at(&mem, 1 * GiB, 1ULL << 50), -EINVAL);
}

static void test_gpa_to_hva(void **state)
{
	struct guest_memory mem;
	u8 *base;

	(void)state;
	assert_int_equal(guest_memory_layout(&mem, 64 * MiB, 32 * MiB), 0);
	assert_int_equal(guest_memory_alloc(&mem), 0);
	base = mem.base;

	assert_ptr_equal(gpa_to_hva(&mem, 0, 1), base);
	assert_ptr_equal(gpa_to_hva(&mem, 32 * MiB - 8, 8), base + 32 * MiB - 8);
	/* Straddles the end of the low region: the hole is not RAM. */
	assert_null(gpa_to_hva(&mem, 32 * MiB - 8, 9));
	assert_null(gpa_to_hva(&mem, 32 * MiB, 1));
	assert_ptr_equal(gpa_to_hva(&mem, 4 * GiB, 4096), base + 32 * MiB);
	assert_ptr_equal(gpa_to_hva(&mem, 4 * GiB + 32 * MiB - 1, 1), base + 64 * MiB - 1);
	assert_null(gpa_to_hva(&mem, 4 * GiB + 32 * MiB, 1));
	/* Guest-controlled values that would wrap a naive sum. */
	assert_null(gpa_to_hva(&mem, ~0ULL, 2));
	assert_null(gpa_to_hva(&mem, 16, ~0ULL));
	assert_null(gpa_to_hva(&mem, 4 * GiB + 16, ~0ULL - 8));
	assert_null(gpa_to_hva(&mem, 0, 33 * MiB));
	/* Zero length is checked as one byte. */
	assert_non_null(gpa_to_hva(&mem, 0, 0));
	assert_null(gpa_to_hva(&mem, 32 * MiB, 0));

	u8 buf[4] = {1, 2, 3, 4}, out[4];

	assert_true(guest_write(&mem, 100, buf, 4));
	assert_true(guest_read(&mem, 100, out, 4));
	assert_memory_equal(buf, out, 4);
	assert_false(guest_write(&mem, 32 * MiB - 2, buf, 4));
	guest_memory_free(&mem);
}

struct io_log {
	u64 offset;
	u32 len;
	bool is_write;
	int calls;
};

static void logging_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct io_log *log = opaque;

	log->offset = offset;
	log->len = len;
	log->is_write = is_write;
	log->calls++;
	if (!is_write)
		io_data_put(data, len, 0x1122334455667788ULL);
}

/* A handler that maps another range on its own bus (an ECAM write enabling a BAR). */
static void map_on_write(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct bus *bus = opaque;

	(void)offset;
	(void)data;
	(void)len;
	if (is_write)
		assert_int_equal(bus_register(bus, 0x2000, 0x100, map_on_write, bus, "bar"), 0);
}

static void test_bus_handler_changes_bus(void **state)
{
	struct bus bus;
	u8 d[4] = {0};

	(void)state;
	bus_init(&bus, "mmio");
	assert_int_equal(bus_register(&bus, 0x1000, 0x100, map_on_write, &bus, "ecam"), 0);
	assert_true(bus_dispatch(&bus, 0x1004, d, 4, true)); /* deadlocked before */
	assert_true(bus_dispatch(&bus, 0x2000, d, 4, false));
	bus_destroy(&bus);
}

static void test_bus(void **state)
{
	struct io_log a = {0}, b = {0};
	struct bus bus;
	u8 data[8] = {0};

	(void)state;
	bus_init(&bus, "test");
	assert_int_equal(bus_register(&bus, 0x3f8, 8, logging_io, &a, "a"), 0);
	assert_int_equal(bus_register(&bus, 0x100, 0x10, logging_io, &b, "b"), 0);
	assert_int_equal(bus_register(&bus, 0x3fc, 8, logging_io, &b, "overlap"), -EEXIST);
	assert_int_equal(bus_register(&bus, 0x3f0, 9, logging_io, &b, "overlap"), -EEXIST);
	assert_int_equal(bus_register(&bus, 0, 0, logging_io, &b, "empty"), -EINVAL);
	assert_int_equal(bus_register(&bus, ~0ULL, 2, logging_io, &b, "wraps"), -EINVAL);
	assert_int_equal(bus_register(&bus, 0x3f0, 8, logging_io, &b, "adjacent"), 0);

	assert_true(bus_dispatch(&bus, 0x3fd, data, 1, false));
	assert_int_equal(a.offset, 5);
	assert_int_equal(data[0], 0x88);
	assert_true(bus_dispatch(&bus, 0x10c, data, 4, true));
	assert_int_equal(b.offset, 0xc);
	assert_true(b.is_write);
	/* Straddling the end of a range, or nothing there: not dispatched. */
	assert_false(bus_dispatch(&bus, 0x3fe, data, 4, false));
	assert_false(bus_dispatch(&bus, 0x200, data, 1, false));
	assert_false(bus_dispatch(&bus, 0x3f8, data, 9, false));
	assert_int_equal(bus_unregister(&bus, 0x3f8), 0);
	assert_false(bus_dispatch(&bus, 0x3f8, data, 1, false));
	assert_int_equal(bus_unregister(&bus, 0x3f8), -ENOENT);
	bus_destroy(&bus);
}

static void test_console_escape(void **state)
{
	struct console_escape esc = {0};
	u8 out[16];
	bool quit;

	(void)state;
	assert_int_equal(console_filter(&esc, (const u8 *)"abc", 3, out, &quit), 3);
	assert_false(quit);
	assert_int_equal(console_filter(&esc, (const u8 *)"a\x01\x01z", 4, out, &quit), 3);
	assert_memory_equal(out, "a\x01z", 3);
	/* The escape may arrive in one read and its key in the next. */
	assert_int_equal(console_filter(&esc, (const u8 *)"q\x01", 2, out, &quit), 1);
	assert_false(quit);
	assert_int_equal(console_filter(&esc, (const u8 *)"xrest", 5, out, &quit), 0);
	assert_true(quit);
	assert_int_equal(console_filter(&esc, (const u8 *)"\x01?", 2, out, &quit), 0);
	assert_false(quit);
}

static void test_snapshot(void **state)
{
	struct snap_buf sb;
	u32 v32;
	u64 v64;

	(void)state;
	snap_init(&sb);
	snap_begin_section(&sb, "dev", 3);
	snap_put_u32(&sb, 0xdeadbeef);
	snap_put_u64(&sb, 1ULL << 40);
	assert_false(sb.error);
	sb.pos = 0;
	assert_int_equal(snap_open_section(&sb, "dev"), 3);
	assert_true(snap_get_u32(&sb, &v32));
	assert_int_equal(v32, 0xdeadbeef);
	assert_true(snap_get_u64(&sb, &v64));
	assert_int_equal(v64, 1ULL << 40);
	/* Reading past the end fails and stays failed. */
	assert_false(snap_get_u32(&sb, &v32));
	assert_true(sb.error);
	sb.pos = 0;
	sb.error = false;
	assert_int_equal(snap_open_section(&sb, "other"), 0);
	snap_free(&sb);
}

/* Files are read in pieces: exact reads, size limits, and a file that shrinks under us. */
static void test_input_file(void **state)
{
	char path[] = "/tmp/kvmbox-test-file-XXXXXX";
	int fd = mkstemp(path);
	struct input_file f;
	u8 buf[8], *all;
	size_t len;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	assert_int_equal(input_file_open(&f, path, "--kernel", 9), -EFBIG);
	assert_int_equal(input_file_open(&f, path, "--kernel", 10), 0);
	assert_int_equal(f.size, 10);
	assert_int_equal(input_file_read(&f, 6, buf, 4), 0);
	assert_memory_equal(buf, "6789", 4);
	assert_int_equal(input_file_read(&f, 8, buf, 4), -EIO);
	assert_int_equal(ftruncate(fd, 5), 0);
	assert_int_equal(input_file_read(&f, 0, buf, 8), -EIO);
	assert_int_equal(input_file_read_all(&f, &all), -EIO);
	input_file_close(&f);
	assert_int_equal(f.fd, -1);

	assert_int_equal(read_whole_file(path, "--initrd", 5, &all, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(all, "01234", 5);
	free(all);
	assert_int_equal(input_file_open(&f, "/tmp", "--initrd", 10), -EISDIR);
	assert_int_equal(input_file_open(&f, "/nonexistent/x", "--initrd", 10), -ENOENT);
	close(fd);
	unlink(path);
}

static size_t sink_room;

/* A guest console that takes at most sink_room bytes. */
static size_t test_sink_receive(void *opaque, const u8 *buf, size_t len)
{
	size_t take = MIN(len, sink_room);

	(void)opaque;
	(void)buf;
	sink_room -= take;
	return take;
}

/*
 * Piped input waits for the guest (nothing lost); a terminal is read ahead so that
 * Ctrl-A x works while the guest takes no keys, dropping what does not fit.
 */
static void test_console_input(void **state)
{
	struct console_sink sink = {.receive = test_sink_receive};
	static struct console_input in;
	static u8 junk[6000];
	bool quit;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	console_input_init(&in, p[0]);
	assert_false(in.is_terminal);
	sink_room = 1;
	assert_int_equal(write(p[1], "abc", 3), 3);
	console_input_read(&in, &sink, &quit);
	assert_true(console_input_pending(&in));
	assert_false(console_input_wants_read(&in));
	sink_room = 100;
	console_input_flush(&in, &sink);
	assert_false(console_input_pending(&in));
	assert_int_equal(sink_room, 98);

	in.is_terminal = true; /* as console_input_init sets it for a tty */
	sink_room = 0;
	memset(junk, 'k', sizeof(junk));
	assert_int_equal(write(p[1], junk, sizeof(junk)), (ssize_t)sizeof(junk));
	while (console_input_wants_read(&in) && !in.warned)
		console_input_read(&in, &sink, &quit);
	assert_true(in.warned);
	assert_int_equal(in.len - in.pos, sizeof(in.buf));
	assert_true(console_input_wants_read(&in));
	assert_int_equal(write(p[1], "\x01x", 2), 2);
	console_input_read(&in, &sink, &quit);
	assert_true(quit);
	close(p[0]);
	close(p[1]);
}

/* One call site a guest can drive in a loop: a few lines a second, not one per call. */
static void say_guest_paced(void)
{
	pr_ratelimited(LOG_WARN, "guest-paced message");
}

static void test_ratelimited_log(void **state)
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO), lines = 0, c;

	(void)state;
	assert_non_null(f);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	for (int i = 0; i < 1000; i++)
		say_guest_paced();
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(f);
	while ((c = fgetc(f)) != EOF)
		lines += c == '\n';
	fclose(f);
	/* The limit is per second; a slow run may cross into a second one. */
	assert_true(lines >= 1 && lines <= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_uint),
		cmocka_unit_test(test_memory_layout),
		cmocka_unit_test(test_gpa_to_hva),
		cmocka_unit_test(test_bus),
		cmocka_unit_test(test_bus_handler_changes_bus),
		cmocka_unit_test(test_console_escape),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_input_file),
		cmocka_unit_test(test_console_input),
		cmocka_unit_test(test_ratelimited_log),
	};

	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
