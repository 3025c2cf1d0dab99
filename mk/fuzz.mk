# libFuzzer targets (docs/testing.md): mote's kernel, initrd and command-line
# parsers, its instruction decoder and its virtio device against hostile
# input. Built with clang, AddressSanitizer and UBSan into $(BUILD)/fuzz,
# from mote's own sources (not the gcc objects in $(BUILD)/src).
# Included after the Makefile has set SRCS and ASM_SRCS; safe to include twice
# (tests/fuzz.sh runs make -f Makefile -f mk/fuzz.mk).
ifndef MOTE_FUZZ_MK
MOTE_FUZZ_MK := 1

FUZZ_CC ?= clang
FUZZ_AR ?= ar
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_SECONDS ?= 60
FUZZ_CHECK_SECONDS ?= 5
export FUZZ_CHECK_SECONDS

# Not MOTE_CFLAGS: those carry gcc-only warnings. kvmclock_trap.c puts a
# struct kvm_msrs (flexible array) inside a struct, a GNU extension clang
# warns about.
FUZZ_WARNINGS := -Wall -Wextra -Werror -Wno-gnu-variable-sized-type-not-at-end
# Every sanitizer report is a crash the fuzzer keeps (UBSan would go on).
FUZZ_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS ?= -O1 -g
FUZZ_BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Isrc -isystem $(LLHTTP_INC) -fno-omit-frame-pointer \
	-MMD -MP $(FUZZ_WARNINGS) $(FUZZ_SANITIZE)

# All of mote but main.c, as an archive: each target links what it uses.
FUZZ_C_OBJS := $(patsubst %.c,$(FUZZ_DIR)/%.o,$(filter-out src/main.c,$(SRCS)))
FUZZ_S_OBJS := $(ASM_SRCS:%.S=$(FUZZ_DIR)/%.o)
FUZZ_LLHTTP_OBJS := $(patsubst $(BUILD)/%,$(FUZZ_DIR)/%,$(LLHTTP_OBJS))
FUZZ_LIB_OBJS := $(FUZZ_C_OBJS) $(FUZZ_S_OBJS) $(FUZZ_LLHTTP_OBJS)
FUZZ_LIB := $(FUZZ_DIR)/libmote.a

.PHONY: fuzz fuzz-build fuzz-check fuzz-corpus

fuzz-build: $(FUZZ_BINS)

$(FUZZ_C_OBJS): $(FUZZ_DIR)/%.o: %.c mk/fuzz.mk
	@mkdir -p $(dir $@)
	@echo "  CC      $< (fuzz)"
	$(Q)$(FUZZ_CC) $(FUZZ_BASE_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_CFLAGS) -c -o $@ $<

# llhttp is fuzzed with mote's code: the parser takes the client's bytes first.
$(FUZZ_LLHTTP_OBJS): $(FUZZ_DIR)/llhttp/%.o: $(LLHTTP_DIR)/%.c mk/fuzz.mk
	@mkdir -p $(dir $@)
	@echo "  CC      $< (fuzz)"
	$(Q)$(FUZZ_CC) -std=gnu11 -w -I$(LLHTTP_INC) -fsanitize=fuzzer-no-link $(FUZZ_SANITIZE) \
		$(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_S_OBJS): $(FUZZ_DIR)/%.o: %.S mk/fuzz.mk
	@mkdir -p $(dir $@)
	@echo "  AS      $< (fuzz)"
	$(Q)$(FUZZ_CC) $(FUZZ_BASE_CFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(FUZZ_AR) rcs $@ $^

# The balloon is only reached through the device section, never by a
# symbol: an archive would leave it out.
$(FUZZ_DIR)/fuzz_virtio: $(FUZZ_DIR)/src/virtio/balloon.o
$(FUZZ_DIR)/fuzz_virtio_blk: $(FUZZ_DIR)/src/virtio/blk.o tests/fuzz/fuzz_virtio.c
$(FUZZ_DIR)/fuzz_snapshot: $(FUZZ_DIR)/src/virtio/balloon.o $(FUZZ_DIR)/src/hw/i8042.o \
	$(FUZZ_DIR)/src/hw/serial.o $(FUZZ_DIR)/src/hw/rtc.o

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB) mk/fuzz.mk
	@mkdir -p $(dir $@)
	@echo "  CC      $< (fuzz)"
	$(Q)$(FUZZ_CC) $(FUZZ_BASE_CFLAGS) -fsanitize=fuzzer $(FUZZ_CFLAGS) -Itests/fuzz -o $@ $< \
		$(filter %.o,$^) $(FUZZ_LIB) $(LDLIBS)

# Runs every target FUZZ_SECONDS on a copy of its corpus in
# $(FUZZ_DIR)/corpus-NAME; crashes go to tests/fuzz/regressions/NAME.
# FUZZ_TARGETS=elf picks targets, FUZZ_ARGS passes libFuzzer options.
fuzz:
	$(Q)tests/fuzz.sh --no-replay --seconds $(FUZZ_SECONDS) $(BUILD) $(FUZZ_TARGETS)

# What make check runs: the corpus and the saved crashes once each, then
# FUZZ_CHECK_SECONDS of fuzzing per target.
fuzz-check:
	$(Q)tests/fuzz.sh --seconds $(FUZZ_CHECK_SECONDS) $(BUILD) $(FUZZ_TARGETS)

# Rewrites the seed corpus in tests/fuzz/corpus from tests/fuzz/mkcorpus.c.
fuzz-corpus: $(FUZZ_DIR)/mkcorpus
	$(Q)$(FUZZ_DIR)/mkcorpus tests/fuzz/corpus

$(FUZZ_DIR)/mkcorpus: tests/fuzz/mkcorpus.c tests/fuzz/virtio_stream.h
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc -Itests/fuzz -o $@ $<

-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_BINS:=.d)

endif
