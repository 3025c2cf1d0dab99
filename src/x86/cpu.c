// SPDX-License-Identifier: MIT
#include "cpu.h"

#include "../err.h"
#include "../kvm.h"
#include "layout.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000U) << 32) | ((uint64_t)(flags & 0xf0ffU) << 40) |
	       ((uint64_t)(limit & 0x000f0000U) << 32) | ((uint64_t)(base & 0x00ffffffU) << 16) |
	       (limit & 0xffffU);
}

static struct kvm_segment segment(uint64_t desc, uint16_t selector)
{
	uint32_t limit = (uint32_t)((desc & 0xffff) | ((desc >> 32) & 0xf0000));
	uint8_t access = (uint8_t)(desc >> 40);
	uint8_t flags = (uint8_t)(desc >> 52);
	struct kvm_segment s = {
	    .base = ((desc >> 16) & 0xffffff) | ((desc >> 32) & 0xff000000),
	    .selector = selector,
	    .type = access & 0xf,
	    .present = (access >> 7) & 1,
	    .dpl = (access >> 5) & 3,
	    .s = (access >> 4) & 1,
	    .l = (flags >> 1) & 1,
	    .db = (flags >> 2) & 1,
	    .g = (flags >> 3) & 1,
	};

	s.limit = s.g ? (limit << 12) | 0xfff : limit;
	return s;
}

/* Writes the boot GDT and points @sregs' segments and GDTR at it; -ENOMEM
 * if guest RAM has no room for it. */
static int load_gdt(const struct guest_mem *m, struct kvm_sregs *sregs, uint16_t code)
{
	uint64_t gdt[GDT_ENTRIES] = {
	    [GDT_SEL_CODE / 8] = gdt_entry(code, 0, 0xfffff),
	    [GDT_SEL_DATA / 8] = gdt_entry(GDT_DATA, 0, 0xfffff),
	    [GDT_SEL_TSS / 8] = gdt_entry(GDT_TSS, 0, 0xfffff),
	};
	void *p = guest_ptr(m, BOOT_GDT_ADDR, sizeof(gdt));
	struct kvm_segment data = segment(gdt[GDT_SEL_DATA / 8], GDT_SEL_DATA);

	if (!p)
		return -ENOMEM;
	memcpy(p, gdt, sizeof(gdt));
	sregs->gdt.base = BOOT_GDT_ADDR;
	sregs->gdt.limit = sizeof(gdt) - 1;
	sregs->cs = segment(gdt[GDT_SEL_CODE / 8], GDT_SEL_CODE);
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
	sregs->tr = segment(gdt[GDT_SEL_TSS / 8], GDT_SEL_TSS);
	return 0;
}

static int set_regs(int vcpu_fd, uint64_t rip, uint64_t rbx, uint64_t rsi)
{
	struct kvm_regs regs = {
	    .rip = rip,
	    .rbx = rbx,
	    .rsi = rsi,
	    .rsp = BOOT_STACK_ADDR,
	    .rflags = 0x2,
	};

	return kvm_ioctl_try(vcpu_fd, KVM_SET_REGS, &regs);
}

int cpu_enter_flat32(int vcpu_fd, const struct guest_mem *m, uint32_t entry, uint32_t ebx)
{
	struct kvm_sregs sregs;
	int ret = kvm_ioctl_try(vcpu_fd, KVM_GET_SREGS, &sregs);

	if (!ret)
		ret = load_gdt(m, &sregs, GDT_CODE32);
	sregs.cr0 = CR0_PE | CR0_ET;
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (!ret)
		ret = kvm_ioctl_try(vcpu_fd, KVM_SET_SREGS, &sregs);
	return ret ? ret : set_regs(vcpu_fd, entry, ebx, 0);
}

int cpu_enter_long64(int vcpu_fd, const struct guest_mem *m, uint64_t cr3, uint64_t entry,
                     uint64_t rsi)
{
	struct kvm_sregs sregs;
	int ret = kvm_ioctl_try(vcpu_fd, KVM_GET_SREGS, &sregs);

	if (!ret)
		ret = load_gdt(m, &sregs, GDT_CODE64);
	sregs.cr3 = cr3;
	sregs.cr4 = CR4_PAE;
	sregs.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	if (!ret)
		ret = kvm_ioctl_try(vcpu_fd, KVM_SET_SREGS, &sregs);
	return ret ? ret : set_regs(vcpu_fd, entry, 0, rsi);
}

#define CPUID_MAX_ENTRIES     256
#define CPUID_KVM_SIGNATURE   0x40000000U
#define CPUID_KVM_FEATURES    0x40000001U
#define CPUID1_ECX_HYPERVISOR (1U << 31)
#define CPUID1_EDX_HTT        (1U << 28)

static struct kvm_cpuid2 *supported_cpuid(int kvm_fd, int *ret)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));

	*ret = -ENOMEM;
	if (!c)
		return NULL;
	c->nent = CPUID_MAX_ENTRIES;
	*ret = kvm_ioctl_try(kvm_fd, KVM_GET_SUPPORTED_CPUID, c);
	if (*ret >= 0)
		return c;
	free(c);
	return NULL;
}

/* The smallest s with 1 << s >= @n: bits of APIC ID per level. */
static uint32_t id_bits(uint32_t n)
{
	uint32_t s = 0;

	while ((1U << s) < n)
		s++;
	return s;
}

/* Leaves 0xB and 0x1F: an SMT level of one thread, then a core level of
 * all vCPUs; the subleaf is e->index. */
static void fix_topology_leaf(struct kvm_cpuid_entry2 *e, uint32_t id, uint32_t nr)
{
	e->edx = id;
	switch (e->index) {
	case 0: e->eax = 0, e->ebx = 1, e->ecx = (1U << 8) | 0; break;
	case 1: e->eax = id_bits(nr), e->ebx = nr, e->ecx = (2U << 8) | 1; break;
	default: e->eax = e->ebx = 0, e->ecx = e->index; break;
	}
}

/* One package of @nr cores, one thread each; this vCPU is core @id. */
static void fix_entry(struct kvm_cpuid_entry2 *e, uint32_t id, uint32_t nr)
{
	uint32_t ids = 1U << id_bits(nr); /* APIC IDs the package spans */

	switch (e->function) {
	case 1:
		e->ecx |= CPUID1_ECX_HYPERVISOR;
		e->ebx = (e->ebx & 0xffffU) | ((ids & 0xffU) << 16) | (id << 24);
		e->edx = nr > 1 ? e->edx | CPUID1_EDX_HTT : e->edx & ~CPUID1_EDX_HTT;
		break;
	case 4: /* caches: L1 and L2 per core, L3 for the package */
		e->eax = (e->eax & 0x3fffU) | ((ids - 1) << 26) |
		         ((((e->eax >> 5) & 7) >= 3 ? ids - 1 : 0) << 14);
		break;
	case 0xb:
	case 0x1f: fix_topology_leaf(e, id, nr); break;
	case 0x80000008: e->ecx = (e->ecx & ~0xf0ffU) | (id_bits(nr) << 12) | (nr - 1); break;
	case 0x8000001e: e->eax = id, e->ebx = id, e->ecx = 0; break;
	default: break;
	}
}

int cpu_setup_cpuid(int kvm_fd, int vcpu_fd, int id, int nr, bool *paravirt)
{
	int ret;
	struct kvm_cpuid2 *c = supported_cpuid(kvm_fd, &ret);
	int has_kvm_leaves = 0;

	if (!c)
		return ret;
	for (uint32_t i = 0; i < c->nent; i++) {
		fix_entry(&c->entries[i], (uint32_t)id, (uint32_t)nr);
		if (c->entries[i].function == CPUID_KVM_FEATURES)
			has_kvm_leaves = 1;
	}
	if (paravirt)
		*paravirt = has_kvm_leaves;
	ret = kvm_ioctl_try(vcpu_fd, KVM_SET_CPUID2, c);
	free(c);
	return ret;
}

void cpu_fix_cpuid_entry(struct kvm_cpuid_entry2 *e, int id, int nr)
{
	fix_entry(e, (uint32_t)id, (uint32_t)nr);
}
