# Sanitizer builds (tests/sanitize.sh, docs/testing.md): mote, its unit tests
# and the integration tests' helpers, compiled by gcc with AddressSanitizer
# and UBSan into $(BUILD)/asan by a recursive make with SANITIZE=1, which
# reuses the normal rules (the Makefile's SANITIZE block sets the flags).
#   make sanitize-mote         $(BUILD)/asan/mote
#   make sanitize-unit         the cmocka tests: "sanitize-unit: N passed, N failed"
#   make sanitize-integration  the boot and virtio integration tests against
#                              the ASan mote: "sanitize-integration: ..."
#   make integration SANITIZE=1   the whole integration suite against it
# Included before mk/guest.mk: a sanitizer build boots the normal build's
# guest kit (none of it is mote's code), so GUEST must be set first.
SANITIZE_BASE := $(patsubst %/asan,%,$(BUILD))
SANITIZE_BUILD := $(SANITIZE_BASE)/asan
SANITIZE_MAKE = $(MAKE) --no-print-directory SANITIZE=1 BUILD=$(SANITIZE_BUILD)

# Any error, any leak fails the run: ASan and LeakSanitizer (detect_leaks,
# which needs ptrace; it works here and in tools/nested-run, as root) exit
# with 99, a status no mote exit means (0, 1, 2, 128+N); UBSan halts at its
# first report. tests/sanitize.sh sets these in the environment; the binaries
# also carry them as defaults (__asan_default_options), since
# tools/nested-run passes only a few variables into the outer VM.
SANITIZE_ASAN_OPTIONS := detect_leaks=1:exitcode=99:halt_on_error=1:abort_on_error=0:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1:print_summary=1
SANITIZE_UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1:exitcode=99

.PHONY: sanitize sanitize-mote sanitize-unit sanitize-integration sanitize-options

sanitize-mote:
	$(Q)$(SANITIZE_MAKE) $(SANITIZE_BUILD)/mote

sanitize-unit sanitize-integration:
	$(Q)MAKE="$(MAKE)" tests/sanitize.sh $(SANITIZE_BASE) $(@:sanitize-%=%)

sanitize:
	$(Q)MAKE="$(MAKE)" tests/sanitize.sh $(SANITIZE_BASE) all

# For tests/sanitize.sh: the options, one a line.
sanitize-options:
	@echo "ASAN_OPTIONS=$(SANITIZE_ASAN_OPTIONS)"
	@echo "UBSAN_OPTIONS=$(SANITIZE_UBSAN_OPTIONS)"

ifeq ($(SANITIZE),1)
override GUEST := $(SANITIZE_BASE)/guest

# The default options, linked into mote, the unit tests and probe-fault
# (through LDLIBS: their rules link it without a change).
SANITIZE_OPTIONS_OBJ := $(BUILD)/sanitize/options.o
LDLIBS += $(SANITIZE_OPTIONS_OBJ)
$(BUILD)/mote $(BUILD)/tests/probe-fault \
$(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c)): $(SANITIZE_OPTIONS_OBJ)

$(BUILD)/sanitize/options.c: mk/sanitize.mk
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)printf '%s\n' \
		'const char *__asan_default_options(void);' \
		'const char *__ubsan_default_options(void);' \
		'__attribute__((used)) const char *__asan_default_options(void) { return "$(SANITIZE_ASAN_OPTIONS)"; }' \
		'__attribute__((used)) const char *__ubsan_default_options(void) { return "$(SANITIZE_UBSAN_OPTIONS)"; }' >$@

$(SANITIZE_OPTIONS_OBJ): $(BUILD)/sanitize/options.c
	@echo "  CC      $<"
	$(Q)$(CC) -std=gnu11 -Wall -Werror -O2 -fPIE -fcf-protection=full -c -o $@ $<
endif
