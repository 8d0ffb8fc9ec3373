// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/arch/arm64/image.c
// fuzz-libs: -lz
// fuzz-time-percent: 5
/*
 * libFuzzer harness for the arm64 Image loader's pure parts: the input is 24 bytes of
 * placement (ram base and size le64, DTB and initrd sizes le32, each XORed onto QEMU
 * virt's 1 GiB, 256 MiB, 64 KiB and 16 MiB), then a hostile Image or Image.gz. A gzip'd
 * one goes through arm64_image_gunzip_head() and arm64_image_gunzip() into at most 1 MiB
 * (both buffers heap blocks of their exact size), which must agree on the first 64 bytes;
 * the Image then through arm64_image_parse() and an accepted one through
 * arm64_image_place(), whose placement must be what the boot protocol asks: the kernel
 * at a 2 MiB-aligned base plus text_offset, then the DTB in a 2 MiB block of its own,
 * then the initrd (64 KiB-aligned, within 32 GiB of the kernel), all inside RAM.
 */
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/image.h"
#include "fuzz_access.h"

#define GUNZIP_MAX (1 * MiB)

static u8 *dup(const u8 *p, size_t len)
{
	u8 *q = malloc(len ? len : 1);

	CHECK(q);
	memcpy(q, p, len);
	return q;
}

static void check_place(const struct arm64_image *img, u64 ram_base, u64 ram_size, u64 dtb,
			u64 initrd)
{
	struct arm64_placement p;
	const char *why = NULL;
	u64 ram_end = ram_base + ram_size;

	if (arm64_image_place(img, ram_base, ram_size, dtb, initrd, &p, &why)) {
		CHECK(why && !p.kernel_gpa && !p.end);
		return;
	}
	CHECK(ram_end > ram_base);
	CHECK(p.kernel_base >= ram_base && !(p.kernel_base % (2 * MiB)));
	CHECK(p.kernel_gpa == p.kernel_base + img->text_offset);
	CHECK(p.kernel_end == p.kernel_gpa + img->load_size && p.kernel_end <= p.dtb_gpa);
	CHECK(!(p.dtb_gpa % ARM64_FDT_MAX_SIZE) && dtb && dtb <= ARM64_FDT_MAX_SIZE);
	if (initrd) {
		CHECK(p.initrd_gpa >= p.dtb_gpa + dtb && !(p.initrd_gpa % (64 * KiB)));
		CHECK(p.end == p.initrd_gpa + initrd);
		CHECK(p.end - ALIGN_DOWN(p.kernel_base, GiB) <= 32 * GiB);
	} else {
		CHECK(!p.initrd_gpa && p.end == p.dtb_gpa + dtb);
	}
	CHECK(p.end <= ram_end);
}

static void check_image(const u8 *file, size_t len, struct fuzz_in *in)
{
	u64 ram_base = 1 * GiB ^ fuzz_le(in, 8), ram_size = 256 * MiB ^ fuzz_le(in, 8);
	u64 dtb = 64 * KiB ^ fuzz_le(in, 4), initrd = 16 * MiB ^ fuzz_le(in, 4);
	size_t head_len = MIN(len, (size_t)ARM64_IMAGE_HEADER_LEN);
	u8 *head = dup(file, head_len);
	struct arm64_image img;
	const char *why = NULL;

	if (arm64_image_parse(head, head_len, len, &img, &why)) {
		CHECK(why);
	} else {
		CHECK(img.file_len == len && img.load_size >= len && img.text_offset < 2 * MiB &&
		      !(img.text_offset % (4 * KiB)));
		CHECK(!img.page_size || img.page_size == 4 * KiB || img.page_size == 16 * KiB ||
		      img.page_size == 64 * KiB);
		check_place(&img, ram_base, ram_size, dtb, initrd);
	}
	free(head);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in params = {data, MIN(size, (size_t)24)};
	const u8 *file = data + params.n;
	size_t len = size - params.n, out_len = 0;
	u8 head[ARM64_IMAGE_HEADER_LEN], *in, *out;
	const char *why = NULL;
	bool head_ok;

	if (!arm64_image_is_gzip(file, len)) {
		check_image(file, len, &params);
		return 0;
	}
	in = dup(file, len);
	out = malloc(GUNZIP_MAX);
	CHECK(out);
	head_ok = !arm64_image_gunzip_head(in, len, head, sizeof(head), &why);
	CHECK(head_ok || why);
	if (arm64_image_gunzip(in, len, out, GUNZIP_MAX, &out_len, &why)) {
		CHECK(why);
	} else {
		CHECK(out_len <= GUNZIP_MAX);
		CHECK(!head_ok || (out_len >= sizeof(head) && !memcmp(out, head, sizeof(head))));
		check_image(out, out_len, &params);
	}
	free(out);
	free(in);
	return 0;
}
