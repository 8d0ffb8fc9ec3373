// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "image.h"

#define IMG_TEXT_OFFSET 0x08
#define IMG_IMAGE_SIZE	0x10
#define IMG_FLAGS	0x18
#define IMG_RES2	0x20 /* res2..res4: three reserved u64, zero by the protocol */
#define IMG_MAGIC	0x38
#define IMG_MAGIC_VALUE 0x644d5241 /* "ARM\x64" */

#define IMG_FLAG_BE	    BIT(0)
#define IMG_FLAG_PAGE_SHIFT 1
#define IMG_FLAG_PHYS_ANY   BIT(3)
#define IMG_FLAGS_KNOWN	    (BIT(4) - 1)
#define IMG_LEGACY_TEXT_OFF 0x80000 /* what pre-3.17 kernels used, per booting.rst */
#define IMG_LEGACY_MIN_SIZE (16 * MiB)
#define IMG_TEXT_OFF_ALIGN  (4 * KiB)  /* the smallest page: randomized offsets were pages */
#define INITRD_ALIGN	    (64 * KiB) /* a page of any granule the kernel may use */
#define INITRD_WINDOW_ALIGN GiB
#define INITRD_WINDOW_SIZE  (32 * GiB)

_Static_assert(IMG_MAGIC + 8 == ARM64_IMAGE_HEADER_LEN, "magic and res5 end the header");

static u32 get_le32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u64 get_le64(const u8 *p)
{
	return get_le32(p) | (u64)get_le32(p + 4) << 32;
}

/* Rounds x up to a (a power of two); true if that overflows. */
static bool align_up_overflows(u64 x, u64 a, u64 *r)
{
	if (__builtin_add_overflow(x, a - 1, r))
		return true;
	*r &= ~(a - 1);
	return false;
}

/* A linux EFI zboot image: the Image is compressed inside a PE file, "zimg" at offset 4. */
static bool is_efi_zboot(const u8 *head, size_t len)
{
	return len >= 8 && head[0] == 'M' && head[1] == 'Z' && !memcmp(head + 4, "zimg", 4);
}

static int check_magic_and_flags(const u8 *head, size_t len, u64 flags, const char **why)
{
	if (get_le32(head + IMG_MAGIC) != IMG_MAGIC_VALUE) {
		*why = is_efi_zboot(head, len)
			       ? "an EFI zboot kernel (vmlinuz.efi): give the Image or Image.gz"
			       : "no arm64 Image magic \"ARM\\x64\" at offset 0x38";
		return -EINVAL;
	}
	if (flags & IMG_FLAG_BE) {
		*why = "a big-endian kernel: only little-endian guests are supported";
		return -EINVAL;
	}
	/* Unknown flags could ask the loader for something it does not do: refuse, not guess. */
	if (flags & ~IMG_FLAGS_KNOWN) {
		*why = "reserved Image header flags are set (a newer boot protocol?)";
		return -EINVAL;
	}
	for (unsigned int i = 0; i < 3; i++) {
		if (get_le64(head + IMG_RES2 + 8 * i)) {
			*why = "reserved Image header fields are not zero";
			return -EINVAL;
		}
	}
	return 0;
}

/* text_offset and the space the kernel takes, from image_size or, when 0, an estimate. */
static int check_sizes(const u8 *head, size_t file_len, struct arm64_image *img, const char **why)
{
	img->image_size = get_le64(head + IMG_IMAGE_SIZE);
	if (!img->image_size) {
		/*
		 * Before 3.17 text_offset had the kernel's endianness and the size was unknown.
		 * U-Boot assumes 16 MiB; BSS then was smaller than text and data, so twice the
		 * file also covers a larger kernel.
		 */
		img->text_offset = IMG_LEGACY_TEXT_OFF;
		img->load_size = MAX(IMG_LEGACY_MIN_SIZE, 2 * (u64)file_len);
		return 0;
	}
	img->text_offset = get_le64(head + IMG_TEXT_OFFSET);
	if (img->text_offset % IMG_TEXT_OFF_ALIGN || img->text_offset >= ARM64_KERNEL_ALIGN) {
		*why = "Image text_offset is not a multiple of 4 KiB below 2 MiB";
		return -EINVAL;
	}
	if (img->image_size > ARM64_IMAGE_MAX_SIZE) {
		*why = "Image image_size is larger than 1 GiB";
		return -EINVAL;
	}
	if (img->image_size < file_len) {
		*why = "Image image_size is smaller than the file";
		return -EINVAL;
	}
	img->load_size = img->image_size;
	return 0;
}

int arm64_image_parse(const u8 *head, size_t head_len, size_t file_len, struct arm64_image *img,
		      const char **why)
{
	u64 flags;
	int err;

	memset(img, 0, sizeof(*img));
	if (head_len < ARM64_IMAGE_HEADER_LEN || head_len > file_len) {
		*why = head_len > file_len ? "file is shorter than the head read from it"
					   : "file is shorter than the 64-byte arm64 Image header";
		return -EINVAL;
	}
	if (file_len > ARM64_IMAGE_MAX_SIZE) {
		*why = "Image is larger than 1 GiB";
		return -EINVAL;
	}
	flags = get_le64(head + IMG_FLAGS);
	err = check_magic_and_flags(head, head_len, flags, why);
	if (err)
		return err;
	err = check_sizes(head, file_len, img, why);
	if (err)
		return err;
	img->file_len = file_len;
	switch ((flags >> IMG_FLAG_PAGE_SHIFT) & 3) {
	case 1:
		img->page_size = 4 * KiB;
		break;
	case 2:
		img->page_size = 16 * KiB;
		break;
	case 3:
		img->page_size = 64 * KiB;
		break;
	}
	img->phys_anywhere = flags & IMG_FLAG_PHYS_ANY;
	return 0;
}

bool arm64_image_is_gzip(const u8 *head, size_t len)
{
	return len >= 3 && head[0] == 0x1f && head[1] == 0x8b && head[2] == Z_DEFLATED;
}

/* zlib counts in uInt: hand it at most that much of each buffer at a time. */
static void gunzip_refill(z_stream *zs, const u8 *in, size_t in_len, u8 *out, size_t out_max,
			  size_t in_done, size_t out_done)
{
	zs->next_in = (Bytef *)(in + in_done);
	zs->avail_in = (uInt)MIN(in_len - in_done, (size_t)UINT_MAX);
	zs->next_out = out + out_done;
	zs->avail_out = (uInt)MIN(out_max - out_done, (size_t)UINT_MAX);
}

static const char *gunzip_failure(z_stream *zs, int ret, bool out_full)
{
	u8 byte;

	if (ret == Z_BUF_ERROR && out_full) {
		/* Too much output, or input cut just where the output ends: one more byte tells. */
		zs->next_out = &byte;
		zs->avail_out = 1;
		ret = inflate(zs, Z_NO_FLUSH);
		if (!zs->avail_out)
			return "gzip'd kernel inflates beyond the size allowed for it";
	}
	return ret == Z_BUF_ERROR ? "gzip'd kernel is truncated" : "gzip'd kernel is corrupt";
}

/*
 * Inflates members one after another, as gzip(1) does; bytes after the last member that
 * do not start another are ignored like gzip's "trailing garbage".
 */
static int gunzip_stream(z_stream *zs, const u8 *in, size_t in_len, u8 *out, size_t out_max,
			 size_t *out_len, const char **why)
{
	size_t in_done = 0, out_done = 0;

	for (;;) {
		size_t in_before, out_before;
		int ret;

		gunzip_refill(zs, in, in_len, out, out_max, in_done, out_done);
		in_before = zs->avail_in;
		out_before = zs->avail_out;
		ret = inflate(zs, Z_NO_FLUSH);
		in_done += in_before - zs->avail_in;
		out_done += out_before - zs->avail_out;
		if (ret == Z_STREAM_END) {
			if (!arm64_image_is_gzip(in + in_done, in_len - in_done))
				break;
			if (inflateReset(zs) != Z_OK) {
				*why = "gzip: cannot restart for the next member";
				return -EINVAL;
			}
			continue;
		}
		if (ret == Z_OK)
			continue;
		*why = gunzip_failure(zs, ret, out_done == out_max);
		return -EINVAL;
	}
	*out_len = out_done;
	return 0;
}

int arm64_image_gunzip(const u8 *in, size_t in_len, u8 *out, size_t out_max, size_t *out_len,
		       const char **why)
{
	z_stream zs;
	int err;

	*out_len = 0;
	if (!arm64_image_is_gzip(in, in_len)) {
		*why = "not a gzip file";
		return -EINVAL;
	}
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
		*why = "gzip: zlib cannot start (out of memory?)";
		return -EINVAL;
	}
	err = gunzip_stream(&zs, in, in_len, out, out_max, out_len, why);
	inflateEnd(&zs);
	return err;
}

int arm64_image_gunzip_head(const u8 *in, size_t in_len, u8 *out, size_t out_len, const char **why)
{
	z_stream zs;
	int ret;

	if (!arm64_image_is_gzip(in, in_len)) {
		*why = "not a gzip file";
		return -EINVAL;
	}
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
		*why = "gzip: zlib cannot start (out of memory?)";
		return -EINVAL;
	}
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)MIN(in_len, (size_t)UINT_MAX);
	zs.next_out = out;
	zs.avail_out = (uInt)MIN(out_len, (size_t)UINT_MAX);
	/* Each round makes progress or ends: Z_OK never comes back with nothing done. */
	do
		ret = inflate(&zs, Z_NO_FLUSH);
	while (ret == Z_OK && zs.avail_out);
	inflateEnd(&zs);
	if (zs.avail_out) {
		*why = "gzip: corrupt, or shorter than an arm64 Image header";
		return -EINVAL;
	}
	return 0;
}

/* The kernel at the lowest 2 MiB-aligned base in RAM: pre-4.6 kernels lose what is below. */
static int place_kernel(const struct arm64_image *img, u64 ram_base, u64 ram_end,
			struct arm64_placement *p, const char **why)
{
	if (align_up_overflows(ram_base, ARM64_KERNEL_ALIGN, &p->kernel_base) ||
	    __builtin_add_overflow(p->kernel_base, img->text_offset, &p->kernel_gpa) ||
	    __builtin_add_overflow(p->kernel_gpa, img->load_size, &p->kernel_end) ||
	    p->kernel_end > ram_end) {
		*why = "guest RAM is too small for the kernel: raise --memory";
		return -EINVAL;
	}
	return 0;
}

/*
 * The DTB starts a 2 MiB block of its own above the kernel: the kernel maps it cacheable in
 * blocks of up to 2 MiB, so at most 2 MiB it never crosses a boundary or shares a block.
 */
static int place_dtb(u64 dtb_size, u64 ram_end, struct arm64_placement *p, const char **why)
{
	if (!dtb_size || dtb_size > ARM64_FDT_MAX_SIZE) {
		*why = "the device tree is empty or larger than the 2 MiB arm64 allows";
		return -EINVAL;
	}
	if (align_up_overflows(p->kernel_end, ARM64_FDT_MAX_SIZE, &p->dtb_gpa) ||
	    __builtin_add_overflow(p->dtb_gpa, dtb_size, &p->end) || p->end > ram_end) {
		*why = "guest RAM is too small for the kernel and device tree: raise --memory";
		return -EINVAL;
	}
	return 0;
}

/* booting.rst: the initrd lies in a 1 GiB-aligned window of up to 32 GiB with the kernel. */
static int place_initrd(u64 initrd_size, u64 ram_end, struct arm64_placement *p, const char **why)
{
	u64 start, end;

	if (!initrd_size)
		return 0;
	if (align_up_overflows(p->end, INITRD_ALIGN, &start) ||
	    __builtin_add_overflow(start, initrd_size, &end) || end > ram_end) {
		*why = "guest RAM is too small for the kernel, device tree and initrd: raise "
		       "--memory";
		return -EINVAL;
	}
	if (end - ALIGN_DOWN(p->kernel_base, INITRD_WINDOW_ALIGN) > INITRD_WINDOW_SIZE) {
		*why = "the initrd is too large: it must end within 32 GiB of the kernel";
		return -EINVAL;
	}
	p->initrd_gpa = start;
	p->end = end;
	return 0;
}

int arm64_image_place(const struct arm64_image *img, u64 ram_base, u64 ram_size, size_t dtb_size,
		      size_t initrd_size, struct arm64_placement *p, const char **why)
{
	u64 ram_end;
	int err;

	memset(p, 0, sizeof(*p));
	if (!ram_size || __builtin_add_overflow(ram_base, ram_size, &ram_end)) {
		*why = "guest RAM is empty or wraps around the address space";
		return -EINVAL;
	}
	if (!img->load_size || img->load_size > 2 * ARM64_IMAGE_MAX_SIZE) {
		*why = "the kernel was not checked by arm64_image_parse";
		return -EINVAL;
	}
	err = place_kernel(img, ram_base, ram_end, p, why);
	if (!err)
		err = place_dtb(dtb_size, ram_end, p, why);
	if (!err)
		err = place_initrd(initrd_size, ram_end, p, why);
	if (err)
		memset(p, 0, sizeof(*p));
	return err;
}
