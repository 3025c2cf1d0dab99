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
# What a user may set: CFLAGS and LDFLAGS add to what mote requires.
CFLAGS ?= -O2 -g
LDFLAGS ?=
# Hardening, required (tests/hardening.sh checks the objects and the binary):
# canaries, fortified libc calls (needs -O1 or more), stack clash probes,
# CET (endbr64, shadow-stack ready), position independence; the flags are
# recorded in every object (-frecord-gcc-switches) so the test can read them.
HARDEN_CFLAGS := -fPIE -fstack-protector-strong -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 \
	-fstack-clash-protection -fcf-protection=full -frecord-gcc-switches
# Static PIE: no dynamic loader between exec and the first KVM_RUN, yet an
# address that changes with every run; full RELRO, non-executable stack.
HARDEN_LDFLAGS := -static-pie -Wl,-z,relro,-z,now,-z,noexecstack
MOTE_CFLAGS := -std=gnu11 $(WARNINGS) -D_GNU_SOURCE -MMD -MP $(HARDEN_CFLAGS) \
	-isystem /usr/share/include/llhttp
MOTE_LDFLAGS := $(HARDEN_LDFLAGS)
# SANITIZE=1 (mk/sanitize.mk): AddressSanitizer and UBSan, built in
# $(BUILD)/asan; a BUILD ending in /asan is always that build. Their runtimes
# are shared libraries: a dynamically linked PIE with the same RELRO,
# BIND_NOW and non-executable stack. _FORTIFY_SOURCE is left out: its __*_chk
# calls bypass ASan's interceptors.
ifneq ($(filter 1,$(SANITIZE))$(filter %/asan,$(BUILD)),)
override SANITIZE := 1
override BUILD := $(patsubst %/asan,%,$(BUILD))/asan
MOTE_CFLAGS := $(filter-out -D_FORTIFY_SOURCE=%,$(MOTE_CFLAGS)) \
	-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
MOTE_LDFLAGS := -pie $(filter-out -static-pie,$(HARDEN_LDFLAGS))
endif
LDLIBS += -lpthread -ljson-c -luring -lz -llzma -lzstd -llz4

SRCS := $(wildcard src/*.c src/x86/*.c src/boot/*.c src/hw/*.c src/virtio/*.c src/block/*.c src/net/*.c src/api/*.c src/snapshot/*.c)
ASM_SRCS := $(wildcard src/x86/*.S)
# The API's HTTP parser: llhttp (Node.js's), as Debian's node-llhttp ships
# its C sources; built here with mote's hardening flags, its own warnings.
LLHTTP_DIR ?= /usr/share/llhttp
LLHTTP_INC ?= /usr/share/include/llhttp
LLHTTP_OBJS := $(BUILD)/llhttp/api.o $(BUILD)/llhttp/http.o $(BUILD)/llhttp/llhttp.o
OBJS := $(SRCS:%.c=$(BUILD)/%.o) $(ASM_SRCS:%.S=$(BUILD)/%.o) $(LLHTTP_OBJS)
MOTE := $(BUILD)/mote
export MOTE

.PHONY: all install clean print-cflags check unit integration run shell run-debian guest deps bench format kvmtool
all: $(MOTE)

$(MOTE): $(OBJS) Makefile
	@echo "  LD      $@"
	$(Q)$(CC) $(MOTE_CFLAGS) $(CFLAGS) $(MOTE_LDFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

$(BUILD)/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(MOTE_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/llhttp/%.o: $(LLHTTP_DIR)/%.c Makefile
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) -std=gnu11 -w -I$(LLHTTP_INC) $(filter-out -W% -MMD -MP,$(MOTE_CFLAGS)) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.S Makefile
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(MOTE_CFLAGS) $(CFLAGS) -c -o $@ $<

# The flags mote's C code is compiled with (tests/hardening.sh reads them).
print-cflags:
	@echo $(MOTE_CFLAGS) $(CFLAGS)

install: $(MOTE)
	install -D -m 0755 $(MOTE) $(DESTDIR)$(PREFIX)/bin/mote

clean:
	rm -rf $(BUILD)

format:
	clang-format -i $(SRCS) $(wildcard src/*.h src/*/*.h tests/unit/*.c guest/*.c)

include mk/sanitize.mk
include mk/guest.mk
include mk/tests.mk
include mk/fuzz.mk
include mk/vsock.mk

-include $(OBJS:.o=.d)

# The demo VM: the guest kit's kernel and init, on /dev/kvm or nested.
DEMO_KERNEL ?= $(GUEST)/vmlinux
DEMO_ARGS := --kernel $(DEMO_KERNEL) --initrd $(GUEST)/initrd.cpio \
	--cmdline "console=ttyS0 quiet" --memory 128M

run: deps
	$(Q)$(MAKE) --no-print-directory $(MOTE) guest
	$(Q)tools/kvm-env tools/boot-time demo $(MOTE) run $(DEMO_ARGS)

# The interactive shell, with a disk-less busybox and a network: tap mote0
# (host 172.30.0.1, guest 172.30.0.2), made for the VM where it runs.
shell: deps
	$(Q)$(MAKE) --no-print-directory $(MOTE) guest
	$(Q)tools/kvm-env tools/with-tap mote0 172.30.0.1 $(MOTE) run --kernel $(GUEST)/bzImage \
		--initrd $(GUEST)/shell.cpio --cmdline "console=ttyS0 quiet" --memory 256M \
		--net tap=mote0
# The Debian 12 guest (make rootfs, docs/debian-guest.md) booted to systemd's
# login prompt on the serial console (root, no password), with Debian's own
# kernel and initramfs from the image, 2 vCPUs, and tap mote0 as for make
# shell. It runs on its own copy of the image, build/guest/debian-run.ext4,
# kept between runs (remade when the cached image changes).
run-debian: deps
	$(Q)$(MAKE) --no-print-directory $(MOTE) rootfs
	$(Q)$(MAKE) --no-print-directory $(GUEST)/debian-run.ext4
	$(Q)tools/kvm-env tools/with-tap mote0 172.30.0.1 $(MOTE) run \
		--kernel $(GUEST)/debian-vmlinuz --initrd $(GUEST)/debian-initrd.img \
		--cmdline "console=ttyS0 root=/dev/vda rw" --memory 512M --cpus 2 \
		--disk $(GUEST)/debian-run.ext4 --net tap=mote0

$(GUEST)/debian-run.ext4: $(GUEST)/debian.ext4
	@echo "  CP      $@"
	$(Q)cp --sparse=always $(GUEST)/debian.ext4 $@.tmp && mv $@.tmp $@

include mk/bench.mk
