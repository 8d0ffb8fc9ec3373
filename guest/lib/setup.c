// SPDX-License-Identifier: GPL-2.0-only
/* From entry.S to main(): per-CPU data, console, IDT, boot information, argv. */
#include "libguest.h"

#define MAX_ARGS 32

int main(int argc, char **argv);

int guest_argc;
char **guest_argv;
static char *args[MAX_ARGS + 1];
static char cmdline[1024];

void exit(int code)
{
	outl(DEBUG_EXIT_PORT, (u32)code);
	/* No debug-exit device: stop here rather than run off. */
	for (;;)
		asm volatile("cli; hlt");
}

void abort(void)
{
	printf("ABORT on cpu %u\n", this_cpu()->cpu);
	exit(ABORT_CODE);
}

/* Split the multiboot command line ("<image path> ARGS") into argv. */
static void parse_cmdline(const char *src)
{
	char *p = cmdline;

	if (src)
		snprintf(cmdline, sizeof(cmdline), "%s", src);
	while (*p && guest_argc < MAX_ARGS) {
		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		args[guest_argc++] = p;
		while (*p && *p != ' ')
			p++;
	}
	if (!guest_argc)
		args[guest_argc++] = "guest";
	args[guest_argc] = NULL;
	guest_argv = args;
}

const char *getarg(const char *key)
{
	size_t n = strlen(key);

	for (int i = 1; i < guest_argc; i++) {
		const char *a = guest_argv[i];

		if (strncmp(a, key, n))
			continue;
		if (a[n] == '=')
			return a + n + 1;
		if (!a[n])
			return "";
	}
	return NULL;
}

bool test_wanted(const char *name)
{
	const char *list = getarg("skip");
	size_t n = strlen(name);

	while (list && *list) {
		const char *comma = strchr(list, ',');
		size_t len = comma ? (size_t)(comma - list) : strlen(list);

		if (len == n && !strncmp(list, name, n)) {
			report_skip("%s (skip=%s)", name, name);
			return false;
		}
		list = comma ? comma + 1 : NULL;
	}
	return true;
}

/* The legacy PIC would deliver through LINT0 if someone unmasked it: mask it for good. */
static void mask_pic(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

void bsp_main(void)
{
	struct mb_info *mbi;

	percpu_init(0);
	console_init();
	setup_idt();
	if (mb_magic != MULTIBOOT_BOOTLOADER_MAGIC) {
		printf("not started by a multiboot loader (eax=%x)\n", mb_magic);
		exit(ABORT_CODE);
	}
	mbi = multiboot_info();
	parse_cmdline(mbi->flags & MB_INFO_CMDLINE ? (const char *)(u64)mbi->cmdline : NULL);
	mm_init();
	mask_pic();
	apic_enable();
	percpu[0].apic_id = apic_id();
	percpu[0].online = true;
	exit(main(guest_argc, guest_argv));
}
