# The guest kit: kernel (cached by config hash), init, initramfs images.
GUEST := $(BUILD)/guest
GUEST_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror

guest: $(GUEST)/vmlinux $(GUEST)/bzImage $(GUEST)/initrd.cpio $(GUEST)/shell.cpio \
	$(GUEST)/test.cpio

# The kernel script is cheap when the cache holds the build.
# One build makes both (a grouped target); the links point into the cache.
$(GUEST)/vmlinux $(GUEST)/bzImage &: guest/kernel.config guest/build-kernel.sh $(wildcard guest/patches/*)
	$(Q)guest/build-kernel.sh $(GUEST) >/dev/null

$(GUEST)/mkcpio: guest/mkcpio.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -o $@ $<

$(GUEST)/init: guest/init.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (static)"
	$(Q)$(CC) $(GUEST_CFLAGS) -static -o $@ $<

$(GUEST)/initrd.cpio: $(GUEST)/mkcpio $(GUEST)/init guest/initrd.list
	@echo "  CPIO    $@"
	$(Q)sed 's|@INIT@|$(GUEST)/init|' guest/initrd.list | $(GUEST)/mkcpio $@

$(GUEST)/shell.cpio: $(GUEST)/mkcpio guest/shell.list guest/shell-init.sh
	@test -x /bin/busybox || { echo "busybox missing: apt-get install busybox-static" >&2; exit 1; }
	@echo "  CPIO    $@"
	$(Q)sed -e 's|@BUSYBOX@|/bin/busybox|' -e 's|@INIT@|guest/shell-init.sh|' guest/shell.list | $(GUEST)/mkcpio $@

# The device tests' initramfs: busybox, and an init that runs the script
# the test hands over on a disk (guest/test-init.sh).
$(GUEST)/test.cpio: $(GUEST)/mkcpio guest/shell.list guest/test-init.sh
	@test -x /bin/busybox || { echo "busybox missing: apt-get install busybox-static" >&2; exit 1; }
	@echo "  CPIO    $@"
	$(Q)sed -e 's|@BUSYBOX@|/bin/busybox|' -e 's|@INIT@|guest/test-init.sh|' guest/shell.list | $(GUEST)/mkcpio $@

# The Debian guest (docs/debian-guest.md): a bookworm ext4 root image with
# Debian's cloud kernel and its initramfs, built by debootstrap (as root,
# a few minutes) and cached by the hash of its inputs; the script is cheap
# when the cache holds the image. The links point into the cache.
DEBIAN_GUEST := $(GUEST)/debian.ext4 $(GUEST)/debian-vmlinuz $(GUEST)/debian-initrd.img
.PHONY: rootfs
rootfs: $(DEBIAN_GUEST)

$(DEBIAN_GUEST) &: guest/mkrootfs
	@echo "  ROOTFS  $(GUEST)/debian.ext4"
	$(Q)guest/mkrootfs $(GUEST) >/dev/null
