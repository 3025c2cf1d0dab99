// SPDX-License-Identifier: MIT
#include "internal_error.h"

#include "../kvm.h"

#include <linux/kvm.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

const char *internal_error_name(uint32_t suberror)
{
	switch (suberror) {
	case KVM_INTERNAL_ERROR_EMULATION: return "emulation failure";
	case KVM_INTERNAL_ERROR_SIMUL_EX: return "simultaneous exceptions";
	case KVM_INTERNAL_ERROR_DELIVERY_EV: return "event delivery failed";
	case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON: return "unexpected hardware exit";
	default: return "unknown suberror";
	}
}

/* What KVM's own words mean, for the suberrors it can give. */
static const char *generic_cause(uint32_t suberror)
{
	switch (suberror) {
	case KVM_INTERNAL_ERROR_EMULATION:
		return "KVM had to emulate an instruction its emulator does not handle; most often "
		       "the guest used it on an address that is not RAM (a device window or a "
		       "hole), "
		       "or this KVM emulates what a hardware KVM runs (a paravirtual KVM such as "
		       "PVM)";
	case KVM_INTERNAL_ERROR_SIMUL_EX:
	case KVM_INTERNAL_ERROR_DELIVERY_EV:
		return "the guest's exception could not be delivered: its IDT, GDT or stack is not "
		       "usable (a guest crash, or a kernel the host cannot run)";
	case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
		return "the CPU left the guest for a reason this KVM does not handle (a KVM "
		       "limitation on this host)";
	default: return "an error this version of mote does not know";
	}
}

size_t internal_error_insn(const struct kvm_run *run, uint8_t out[INSN_MAX])
{
	const __typeof__(run->emulation_failure) *f = &run->emulation_failure;
	size_t len;

	/* ndata counts the 64-bit words after ndata: flags, then the bytes. */
	if (run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION || f->ndata < 3 ||
	    !(f->flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES))
		return 0;
	len = f->insn_size < INSN_MAX ? f->insn_size : INSN_MAX;
	memcpy(out, f->insn_bytes, len);
	return len;
}

/* Skips legacy prefixes and, in 64-bit code, REX; returns the index of
 * the opcode, or @len. */
static size_t skip_prefixes(const uint8_t *b, size_t len, bool long_mode)
{
	size_t i = 0;

	while (i < len && i < INSN_MAX) {
		uint8_t c = b[i];
		bool legacy = c == 0x66 || c == 0x67 || c == 0xf0 || c == 0xf2 || c == 0xf3 ||
		              c == 0x2e || c == 0x36 || c == 0x3e || c == 0x26 || c == 0x64 ||
		              c == 0x65;

		if (!legacy && (!long_mode || (c & 0xf0) != 0x40))
			break;
		i++;
	}
	return i;
}

/* The 0f ae group: the reg field of ModRM picks the instruction. */
static const char *group_0fae(uint8_t modrm)
{
	static const char *const mem[8] = {"fxsave", "fxrstor", "ldmxcsr",  "stmxcsr",
	                                   "xsave",  "xrstor",  "xsaveopt", "clflush"};

	return (modrm >> 6) == 3 ? "fence" : mem[(modrm >> 3) & 7];
}

/* The 0f 01 group: exact ModRM bytes first, then the reg field. */
static const char *group_0f01(uint8_t modrm)
{
	static const char *const mem[8] = {"sgdt", "sidt", "lgdt", "lidt",
	                                   "smsw", NULL,   "lmsw", "invlpg"};

	switch (modrm) {
	case 0xd0: return "xgetbv";
	case 0xd1: return "xsetbv";
	case 0xc1: return "vmcall";
	case 0xd9: return "vmmcall";
	case 0xf8: return "swapgs";
	case 0xf9: return "rdtscp";
	case 0xca: return "clac";
	case 0xcb: return "stac";
	default: return (modrm >> 6) == 3 ? NULL : mem[(modrm >> 3) & 7];
	}
}

/* Two-byte opcodes (after 0f) at @b[0], ModRM at @b[1] when @len > 1. */
static const char *two_byte(const uint8_t *b, size_t len)
{
	switch (b[0]) {
	case 0x01: return len > 1 ? group_0f01(b[1]) : NULL;
	case 0x05: return "syscall";
	case 0x07: return "sysret";
	case 0x0b: return "ud2";
	case 0x20: return "mov from a control register";
	case 0x22: return "mov to a control register";
	case 0x21:
	case 0x23: return "mov to or from a debug register";
	case 0x30: return "wrmsr";
	case 0x31: return "rdtsc";
	case 0x32: return "rdmsr";
	case 0xa2: return "cpuid";
	case 0xae: return len > 1 ? group_0fae(b[1]) : NULL;
	case 0xc7: return len > 1 && ((b[1] >> 3) & 7) == 3 ? "xrstors" : "cmpxchg8b/16b group";
	default: break;
	}
	if (b[0] >= 0x10 && b[0] <= 0x17)
		return "SSE move";
	if (b[0] >= 0x28 && b[0] <= 0x2f)
		return "SSE instruction";
	if (b[0] >= 0x50 && b[0] <= 0x7f)
		return "SSE/MMX instruction";
	return NULL;
}

/* In 32-bit code, c4, c5 and 62 are VEX and EVEX only when the next byte
 * would be a register ModRM (les, lds and bound take memory). */
static bool vex_form(const uint8_t *b, size_t i, size_t len, bool long_mode)
{
	return long_mode || (i + 1 < len && (b[i + 1] & 0xc0) == 0xc0);
}

const char *insn_name(const uint8_t *b, size_t len, bool long_mode)
{
	size_t i = skip_prefixes(b, len, long_mode);

	if (i >= len)
		return NULL;
	switch (b[i]) {
	case 0x0f: return i + 1 < len ? two_byte(b + i + 1, len - i - 1) : NULL;
	case 0xc4:
	case 0xc5: return vex_form(b, i, len, long_mode) ? "AVX instruction (VEX)" : NULL;
	case 0x62: return vex_form(b, i, len, long_mode) ? "AVX-512 instruction (EVEX)" : NULL;
	case 0xcc: return "int3";
	case 0xcd: return "int";
	case 0xcf: return "iret";
	case 0xf4: return "hlt";
	case 0xfa: return "cli";
	case 0xfb: return "sti";
	case 0xe4:
	case 0xe5:
	case 0xec:
	case 0xed: return "in";
	case 0xe6:
	case 0xe7:
	case 0xee:
	case 0xef: return "out";
	default: break;
	}
	if (b[i] >= 0xd8 && b[i] <= 0xdf)
		return "x87 FPU instruction";
	return NULL;
}

/* Appends printf-style text to @out (@n bytes) at @*at; output past the
 * end is dropped, the string stays terminated. */
__attribute__((format(printf, 4, 5))) static void append(char *out, size_t n, size_t *at,
                                                         const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*at >= n)
		return;
	va_start(ap, fmt);
	w = vsnprintf(out + *at, n - *at, fmt, ap);
	va_end(ap);
	if (w > 0)
		*at += (size_t)w;
}

/* Appends the instruction bytes and their name. */
static void put_insn(char *out, size_t n, size_t *at, const uint8_t *insn, size_t len,
                     bool long_mode)
{
	const char *name = insn_name(insn, len, long_mode);

	append(out, n, at, ": instruction");
	for (size_t i = 0; i < len; i++)
		append(out, n, at, " %02x", insn[i]);
	if (name)
		append(out, n, at, " (%s)", name);
}

void internal_error_describe(const struct kvm_run *run, uint64_t rip, bool long_mode,
                             const uint8_t *insn, size_t insn_len, const char *cause, char *out,
                             size_t n)
{
	uint32_t sub = run->internal.suberror;
	uint8_t kvm_insn[INSN_MAX];
	size_t len = internal_error_insn(run, kvm_insn);
	size_t at = 0;

	if (!n)
		return;
	out[0] = '\0';
	append(out, n, &at, "KVM internal error: %s (suberror %u) at rip 0x%llx",
	       internal_error_name(sub), sub, (unsigned long long)rip);
	if (len)
		put_insn(out, n, &at, kvm_insn, len, long_mode);
	else if (insn && insn_len)
		put_insn(out, n, &at, insn, insn_len < INSN_MAX ? insn_len : INSN_MAX, long_mode);
	else if (sub == KVM_INTERNAL_ERROR_EMULATION)
		append(out, n, &at, ": no instruction bytes (rip is not in guest RAM)");
	append(out, n, &at, ". Likely cause: %s", cause ? cause : generic_cause(sub));
}

size_t internal_error_read_insn(int vcpu_fd, const struct guest_mem *m, uint64_t rip,
                                uint8_t out[INSN_MAX])
{
	struct kvm_translation t = {.linear_address = rip};
	const uint8_t *b;

	if (kvm_ioctl_try(vcpu_fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
		return 0;
	b = guest_ptr(m, t.physical_address, INSN_MAX);
	if (!b)
		return 0;
	memcpy(out, b, INSN_MAX);
	return INSN_MAX;
}

bool internal_error_long_mode(int vcpu_fd)
{
	struct kvm_sregs sregs;

	return kvm_ioctl_try(vcpu_fd, KVM_GET_SREGS, &sregs) == 0 && sregs.cs.l;
}
