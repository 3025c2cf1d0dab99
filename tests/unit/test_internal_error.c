// SPDX-License-Identifier: MIT
/* KVM_EXIT_INTERNAL_ERROR in words, from kvm_run records as KVM fills them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "x86/internal_error.h"

#include <linux/kvm.h>
#include <string.h>

/* A kvm_run as KVM 5.14+ leaves it after an emulation failure at CPL 0:
 * flags, then the instruction bytes, then five words of exit info. */
static void emulation_failure(struct kvm_run *run, const uint8_t *insn, uint8_t len)
{
	memset(run, 0, sizeof(*run));
	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->emulation_failure.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run->emulation_failure.ndata = 8;
	run->emulation_failure.flags = KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
	run->emulation_failure.insn_size = len;
	memset(run->emulation_failure.insn_bytes, 0x90, sizeof(run->emulation_failure.insn_bytes));
	memcpy(run->emulation_failure.insn_bytes, insn, len);
}

static void test_recorded_xrstor_failure(void **state)
{
	/* What a PVM host reports for Linux's xrstor in fpu__init_system_xstate. */
	static const uint8_t xrstor[] = {0x48, 0x0f, 0xae, 0x2f};
	struct kvm_run run;
	char msg[1024];

	(void)state;
	emulation_failure(&run, xrstor, sizeof(xrstor));
	internal_error_describe(&run, 0xffffffff81ae6633ULL, true, NULL, 0,
	                        "this host's KVM is PVM", msg, sizeof(msg));
	assert_string_equal(msg, "KVM internal error: emulation failure (suberror 1) at rip "
	                         "0xffffffff81ae6633: instruction 48 0f ae 2f (xrstor). "
	                         "Likely cause: this host's KVM is PVM");
}

static void test_kvm_bytes_win_over_the_callers(void **state)
{
	static const uint8_t flds[] = {0xd9, 0x00};
	static const uint8_t other[] = {0xcc};
	struct kvm_run run;
	char msg[1024];

	(void)state;
	emulation_failure(&run, flds, sizeof(flds));
	internal_error_describe(&run, 0x100005, true, other, sizeof(other), NULL, msg, sizeof(msg));
	assert_non_null(strstr(msg, "instruction d9 00 (x87 FPU instruction)"));
	assert_non_null(strstr(msg, "Likely cause: KVM had to emulate"));
}

static void test_old_kvm_without_bytes_uses_guest_memory(void **state)
{
	static const uint8_t xsetbv[] = {0x0f, 0x01, 0xd1};
	struct kvm_run run;
	char msg[1024];

	(void)state;
	memset(&run, 0, sizeof(run));
	run.internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run.internal.ndata = 0; /* before Linux 5.14 */
	internal_error_describe(&run, 0x1000, true, xsetbv, sizeof(xsetbv), NULL, msg, sizeof(msg));
	assert_non_null(strstr(msg, "instruction 0f 01 d1 (xsetbv)"));
	internal_error_describe(&run, 0xe0000000, true, NULL, 0, NULL, msg, sizeof(msg));
	assert_non_null(strstr(msg, "no instruction bytes (rip is not in guest RAM)"));
}

static void test_flag_without_room_is_not_trusted(void **state)
{
	static const uint8_t b[] = {0xcc};
	struct kvm_run run;
	uint8_t out[INSN_MAX];

	(void)state;
	emulation_failure(&run, b, 1);
	run.emulation_failure.ndata = 1; /* flags only: the bytes are not there */
	assert_int_equal(internal_error_insn(&run, out), 0);
	emulation_failure(&run, b, 1);
	run.emulation_failure.insn_size = 200; /* more than the field holds */
	assert_int_equal(internal_error_insn(&run, out), INSN_MAX);
}

static void test_other_suberrors_are_named(void **state)
{
	struct kvm_run run;
	char msg[1024];

	(void)state;
	memset(&run, 0, sizeof(run));
	run.internal.suberror = KVM_INTERNAL_ERROR_DELIVERY_EV;
	internal_error_describe(&run, 0x2000, true, NULL, 0, NULL, msg, sizeof(msg));
	assert_non_null(strstr(msg, "event delivery failed (suberror 3) at rip 0x2000. Likely "
	                            "cause: the guest's exception could not be delivered"));
	assert_string_equal(internal_error_name(KVM_INTERNAL_ERROR_SIMUL_EX),
	                    "simultaneous exceptions");
	assert_string_equal(internal_error_name(KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON),
	                    "unexpected hardware exit");
	assert_string_equal(internal_error_name(77), "unknown suberror");
}

static void test_small_buffer_is_cut_and_terminated(void **state)
{
	static const uint8_t xrstor[] = {0x0f, 0xae, 0x2f};
	struct kvm_run run;
	char msg[24];

	(void)state;
	memset(msg, 'x', sizeof(msg));
	emulation_failure(&run, xrstor, sizeof(xrstor));
	internal_error_describe(&run, 0x1, true, NULL, 0, NULL, msg, sizeof(msg));
	assert_int_equal(strlen(msg), sizeof(msg) - 1);
	assert_memory_equal(msg, "KVM internal error: emu", sizeof(msg) - 1);
}

static void test_instruction_names(void **state)
{
	static const struct {
		uint8_t b[INSN_MAX];
		size_t len;
		const char *name;
	} cases[] = {
	    {{0x0f, 0xae, 0x27}, 3, "xsave"},
	    {{0x48, 0x0f, 0xae, 0x2f}, 4, "xrstor"},
	    {{0x48, 0x0f, 0xc7, 0x1f}, 4, "xrstors"},
	    {{0x0f, 0x01, 0xd1}, 3, "xsetbv"},
	    {{0x0f, 0x01, 0x1c, 0x25}, 4, "lidt"},
	    {{0x0f, 0x30}, 2, "wrmsr"},
	    {{0x0f, 0x32}, 2, "rdmsr"},
	    {{0x0f, 0xa2}, 2, "cpuid"},
	    {{0xcc}, 1, "int3"},
	    {{0x66, 0xed}, 2, "in"},
	    {{0xc5, 0xfd, 0x6f, 0x00}, 4, "AVX instruction (VEX)"},
	    {{0xdd, 0x00}, 2, "x87 FPU instruction"},
	    {{0x0f, 0x6f, 0x00}, 3, "SSE/MMX instruction"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(insn_name(cases[i].b, cases[i].len, true), cases[i].name);
}

static void test_hostile_bytes_name_nothing(void **state)
{
	uint8_t prefixes[INSN_MAX];
	static const uint8_t esc[] = {0x0f};
	static const uint8_t group[] = {0x66, 0x0f, 0xae};
	static const uint8_t plain[] = {0x90};

	(void)state;
	memset(prefixes, 0x66, sizeof(prefixes)); /* prefixes and no opcode */
	assert_null(insn_name(prefixes, sizeof(prefixes), true));
	assert_null(insn_name(prefixes, 0, true));
	assert_null(insn_name(esc, sizeof(esc), true));     /* escape at the end */
	assert_null(insn_name(group, sizeof(group), true)); /* group without ModRM */
	assert_null(insn_name(plain, sizeof(plain), true));
}

static void test_32_bit_code_has_no_rex(void **state)
{
	static const uint8_t rex_wrmsr[] = {0x40, 0x0f, 0x30}; /* inc %eax; wrmsr in 32-bit */
	static const uint8_t vex[] = {0xc5, 0xf8, 0x77};       /* vzeroupper */
	static const uint8_t lds[] = {0xc5, 0x00};             /* lds (%eax), %eax */

	(void)state;
	assert_string_equal(insn_name(rex_wrmsr, sizeof(rex_wrmsr), true), "wrmsr");
	assert_null(insn_name(rex_wrmsr, sizeof(rex_wrmsr), false));
	assert_string_equal(insn_name(vex, sizeof(vex), false), "AVX instruction (VEX)");
	assert_null(insn_name(lds, sizeof(lds), false));
	assert_string_equal(insn_name(lds, sizeof(lds), true), "AVX instruction (VEX)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_recorded_xrstor_failure),
	    cmocka_unit_test(test_kvm_bytes_win_over_the_callers),
	    cmocka_unit_test(test_old_kvm_without_bytes_uses_guest_memory),
	    cmocka_unit_test(test_flag_without_room_is_not_trusted),
	    cmocka_unit_test(test_other_suberrors_are_named),
	    cmocka_unit_test(test_small_buffer_is_cut_and_terminated),
	    cmocka_unit_test(test_instruction_names),
	    cmocka_unit_test(test_hostile_bytes_name_nothing),
	    cmocka_unit_test(test_32_bit_code_has_no_rex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
