/* SPDX-License-Identifier: MIT */
/* KVM_EXIT_INTERNAL_ERROR in words: the suberror by name, the instruction
 * KVM could not emulate (its bytes, and what it is) and the likely cause. */
#ifndef MOTE_X86_INTERNAL_ERROR_H
#define MOTE_X86_INTERNAL_ERROR_H

#include "../mem.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvm_run;

#define INSN_MAX 15 /* the longest x86 instruction */

/* Names KVM internal-error suberror @suberror ("emulation failure", ...). */
const char *internal_error_name(uint32_t suberror);

/* Copies the instruction bytes KVM reported with an emulation failure in
 * @run into @out (INSN_MAX bytes); returns how many, 0 if it reported none. */
size_t internal_error_insn(const struct kvm_run *run, uint8_t out[INSN_MAX]);

/* Names the x86 instruction that starts at @b (@len bytes: prefixes, REX
 * in 64-bit code (@long_mode), opcode, ModRM), e.g. "xrstor", or NULL if
 * it is none mote knows. Reads no byte past @len. */
const char *insn_name(const uint8_t *b, size_t len, bool long_mode);

/* Reads the INSN_MAX bytes at linear address @rip of the vCPU @vcpu_fd
 * (through its page tables, KVM_TRANSLATE) from guest RAM @m into @out;
 * returns INSN_MAX, or 0 if @rip is not mapped to RAM. */
size_t internal_error_read_insn(int vcpu_fd, const struct guest_mem *m, uint64_t rip,
                                uint8_t out[INSN_MAX]);

/* Writes into @out (@n bytes) the error of @run: "KVM internal error:
 * emulation failure (suberror 1) at rip 0x..: instruction 0f ae 2f
 * (xrstor); <cause>", the bytes decoded as 64-bit code if @long_mode.
 * @insn (@insn_len bytes, may be 0) are the bytes at
 * rip when KVM gave none; @cause is the likely cause, or NULL for the
 * suberror's generic one. */
void internal_error_describe(const struct kvm_run *run, uint64_t rip, bool long_mode,
                             const uint8_t *insn, size_t insn_len, const char *cause, char *out,
                             size_t n);

/* True if the vCPU @vcpu_fd runs 64-bit code (CS.L), for insn_name. */
bool internal_error_long_mode(int vcpu_fd);

#endif
