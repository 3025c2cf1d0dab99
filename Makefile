# mote: plain GNU make, out-of-tree build in $(BUILD).
BUILD ?= build
PREFIX ?= /usr/local
CC ?= cc
V ?=
Q := $(if $(V),,@)

WARNINGS := -Wall -Wextra -Werror -Wformat=2 -Wformat-security -Wmissing-prototypes \
	-Wstrict-prototypes -Wold-style-definition -Wmissing-declarations -Wshadow \
	-Wpointer-arith -Wcast-align -Wwrite-strings -Wundef -Wvla -Wredundant-decls \
	-Wnested-externs -Wimplicit-fallthrough -Wnull-dereference -Wdouble-promotion \
	-Wstrict-aliasing=2 -Wunused -Wuninitialized -Winit-self -Wlogical-op \
	-Wduplicated-cond -Wduplicated-branches -Wjump-misses-init
CFLAGS ?= -O2 -g
# Static: no dynamic loader work between exec and the first KVM_RUN.
LDFLAGS ?= -static
CFLAGS += -std=gnu11 $(WARNINGS) -D_GNU_SOURCE -MMD -MP
LDLIBS += -lpthread -ljson-c

SRCS := $(wildcard src/*.c src/x86/*.c src/boot/*.c src/hw/*.c src/virtio/*.c)
ASM_SRCS := $(wildcard src/x86/*.S)
OBJS := $(SRCS:%.c=$(BUILD)/%.o) $(ASM_SRCS:%.S=$(BUILD)/%.o)
MOTE := $(BUILD)/mote
export MOTE

.PHONY: all install clean check unit integration run shell guest deps bench format
all: $(MOTE)

$(MOTE): $(OBJS) Makefile
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

install: $(MOTE)
	install -D -m 0755 $(MOTE) $(DESTDIR)$(PREFIX)/bin/mote

clean:
	rm -rf $(BUILD)

format:
	clang-format -i $(SRCS) $(wildcard src/*.h src/*/*.h tests/unit/*.c guest/*.c)

include mk/guest.mk
include mk/tests.mk

-include $(OBJS:.o=.d)

# The demo VM: the guest kit's kernel and init, on /dev/kvm or nested.
DEMO_KERNEL ?= $(GUEST)/vmlinux
DEMO_ARGS := --kernel $(DEMO_KERNEL) --initrd $(GUEST)/initrd.cpio \
	--cmdline "console=ttyS0 quiet" --memory 128M

run: deps
	$(Q)$(MAKE) --no-print-directory $(MOTE) guest
	$(Q)tools/kvm-env tools/boot-time demo $(MOTE) run $(DEMO_ARGS)

shell: deps
	$(Q)$(MAKE) --no-print-directory $(MOTE) guest
	$(Q)tools/kvm-env $(MOTE) run --kernel $(GUEST)/bzImage --initrd $(GUEST)/shell.cpio \
		--cmdline "console=ttyS0 quiet" --memory 256M
include mk/bench.mk
