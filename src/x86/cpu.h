/* SPDX-License-Identifier: MIT */
/* x86 vCPU state for kernel entry: GDT, segments, flat 32-bit and 64-bit modes, CPUID. */
#ifndef MOTE_X86_CPU_H
#define MOTE_X86_CPU_H

#include "../mem.h"

#include <linux/kvm.h>

#include <stdbool.h>
#include <stdint.h>

#define GDT_SEL_CODE 0x10 /* __BOOT_CS of the Linux boot protocol */
#define GDT_SEL_DATA 0x18 /* __BOOT_DS */
#define GDT_SEL_TSS  0x20
#define GDT_ENTRIES  5

#define CR0_PE   (1ULL << 0)
#define CR0_ET   (1ULL << 4)
#define CR0_NE   (1ULL << 5)
#define CR0_PG   (1ULL << 31)
#define CR4_PAE  (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

/* Descriptor flags: access byte in bits 0-7, G/DB/L in bits 15/14/13. */
#define GDT_CODE32 0xc09bU
#define GDT_CODE64 0xa09bU
#define GDT_DATA   0xc093U
#define GDT_TSS    0x008bU

/* Encodes a segment descriptor. */
uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit);

/* Puts @v's registers in 32-bit flat protected mode (paging off) at
 * @entry with ebx = @ebx, as the PVH boot ABI wants; 0 or -errno. */
int cpu_enter_flat32(int vcpu_fd, const struct guest_mem *m, uint32_t entry, uint32_t ebx);

/* Puts @v's registers in 64-bit long mode on the identity page tables at
 * @cr3, at @entry with rsi = @rsi, as the Linux 64-bit boot protocol wants;
 * 0 or -errno. */
int cpu_enter_long64(int vcpu_fd, const struct guest_mem *m, uint64_t cr3, uint64_t entry,
                     uint64_t rsi);

/* Gives vCPU @id of @nr the host's KVM-supported CPUID with the KVM
 * paravirt leaves (kvm-clock), its own APIC ID (@id) and a topology of one
 * package of @nr cores (leaves 1, 4, 0xB, 0x1F, 0x80000008, 0x8000001E);
 * 0 or -errno. Sets @paravirt (if not NULL) to whether KVM offered the
 * paravirt leaves. */
int cpu_setup_cpuid(int kvm_fd, int vcpu_fd, int id, int nr, bool *paravirt);

/* Applies the topology of cpu_setup_cpuid to one CPUID entry @e, for
 * vCPU @id of @nr (exposed for the tests). */
void cpu_fix_cpuid_entry(struct kvm_cpuid_entry2 *e, int id, int nr);

#endif
