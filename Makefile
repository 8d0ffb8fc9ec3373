# SPDX-License-Identifier: GPL-2.0-only
# kvmbox build. `make` builds build/kvmbox; `make check` runs every test.
# O= picks the output folder; SAN=1 builds with AddressSanitizer and UBSan.
# ARCH=arm64 on an x86-64 host cross-builds build/arm64/kvmbox (`make arm64` is the same).

# The architecture kvmbox is built for: its src/arch/ARCH is compiled, the others not.
HOST_ARCH := $(patsubst x86_64,x86,$(patsubst aarch64,arm64,$(shell uname -m)))
ARCH ?= $(HOST_ARCH)
ifeq ($(ARCH),$(HOST_ARCH))
O ?= build
else
O ?= build/$(ARCH)
endif
CC ?= cc
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# ---- cross build (ARCH=arm64 on an x86-64 host) -------------------------------------------
# Debian's cross compiler (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross) and a sysroot of
# Debian's arm64 library packages that tools/lab/fetch-sysroot unpacks into SYSROOT without
# touching the system's apt configuration. kvmbox comes out dynamically linked, with the
# standard interpreter /lib/ld-linux-aarch64.so.1: it runs on an arm64 Debian with liburing2,
# libfdt1, zlib1g and libseccomp2 installed (libslirp0 for --net user), and in the arm64 lab's L1
# (tools/lab/README.md). CROSS_COMPILE= (empty) builds with the native compiler instead.
ifeq ($(ARCH)-$(HOST_ARCH),arm64-x86)
CROSS_COMPILE ?= aarch64-linux-gnu-
endif
ifneq ($(CROSS_COMPILE),)
ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif
ifeq ($(origin AR),default)
AR := $(CROSS_COMPILE)ar
endif
SYSROOT ?= build/$(ARCH)/sysroot
SYSROOT_LIBDIRS := $(SYSROOT)/usr/lib/aarch64-linux-gnu $(SYSROOT)/lib/aarch64-linux-gnu
endif

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
	  -fno-strict-aliasing -D_GNU_SOURCE -DKVMBOX_VERSION=\"$(VERSION)\" -MMD -MP
LDLIBS += -lpthread -ldl
# Per-thread system call filters (src/sandbox): libseccomp-dev.
LDLIBS += -lseccomp
# io_uring for the disks' I/O (src/backends/block.c): liburing-dev.
ifeq ($(CROSS_COMPILE),)
LDLIBS += $(shell pkg-config --libs liburing 2>/dev/null || echo -luring)
else
LDLIBS += -luring
CFLAGS += -I$(SYSROOT)/usr/include
LDFLAGS += $(foreach d,$(SYSROOT_LIBDIRS),-L$(d) -Wl,-rpath-link,$(d))
endif
# The control API's JSON (src/api/): jansson (libjansson-dev).
LDLIBS += -ljansson
# Snapshot state files' CRC32 (zlib1g-dev, every architecture).
LDLIBS += -lz
# arm64: the guest's device tree (libfdt-dev) and gzip'd kernel Images (zlib1g-dev).
ifeq ($(ARCH),arm64)
LDLIBS += -lfdt
endif

ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

SRCS := $(shell find src -name '*.c' -not -path 'src/arch/*' | sort) \
	$(sort $(wildcard src/arch/$(ARCH)/*.c))
OBJS := $(SRCS:%.c=$(O)/obj/%.o)
LIB_OBJS := $(filter-out $(O)/obj/src/main.o,$(OBJS))
# A unit test of x86 code that needs x86 KVM headers says "// unit-arch: x86": it is built
# only for that ARCH (an arm64 host leaves it out; tests/unit/run says it skipped).
unit_arch = $(shell sed -n 's|^// unit-arch: *||p' $(1))
UNIT_SRCS := $(foreach t,$(wildcard tests/unit/test_*.c),\
	$(if $(call unit_arch,$(t)),$(if $(filter $(ARCH),$(call unit_arch,$(t))),$(t)),$(t)))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)

.PHONY: deps all unit guest-images guest-tests lab-tests check asan fmt fmt-check bench clean demo
.PHONY: arm64
all: $(O)/kvmbox $(O)/uffd-handler

# build/arm64/kvmbox (cross-built on an x86-64 host; see the cross build above; an arm64
# host builds it natively, for the lab-arm64 suite).
arm64:
	$(MAKE) ARCH=arm64 O=build/arm64 all

$(O)/kvmbox: $(OBJS)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The lab's page-fault handler for the Uffd memory backend (tests/lab/t-api.sh): it runs
# in L1 beside kvmbox, so it is built for the host as kvmbox is.
$(O)/uffd-handler: tests/lab/uffd-handler.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(O)/libkvmbox.a: $(LIB_OBJS)
	@rm -f $@
	@$(AR) rcs $@ $^

$(O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -Isrc -c -o $@ $<

# The cross build's headers and libraries, unpacked before the first compile.
ifneq ($(CROSS_COMPILE),)
$(OBJS): | $(SYSROOT)/.stamp
$(SYSROOT)/.stamp: tools/lab/fetch-sysroot tools/lab/lib.sh
	@echo "  SYSROOT $(SYSROOT)"
	@tools/lab/fetch-sysroot --arch $(ARCH) $(SYSROOT) >/dev/null
	@touch $@
endif

# A unit test of another architecture's host-independent pieces (a boot image parser, a
# device tree builder) names their sources in a "// unit-sources:" line; they are built
# for this host into the test alone.
unit_extra = $(patsubst %.c,$(O)/obj/%.o,$(shell sed -n 's|^// unit-sources:||p' $(1)))
unit_libs = $(shell sed -n 's|^// unit-libs:||p' $(1))

.SECONDEXPANSION:
$(O)/tests/%: tests/unit/%.c $$(call unit_extra,tests/unit/%.c) $(O)/libkvmbox.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(CFLAGS) -Isrc -Itests/unit $(LDFLAGS) -o $@ $< \
		$(call unit_extra,$<) $(O)/libkvmbox.a $(LDLIBS) $(call unit_libs,$<) -lcmocka

# Kept: make would delete them as intermediates after every link.
.SECONDARY: $(foreach t,$(UNIT_SRCS),$(call unit_extra,$(t)))

unit: $(UNIT_BINS)

asan:
	$(MAKE) O=build/asan SAN=1 all unit

# The guest/ tests are 32- and 64-bit x86 guests: an arm64 host has no compiler for them
# (their suite skips there).
guest-images:
ifeq ($(HOST_ARCH),x86)
	$(MAKE) -C guest O=$(CURDIR)/build/guest
else
	@echo "guest-images: x86 guests; not built on this $(HOST_ARCH) host"
endif

deps:
	tools/install-deps

# The whole suite: unit and direct guest tests against the sanitizer build, then the lab.
# Dependencies are installed first so that a fresh machine needs only this command.
check: deps
	$(MAKE) all asan guest-images arm64
	tests/run-all

guest-tests: asan guest-images
	tests/run-all --only guest

lab-tests: all
	tests/run-all --only lab

bench: all
	tools/bench/boot

demo: all
	tools/demo

# Every C file of the project is clang-formatted (tests/style/run checks it in `make check`).
FMT_FILES = $(shell find src tests guest tools -name '*.[ch]' | sort)

fmt:
	clang-format -i $(FMT_FILES)

fmt-check:
	@clang-format --dry-run --Werror $(FMT_FILES)

clean:
	rm -rf build/kvmbox build/obj build/tests build/asan build/guest build/libkvmbox.a
	rm -rf build/arm64/kvmbox build/arm64/obj build/arm64/libkvmbox.a

-include $(OBJS:.o=.d) $(UNIT_BINS:=.d)

# ---- fuzz ---------------------------------------------------------------------------------
# libFuzzer harnesses tests/fuzz/fuzz_NAME.c, built with clang (Debian: clang and
# libclang-rt-14-dev) into build/fuzz/NAME. Each names the src/*.c files it links in a
# "// fuzz-sources:" line ($(ARCH) there is the host's src/arch folder;
# tests/fuzz/fake_transport.c stands in for virtio-pci);
# optional "// fuzz-libs:" and "// fuzz-options:" lines add libraries beyond LDLIBS
# and libFuzzer flags. fuzz-build builds them all; fuzz-smoke
# runs each for FUZZ_SMOKE_SECONDS (the make check suite), fuzz for FUZZ_SECONDS (a
# harness may take a share of that: see tests/fuzz/run). fuzz-long runs each until
# FUZZ_LONG_RUNS executions or FUZZ_LONG_SECONDS, whichever comes first (FUZZ_ONLY=
# "fuzz_pci fuzz_rtc" picks some), and prints the executions and coverage of each.
FUZZ_CC ?= clang
FUZZ_O ?= build/fuzz
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_LONG_SECONDS ?= 3600
FUZZ_LONG_RUNS ?= 10000000
FUZZ_SAN := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) -Wall -Wextra \
	       -Wno-missing-field-initializers -fno-strict-aliasing -D_GNU_SOURCE \
	       -DKVMBOX_VERSION=\"$(VERSION)\" -MMD -MP -Isrc
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
fuzz_objs = $(patsubst %.c,$(FUZZ_O)/obj/%.o,tests/fuzz/$(1).c \
	    $(subst $$(ARCH),$(HOST_ARCH),$(shell sed -n 's|^// fuzz-sources:||p' tests/fuzz/$(1).c)))

define fuzz_rule
$(FUZZ_O)/$(1): $(call fuzz_objs,$(1))
	@echo "  FUZZLD  $$@"
	@$(FUZZ_CC) $(FUZZ_SAN) -o $$@ $$^ $(LDLIBS) \
		$(shell sed -n 's|^// fuzz-libs:||p' tests/fuzz/$(1).c)
FUZZ_OBJS += $(call fuzz_objs,$(1))
endef
$(foreach h,$(FUZZ_NAMES),$(eval $(call fuzz_rule,$(h))))

$(FUZZ_O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

.PHONY: fuzz-build fuzz-smoke fuzz fuzz-long fuzz-clean
fuzz-build: $(FUZZ_NAMES:%=$(FUZZ_O)/%)

fuzz-smoke:
	FUZZ_O=$(FUZZ_O) FUZZ_CC=$(FUZZ_CC) tests/fuzz/run $(FUZZ_SMOKE_SECONDS)

fuzz:
	FUZZ_O=$(FUZZ_O) FUZZ_CC=$(FUZZ_CC) tests/fuzz/run $(FUZZ_SECONDS)

fuzz-long:
	FUZZ_O=$(FUZZ_O) FUZZ_CC=$(FUZZ_CC) tests/fuzz/run --runs $(FUZZ_LONG_RUNS) \
		$(FUZZ_LONG_SECONDS) $(FUZZ_ONLY)

fuzz-clean:
	rm -rf $(FUZZ_O)

-include $(sort $(FUZZ_OBJS:.o=.d))

# ---- benchmarks: tools/bench/README.md ----------------------------------------------------
# bench-tools builds the exit benchmark's pieces into BENCH_O: bare_kvm_run (a bare KVM_RUN
# loop, the reference) and exitloop.elf (a multiboot ELF32 guest in 32-bit assembly).
# bench-exits runs tools/bench/exits (in the nested lab), bench-mem tools/bench/mem.
# bench-io runs tools/bench/io (in the nested lab) with iobench, a static load generator
# for the guest and L1. bench-api runs tools/bench/api (here: pre-boot calls need no KVM).
# bench-snapshot runs tools/bench/snapshot (in the nested lab): fresh boot, snapshot create
# and load of 256 MiB and 2 GiB guests.
BENCH_O ?= $(O)/bench

.PHONY: bench-tools bench-exits bench-mem bench-io bench-api bench-snapshot
bench-api: all
	KVMBOX=$(O)/kvmbox KVMBOX_BENCH_DIR=$(BENCH_O) tools/bench/api

bench-snapshot: all
	KVMBOX=$(O)/kvmbox tools/bench/snapshot

bench-tools: $(BENCH_O)/bare_kvm_run $(BENCH_O)/exitloop.elf

$(BENCH_O)/bare_kvm_run: tools/bench/bare_kvm_run.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(BENCH_O)/exitloop.o: tools/bench/exitloop.S
	@mkdir -p $(dir $@)
	@echo "  AS      $@"
	@$(CC) -m32 -c -o $@ $<

$(BENCH_O)/exitloop.elf: $(BENCH_O)/exitloop.o tools/bench/exitloop.ld
	@echo "  LD      $@"
	@$(LD) -m elf_i386 -nostdlib --build-id=none -z noexecstack --no-warn-rwx-segments \
		-T tools/bench/exitloop.ld -o $@ $<

bench-exits: all bench-tools
	KVMBOX=$(O)/kvmbox KVMBOX_BENCH_DIR=$(BENCH_O) tools/bench/exits --no-build

bench-mem: all bench-tools
	KVMBOX=$(O)/kvmbox KVMBOX_BENCH_DIR=$(BENCH_O) tools/bench/mem --no-build

# The idle guest of tools/bench/mem --arch arm64 (an arm64 Image, tools/bench/idle-arm64.S),
# assembled by the cross toolchain on x86-64, the native one on arm64.
ifeq ($(HOST_ARCH),arm64)
ARM64_GUEST_PREFIX ?=
else
ARM64_GUEST_PREFIX ?= aarch64-linux-gnu-
endif
.PHONY: bench-tools-arm64
bench-tools-arm64: $(BENCH_O)/idle-arm64.Image

$(BENCH_O)/idle-arm64.Image: tools/bench/idle-arm64.S
	@mkdir -p $(dir $@)
	@echo "  AS      $@"
	@$(ARM64_GUEST_PREFIX)gcc -c -o $(@:.Image=.o) $<
	@$(ARM64_GUEST_PREFIX)objcopy -O binary $(@:.Image=.o) $@

# Static: it runs in the busybox guest as well as in L1.
$(BENCH_O)/iobench: tools/bench/iobench.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(CFLAGS) -static -o $@ $< -luring -lpthread

bench-io: all $(BENCH_O)/iobench
	KVMBOX=$(O)/kvmbox KVMBOX_BENCH_DIR=$(BENCH_O) tools/bench/io --no-build
