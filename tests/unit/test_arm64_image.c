// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the arm64 Image: header checks, gunzip, placement of kernel, DTB, initrd. */
// unit-sources: src/arch/arm64/image.c
// unit-libs: -lz
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "arch/arm64/image.h"

static void put_le64(u8 *p, u64 v)
{
	for (unsigned int i = 0; i < 8; i++)
		p[i] = (u8)(v >> (8 * i));
}

/* An Image of len bytes as booting.rst lays it out; the body is a byte pattern. */
static u8 *make_image(size_t len, u64 text_offset, u64 image_size, u64 flags)
{
	u8 *img = malloc(len);

	for (size_t i = 0; i < len; i++)
		img[i] = (u8)(i * 7 + i / 251);
	memset(img, 0, ARM64_IMAGE_HEADER_LEN);
	memcpy(img, "\x10\x00\x00\x14", 4); /* code0: b +0x40 */
	put_le64(img + 0x08, text_offset);
	put_le64(img + 0x10, image_size);
	put_le64(img + 0x18, flags);
	memcpy(img + 0x38, "ARM\x64", 4);
	return img;
}

static int parse(const u8 *img, size_t len, struct arm64_image *out, const char **why)
{
	return arm64_image_parse(img, len, len, out, why);
}

static void test_parse_good(void **state)
{
	struct arm64_image im;
	const char *why;
	u8 *img = make_image(64 * KiB, 0, 2 * MiB, 0xa); /* 4 KiB pages, placed anywhere */

	(void)state;
	assert_int_equal(parse(img, 64 * KiB, &im, &why), 0);
	assert_int_equal(im.text_offset, 0);
	assert_int_equal(im.image_size, 2 * MiB);
	assert_int_equal(im.load_size, 2 * MiB);
	assert_int_equal(im.file_len, 64 * KiB);
	assert_int_equal(im.page_size, 4096);
	assert_true(im.phys_anywhere);
	/* A loader reads only the header; the file's length comes from its size. */
	assert_int_equal(arm64_image_parse(img, 64, 64 * KiB, &im, &why), 0);
	assert_int_equal(im.file_len, 64 * KiB);
	free(img);

	img = make_image(4096, 0x80000, 4096, 3 << 1); /* 64 KiB pages, low placement */
	assert_int_equal(parse(img, 4096, &im, &why), 0);
	assert_int_equal(im.text_offset, 0x80000);
	assert_int_equal(im.load_size, 4096); /* image_size may equal the file */
	assert_int_equal(im.page_size, 64 * KiB);
	assert_false(im.phys_anywhere);
	free(img);
}

static void expect_refused(const u8 *img, size_t head_len, size_t file_len, const char *needle)
{
	struct arm64_image im;
	const char *why = NULL;

	assert_int_equal(arm64_image_parse(img, head_len, file_len, &im, &why), -EINVAL);
	assert_non_null(why);
	assert_non_null(strstr(why, needle));
	assert_int_equal(im.load_size, 0);
}

static void test_parse_bad_fields(void **state)
{
	size_t len = 8 * KiB;
	u8 *img = make_image(len, 0, MiB, 0);

	(void)state;
	img[0x3b] = 0x65;
	expect_refused(img, len, len, "magic");
	memcpy(img, "MZ\0\0zimg", 8); /* an EFI zboot image says so */
	expect_refused(img, len, len, "zboot");
	free(img);

	img = make_image(len, 0, MiB, 1);
	expect_refused(img, len, len, "big-endian");
	put_le64(img + 0x18, BIT(4));
	expect_refused(img, len, len, "flags");
	put_le64(img + 0x18, 0);
	img[0x2f] = 1; /* res3 */
	expect_refused(img, len, len, "reserved");
	free(img);

	img = make_image(len, 0x80001, MiB, 0);
	expect_refused(img, len, len, "text_offset");
	put_le64(img + 0x08, 0x80800);
	expect_refused(img, len, len, "text_offset");
	put_le64(img + 0x08, 2 * MiB);
	expect_refused(img, len, len, "text_offset");
	put_le64(img + 0x08, UINT64_MAX & ~0xfffULL);
	expect_refused(img, len, len, "text_offset");
	free(img);
}

static void test_parse_bad_sizes(void **state)
{
	size_t len = 8 * KiB;
	u8 *img = make_image(len, 0, MiB, 0);

	(void)state;
	/* Truncated: shorter than the header, or than what was read of it. */
	expect_refused(img, 63, 63, "64-byte");
	expect_refused(img, 0, len, "64-byte");
	expect_refused(img, len, len - 1, "shorter");
	expect_refused(img, 64, (size_t)ARM64_IMAGE_MAX_SIZE + 1, "1 GiB");
	put_le64(img + 0x10, len - 1);
	expect_refused(img, len, len, "smaller than the file");
	put_le64(img + 0x10, UINT64_MAX);
	expect_refused(img, len, len, "1 GiB");
	put_le64(img + 0x10, ARM64_IMAGE_MAX_SIZE + 1);
	expect_refused(img, len, len, "1 GiB");
	free(img);
}

/* Before 3.17: no image_size, and text_offset of unknown endianness is taken as 0x80000. */
static void test_parse_pre_3_17(void **state)
{
	struct arm64_image im;
	const char *why;
	u8 *img = make_image(4 * KiB, 0x0000080000000000ULL, 0, 0);

	(void)state;
	assert_int_equal(parse(img, 4 * KiB, &im, &why), 0);
	assert_int_equal(im.image_size, 0);
	assert_int_equal(im.text_offset, 0x80000);
	assert_true(im.load_size >= 16 * MiB);
	free(img);

	img = make_image(12 * MiB, 0x80000, 0, 0);
	assert_int_equal(parse(img, 12 * MiB, &im, &why), 0);
	assert_true(im.load_size >= 2 * 12 * MiB);
	free(img);
}

static u8 *gzip(const u8 *in, size_t len, size_t *out_len)
{
	z_stream zs = {0};
	size_t max;
	u8 *out;

	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	max = deflateBound(&zs, len);
	out = malloc(max);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)max;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static int gunzip(const u8 *gz, size_t gz_len, u8 *out, size_t out_max, size_t *out_len,
		  const char **why)
{
	return arm64_image_gunzip(gz, gz_len, out, out_max, out_len, why);
}

static void test_gzip_round_trip(void **state)
{
	size_t len = 3 * MiB + 123, gz_len, out_len;
	u8 *img = make_image(len, 0, 4 * MiB, 2), *gz = gzip(img, len, &gz_len);
	u8 *out = malloc(len);
	struct arm64_image im;
	const char *why;

	(void)state;
	assert_true(arm64_image_is_gzip(gz, gz_len));
	assert_false(arm64_image_is_gzip(img, len));
	assert_false(arm64_image_is_gzip(gz, 2));
	/* Exactly out_max bytes is fine; one byte less is not. */
	assert_int_equal(gunzip(gz, gz_len, out, len, &out_len, &why), 0);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, img, len);
	assert_int_equal(parse(out, out_len, &im, &why), 0);
	assert_int_equal(im.image_size, 4 * MiB);
	assert_int_equal(gunzip(gz, gz_len, out, len - 1, &out_len, &why), -EINVAL);
	assert_non_null(strstr(why, "beyond"));
	assert_int_equal(gunzip(img, len, out, len, &out_len, &why), -EINVAL);
	free(out);
	free(gz);
	free(img);
}

/* Members one after another inflate as one stream, as with gzip(1). */
static void test_gzip_members(void **state)
{
	size_t len = 100 * KiB, a_len, b_len, out_len;
	u8 *img = make_image(len, 0, MiB, 0), *a = gzip(img, len / 2, &a_len);
	u8 *b = gzip(img + len / 2, len - len / 2, &b_len), *both = malloc(a_len + b_len + 4);
	u8 *out = malloc(len);
	const char *why;

	(void)state;
	memcpy(both, a, a_len);
	memcpy(both + a_len, b, b_len);
	memset(both + a_len + b_len, 0, 4); /* padding after the last member is ignored */
	assert_int_equal(gunzip(both, a_len + b_len + 4, out, len, &out_len, &why), 0);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, img, len);
	free(out);
	free(both);
	free(b);
	free(a);
	free(img);
}

static void test_gzip_bomb(void **state)
{
	size_t len = 64 * MiB, gz_len, out_len = 12345, max = MiB, guard = 4096;
	u8 *zeros = calloc(1, len), *gz = gzip(zeros, len, &gz_len), *out = malloc(max + guard);
	const char *why;

	(void)state;
	assert_true(gz_len < 128 * KiB);
	memset(out, 0x5a, max + guard);
	assert_int_equal(gunzip(gz, gz_len, out, max, &out_len, &why), -EINVAL);
	assert_non_null(strstr(why, "beyond"));
	assert_int_equal(out_len, 0);
	for (size_t i = max; i < max + guard; i++)
		assert_int_equal(out[i], 0x5a);
	free(out);
	free(gz);
	free(zeros);
}

static void test_gzip_truncated_corrupt(void **state)
{
	size_t len = 256 * KiB, gz_len, out_len;
	u8 *img = make_image(len, 0, MiB, 0), *gz = gzip(img, len, &gz_len), *out = malloc(len);
	const char *why;

	(void)state;
	/* Every cut, down to the magic alone, is refused: the trailer's CRC and size count. */
	for (size_t cut = 0; cut < gz_len; cut += cut < 64 || cut > gz_len - 64 ? 1 : 997)
		assert_int_equal(gunzip(gz, cut, out, len, &out_len, &why), -EINVAL);
	assert_int_equal(gunzip(gz, gz_len - 1, out, len, &out_len, &why), -EINVAL);
	assert_non_null(strstr(why, "truncated"));
	gz[gz_len / 2] ^= 0x40;
	assert_int_equal(gunzip(gz, gz_len, out, len, &out_len, &why), -EINVAL);
	gz[gz_len / 2] ^= 0x40;
	gz[gz_len - 6] ^= 1; /* the CRC */
	assert_int_equal(gunzip(gz, gz_len, out, len, &out_len, &why), -EINVAL);
	assert_non_null(strstr(why, "corrupt"));
	free(out);
	free(gz);
	free(img);
}

static struct arm64_image image_of(u64 text_offset, u64 image_size)
{
	struct arm64_image im;
	const char *why;
	u8 *img = make_image(4096, text_offset, image_size, 0);

	assert_int_equal(parse(img, 4096, &im, &why), 0);
	free(img);
	return im;
}

/* The protocol's alignment rules, whatever the inputs. */
static void check_placement(const struct arm64_image *im, const struct arm64_placement *p,
			    u64 ram_base, u64 ram_size, u64 dtb_size, u64 initrd_size)
{
	assert_int_equal(p->kernel_base % (2 * MiB), 0);
	assert_true(p->kernel_base >= ram_base);
	assert_true(p->kernel_base < ram_base + 2 * MiB); /* as low as allowed */
	assert_int_equal(p->kernel_gpa, p->kernel_base + im->text_offset);
	assert_int_equal(p->kernel_end, p->kernel_gpa + im->load_size);
	assert_int_equal(p->dtb_gpa % 8, 0);
	assert_true(p->dtb_gpa >= p->kernel_end);
	assert_int_equal(p->dtb_gpa / (2 * MiB), (p->dtb_gpa + dtb_size - 1) / (2 * MiB));
	if (initrd_size) {
		assert_int_equal(p->initrd_gpa % 4096, 0);
		assert_true(p->initrd_gpa >= p->dtb_gpa + dtb_size);
		assert_int_equal(p->end, p->initrd_gpa + initrd_size);
	} else {
		assert_int_equal(p->initrd_gpa, 0);
		assert_int_equal(p->end, p->dtb_gpa + dtb_size);
	}
	assert_true(p->end <= ram_base + ram_size);
}

/* The header alone, from the first bytes of the stream: what the pre-KVM check reads. */
static void test_gzip_head(void **state)
{
	size_t len = 256 * KiB, gz_len;
	u8 *img = make_image(len, 0, MiB, 0), *gz = gzip(img, len, &gz_len);
	u8 head[ARM64_IMAGE_HEADER_LEN];
	const char *why;

	(void)state;
	assert_int_equal(arm64_image_gunzip_head(gz, gz_len, head, sizeof(head), &why), 0);
	assert_memory_equal(head, img, sizeof(head));
	/* A stream cut before 64 bytes came out, a corrupt one, and no gzip at all: refused. */
	assert_int_equal(arm64_image_gunzip_head(gz, 12, head, sizeof(head), &why), -EINVAL);
	gz[12] ^= 0xff;
	gz[13] ^= 0xff;
	assert_int_equal(arm64_image_gunzip_head(gz, gz_len, head, sizeof(head), &why), -EINVAL);
	assert_int_equal(arm64_image_gunzip_head(img, len, head, sizeof(head), &why), -EINVAL);
	free(gz);
	free(img);
}

static void test_place_small_ram(void **state)
{
	struct arm64_image im = image_of(0, 20 * MiB + 4096);
	struct arm64_placement p;
	u64 ram = 0x40000000;
	const char *why;

	(void)state;
	assert_int_equal(arm64_image_place(&im, ram, 64 * MiB, 0x1234, 5 * MiB + 1, &p, &why), 0);
	check_placement(&im, &p, ram, 64 * MiB, 0x1234, 5 * MiB + 1);
	assert_int_equal(p.kernel_gpa, ram);
	assert_int_equal(p.dtb_gpa, ram + 22 * MiB);

	/* A base not on 2 MiB moves up to the next boundary; the old offset still applies. */
	im = image_of(0x80000, 8 * MiB);
	assert_int_equal(arm64_image_place(&im, ram + 4096, 32 * MiB, 2 * MiB, 0, &p, &why), 0);
	check_placement(&im, &p, ram + 4096, 32 * MiB, 2 * MiB, 0);
	assert_int_equal(p.kernel_gpa, ram + 2 * MiB + 0x80000);

	/* Everything just fits, then one byte of RAM less does not. */
	im = image_of(0, 4 * MiB);
	assert_int_equal(arm64_image_place(&im, ram, 5 * MiB + 64 * KiB, MiB, 64 * KiB, &p, &why),
			 0);
	assert_int_equal(p.initrd_gpa, ram + 5 * MiB);
	assert_int_equal(p.end, ram + 5 * MiB + 64 * KiB);
	assert_int_equal(
		arm64_image_place(&im, ram, 5 * MiB + 64 * KiB - 1, MiB, 64 * KiB, &p, &why),
		-EINVAL);
	assert_non_null(strstr(why, "--memory"));
	assert_int_equal(p.end, 0);
	assert_int_equal(arm64_image_place(&im, ram, 4 * MiB - 1, MiB, 0, &p, &why), -EINVAL);
	assert_non_null(strstr(why, "kernel: raise --memory"));
	assert_int_equal(arm64_image_place(&im, ram, 6 * MiB, 2 * MiB + 1, 0, &p, &why), -EINVAL);
}

static void test_place_dtb_initrd_limits(void **state)
{
	struct arm64_image im = image_of(0, 4 * MiB);
	struct arm64_placement p;
	const char *why;

	(void)state;
	assert_int_equal(arm64_image_place(&im, 0, GiB, 2 * MiB, 0, &p, &why), 0);
	check_placement(&im, &p, 0, GiB, 2 * MiB, 0);
	assert_int_equal(arm64_image_place(&im, 0, GiB, 2 * MiB + 1, 0, &p, &why), -EINVAL);
	assert_non_null(strstr(why, "2 MiB"));
	assert_int_equal(arm64_image_place(&im, 0, GiB, 0, 0, &p, &why), -EINVAL);

	/* An initrd larger than RAM, or beyond the 32 GiB window with the kernel. */
	assert_int_equal(arm64_image_place(&im, 0, GiB, 4096, GiB, &p, &why), -EINVAL);
	assert_non_null(strstr(why, "initrd: raise --memory"));
	assert_int_equal(arm64_image_place(&im, 0, 64 * GiB, 4096, 31 * GiB, &p, &why), 0);
	check_placement(&im, &p, 0, 64 * GiB, 4096, 31 * GiB);
	assert_int_equal(arm64_image_place(&im, 0, 64 * GiB, 4096, 32 * GiB, &p, &why), -EINVAL);
	assert_non_null(strstr(why, "32 GiB"));
	assert_int_equal(arm64_image_place(&im, 0, 64 * GiB, 4096, SIZE_MAX, &p, &why), -EINVAL);
}

static void test_place_overflow(void **state)
{
	struct arm64_image im = image_of(0x1000, 4 * MiB), bad = {0};
	struct arm64_placement p;
	const char *why;

	(void)state;
	assert_int_equal(arm64_image_place(&im, 0, 0, 4096, 0, &p, &why), -EINVAL);
	assert_int_equal(
		arm64_image_place(&im, UINT64_MAX - 4 * MiB + 1, 4 * MiB, 4096, 0, &p, &why),
		-EINVAL);
	assert_non_null(strstr(why, "wraps"));
	assert_int_equal(arm64_image_place(&im, UINT64_MAX - 100, 50, 4096, 0, &p, &why), -EINVAL);
	/* Steps that would pass the top: the kernel's end, then the DTB's 2 MiB alignment. */
	assert_int_equal(arm64_image_place(&im, 0ULL - 2 * MiB, 2 * MiB - 1, 4096, 0, &p, &why),
			 -EINVAL);
	assert_int_equal(arm64_image_place(&im, 0ULL - 6 * MiB, 6 * MiB - 1, 4096, 0, &p, &why),
			 -EINVAL);
	assert_int_equal(arm64_image_place(&im, 0ULL - 8 * MiB, 8 * MiB - 1, 4096, 4096, &p, &why),
			 0);
	check_placement(&im, &p, 0ULL - 8 * MiB, 8 * MiB - 1, 4096, 4096);
	assert_int_equal(arm64_image_place(&bad, 0, GiB, 4096, 0, &p, &why), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad_fields),
		cmocka_unit_test(test_parse_bad_sizes),
		cmocka_unit_test(test_parse_pre_3_17),
		cmocka_unit_test(test_gzip_round_trip),
		cmocka_unit_test(test_gzip_members),
		cmocka_unit_test(test_gzip_bomb),
		cmocka_unit_test(test_gzip_truncated_corrupt),
		cmocka_unit_test(test_gzip_head),
		cmocka_unit_test(test_place_small_ram),
		cmocka_unit_test(test_place_dtb_initrd_limits),
		cmocka_unit_test(test_place_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
