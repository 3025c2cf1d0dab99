# Tests: cmocka unit tests on the host, integration tests that boot real
# guests on /dev/kvm or, without it, inside tools/nested-run.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
LIB_OBJS := $(filter-out $(BUILD)/src/main.o,$(OBJS))

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(MOTE_CFLAGS) $(CFLAGS) -Isrc -o $@ $< $(LIB_OBJS) $(LDLIBS) -lcmocka

unit: $(UNIT_BINS)
	$(Q)tests/unit.sh $(UNIT_BINS)

# Helpers of the integration tests: a probe VM broken on purpose, and a tiny
# PVH kernel that KVM cannot emulate.
INTEG_TOOLS := $(BUILD)/tests/probe-fault $(BUILD)/tests/mkpvh

$(BUILD)/tests/probe-fault: tests/integration/probe_fault.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(MOTE_CFLAGS) $(CFLAGS) $(MOTE_LDFLAGS) $(LDFLAGS) -Isrc -o $@ $< $(LIB_OBJS) $(LDLIBS)

$(BUILD)/tests/mkpvh: tests/integration/mkpvh.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(MOTE_CFLAGS) $(CFLAGS) -o $@ $<

# Everything the integration tests boot, built on the host.
integration-deps: $(MOTE) guest rootfs $(INTEG_TOOLS)
	$(Q)tools/debian-kernel.sh cloud-amd64 >/dev/null
	$(Q)tools/debian-kernel.sh amd64 >/dev/null

integration: integration-deps
	$(Q)tools/kvm-env tests/integration/run.sh

check: deps
	$(Q)$(MAKE) --no-print-directory $(UNIT_BINS) integration-deps
	$(Q)tests/check.sh $(UNIT_BINS)

deps:
	$(Q)tools/install-deps.sh
