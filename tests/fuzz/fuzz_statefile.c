// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/snapshot/statefile.c src/util/file.c src/util/log.c
// fuzz-libs: -lz
/*
 * libFuzzer harness for the snapshot state file's loader, which reads an untrusted
 * file: any input either parses into sections that lie inside it, in order and without
 * repeats, or is refused with a message; nothing is read outside the input. The CRC
 * would stop almost every mutation at the door, so half the inputs get a valid CRC
 * (the first byte picks) and reach the section walk.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "snapshot/statefile.h"

static const u32 known[] = {1, 2, 3, 16, 17, 32};

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct statefile sf;
	char err[200];
	u8 *buf;

	if (!size)
		return 0;
	buf = malloc(size - 1 ? size - 1 : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	size--;
	if ((data[0] & 1) && size >= 4) {
		u32 crc = (u32)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)(size - 4));

		memcpy(buf + size - 4, &crc, 4);
	}
	if (statefile_parse(buf, size, known, 6, &sf, err, sizeof(err)) == 0) {
		for (unsigned int i = 0; i < sf.nr; i++) {
			const struct statefile_section *s = &sf.sec[i];

			if (s->data < buf || s->len > (u64)(buf + size - s->data))
				abort();
			/* Touch every byte: ASan catches a section outside the buffer. */
			for (u64 j = 0; j < s->len; j++)
				(void)*(volatile const u8 *)(s->data + j);
		}
	} else if (!err[0]) {
		abort();
	}
	free(buf);
	return 0;
}
