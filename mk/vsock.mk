# The guest's side of the vsock integration tests: a static binary that
# tests/integration/cases/vsock.sh hands to the test VM on a disk (its
# busybox has no vsock tool). Included after mk/tests.mk; safe to include
# twice (the test builds it with make -f Makefile -f mk/vsock.mk when the
# Makefile does not include this file).
ifndef MOTE_VSOCK_MK
MOTE_VSOCK_MK := 1

VSOCK_GUEST := $(BUILD)/tests/vsock-guest

$(VSOCK_GUEST): tests/integration/vsock_guest.c mk/vsock.mk
	@mkdir -p $(dir $@)
	@echo "  CC      $< (static)"
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $<

integration-deps: $(VSOCK_GUEST)

endif
