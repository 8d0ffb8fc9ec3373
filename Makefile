# SPDX-License-Identifier: GPL-2.0-only
# kvmbox build. `make` builds build/kvmbox; `make check` runs every test.
# O= picks the output folder; SAN=1 builds with AddressSanitizer and UBSan.

O ?= build
CC ?= cc
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
	  -fno-strict-aliasing -D_GNU_SOURCE -DKVMBOX_VERSION=\"$(VERSION)\" -MMD -MP
LDLIBS += -lpthread

ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

SRCS := $(shell find src -name '*.c' | sort)
OBJS := $(SRCS:%.c=$(O)/obj/%.o)
LIB_OBJS := $(filter-out $(O)/obj/src/main.o,$(OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)

.PHONY: all unit guest-images guest-tests lab-tests check asan fmt fmt-check bench clean demo
all: $(O)/kvmbox

$(O)/kvmbox: $(OBJS)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/libkvmbox.a: $(LIB_OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -Isrc -c -o $@ $<

$(O)/tests/%: tests/unit/%.c $(O)/libkvmbox.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(CFLAGS) -Isrc -Itests/unit $(LDFLAGS) -o $@ $< $(O)/libkvmbox.a $(LDLIBS) -lcmocka

unit: $(UNIT_BINS)

asan:
	$(MAKE) O=build/asan SAN=1 all unit

guest-images:
	$(MAKE) -C guest O=$(CURDIR)/build/guest

# The whole suite: unit and direct guest tests against the sanitizer build, then the lab.
check: asan guest-images
	tests/run-all

guest-tests: asan guest-images
	tests/run-all --only guest

lab-tests: all
	tests/run-all --only lab

bench: all
	tools/bench/boot

demo: all
	tools/demo

fmt:
	clang-format -i $(SRCS) $(shell find src tests/unit guest -name '*.h' -o -name '*.c' | grep -v '^src/.*\.c$$')

fmt-check:
	@clang-format --dry-run --Werror $(SRCS) $(shell find src tests/unit guest -name '*.h' -o -name '*.c' | grep -v '^src/.*\.c$$')

clean:
	rm -rf build/kvmbox build/obj build/tests build/asan build/guest build/libkvmbox.a

-include $(OBJS:.o=.d)
