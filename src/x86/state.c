// SPDX-License-Identifier: MIT
/* x86 vCPU and VM state to and from snapshot records, through KVM's get/set ioctls. The restore
 * order follows what KVM needs: CPUID before anything, mp_state and registers, XSAVE and XCRs,
 * debug registers, LAPIC, MSRs (the TSC among them), events last. */
#include "state.h"

#include "../kvm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#define XSAVE_LEGACY_SIZE 4096

/* CPUID feature words whose bits a restored guest may already use. */
static const struct {
	uint32_t function, index;
	int reg; /* 0 eax, 1 ebx, 2 ecx, 3 edx */
	const char *name;
} feature_words[] = {
    {1, 0, 2, "CPUID.1:ECX"},
    {1, 0, 3, "CPUID.1:EDX"},
    {7, 0, 1, "CPUID.7.0:EBX"},
    {7, 0, 2, "CPUID.7.0:ECX"},
    {7, 0, 3, "CPUID.7.0:EDX"},
    {0xd, 1, 0, "CPUID.0xD.1:EAX"},
    {0x80000001, 0, 2, "CPUID.80000001:ECX"},
    {0x80000001, 0, 3, "CPUID.80000001:EDX"},
};

static int ioctl_err(struct err *e, const char *what, int ret)
{
	return err_set(e, "%s: %s", what, strerror(-ret));
}

static int xsave_size(struct vm *vm)
{
	int n = kvm_ioctl_try(vm->vm_fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_XSAVE2);

	return n > XSAVE_LEGACY_SIZE ? n : XSAVE_LEGACY_SIZE;
}

static struct kvm_cpuid2 *vcpu_cpuid(int fd, struct err *e)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + STATE_MAX_CPUID * sizeof(c->entries[0]));
	int ret;

	if (!c) {
		err_set(e, "out of memory");
		return NULL;
	}
	c->nent = STATE_MAX_CPUID;
	ret = kvm_ioctl_try(fd, KVM_GET_CPUID2, c);
	if (ret < 0) {
		ioctl_err(e, "KVM_GET_CPUID2", ret);
		free(c);
		return NULL;
	}
	return c;
}

static const struct kvm_cpuid_entry2 *cpuid_find(const struct kvm_cpuid_entry2 *ents, uint32_t n,
                                                 uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < n; i++)
		if (ents[i].function == function &&
		    (!(ents[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || ents[i].index == index))
			return &ents[i];
	return NULL;
}

static uint32_t cpuid_reg(const struct kvm_cpuid_entry2 *c, int reg)
{
	const uint32_t r[4] = {c->eax, c->ebx, c->ecx, c->edx};

	return c ? r[reg] : 0;
}

int state_machine(struct vm *vm, struct snap_machine *m, struct err *e)
{
	struct kvm_cpuid2 *c;
	const struct kvm_cpuid_entry2 *leaf;
	int khz;

	memset(m, 0, sizeof(*m));
	m->mem_size = vm->mem.size;
	m->nr_vcpus = (uint32_t)vm->nr_vcpus;
	m->xsave_size = (uint32_t)xsave_size(vm);
	khz = kvm_ioctl_try(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, NULL);
	m->tsc_khz = khz > 0 ? (uint32_t)khz : 0;
	c = vcpu_cpuid(vm->vcpus[0].fd, e);
	if (!c)
		return -1;
	if ((leaf = cpuid_find(c->entries, c->nent, 0, 0))) {
		memcpy(m->vendor, &leaf->ebx, 4);
		memcpy(m->vendor + 4, &leaf->edx, 4);
		memcpy(m->vendor + 8, &leaf->ecx, 4);
	}
	if ((leaf = cpuid_find(c->entries, c->nent, 1, 0)))
		m->fms = leaf->eax;
	free(c);
	return 0;
}

int state_check_machine(struct vm *vm, const struct snap_machine *m, struct err *e)
{
	struct snap_machine here;

	if (state_machine(vm, &here, e) < 0)
		return -1;
	if (m->mem_size != here.mem_size)
		return err_set(e, "the snapshot's VM has %llu MiB of RAM, this one %llu MiB",
		               (unsigned long long)(m->mem_size >> 20),
		               (unsigned long long)(here.mem_size >> 20));
	if (m->nr_vcpus != here.nr_vcpus)
		return err_set(e, "the snapshot's VM has %u vCPUs, this one %u", m->nr_vcpus,
		               here.nr_vcpus);
	if (memcmp(m->vendor, here.vendor, sizeof(m->vendor)))
		return err_set(e, "the snapshot was made on a %.12s CPU; this host has a %.12s one",
		               m->vendor, here.vendor);
	if (m->xsave_size > here.xsave_size)
		return err_set(e,
		               "the snapshot's XSAVE area has %u bytes; this host's KVM holds %u",
		               m->xsave_size, here.xsave_size);
	return 0;
}

/* Every MSR index KVM says it can save, or NULL with @e. */
static struct kvm_msr_list *msr_list(int kvm_fd, struct err *e)
{
	struct kvm_msr_list probe = {.nmsrs = 0}, *l;
	int ret = kvm_ioctl_try(kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe);

	if (ret < 0 && ret != -E2BIG) {
		ioctl_err(e, "KVM_GET_MSR_INDEX_LIST", ret);
		return NULL;
	}
	if (probe.nmsrs > STATE_MAX_MSRS)
		probe.nmsrs = STATE_MAX_MSRS;
	l = calloc(1, sizeof(*l) + probe.nmsrs * sizeof(l->indices[0]));
	if (!l) {
		err_set(e, "out of memory");
		return NULL;
	}
	l->nmsrs = probe.nmsrs;
	ret = kvm_ioctl_try(kvm_fd, KVM_GET_MSR_INDEX_LIST, l);
	if (ret < 0) {
		ioctl_err(e, "KVM_GET_MSR_INDEX_LIST", ret);
		free(l);
		return NULL;
	}
	return l;
}

/* Reads every listed MSR that this vCPU has: KVM_GET_MSRS stops at the
 * first it cannot read, which is left out, and goes on after it. */
static int save_msrs(struct vcpu *v, struct snap_writer *w, struct err *e)
{
	struct kvm_msr_list *l = msr_list(v->vm->kvm_fd, e);
	struct kvm_msr_entry *out;
	struct kvm_msrs *m;
	uint32_t n = 0;

	if (!l)
		return -1;
	out = calloc(l->nmsrs + 1, sizeof(*out));
	m = calloc(1, sizeof(*m) + (l->nmsrs + 1) * sizeof(m->entries[0]));
	for (uint32_t at = 0; out && m && at < l->nmsrs;) {
		int got;

		m->nmsrs = l->nmsrs - at;
		for (uint32_t i = 0; i < m->nmsrs; i++)
			m->entries[i] = (struct kvm_msr_entry){.index = l->indices[at + i]};
		got = kvm_ioctl_try(v->fd, KVM_GET_MSRS, m);
		if (got < 0) {
			free(l), free(out), free(m);
			return ioctl_err(e, "KVM_GET_MSRS", got);
		}
		memcpy(out + n, m->entries, (size_t)got * sizeof(*out));
		n += (uint32_t)got;
		at += (uint32_t)got + 1; /* past the one KVM would not read */
	}
	bool ok = out && m;

	if (ok)
		snap_put(w, SNAP_VCPU_MSRS, (uint32_t)v->id, out, n * sizeof(*out));
	free(l), free(out), free(m);
	return ok ? 0 : err_set(e, "out of memory");
}

#define SAVE(req, type, rec)                                        \
	do {                                                        \
		type s_;                                            \
		int r_;                                             \
		memset(&s_, 0, sizeof(s_));                         \
		if ((r_ = kvm_ioctl_try(v->fd, req, &s_)) < 0)      \
			return ioctl_err(e, #req, r_);              \
		snap_put(w, rec, (uint32_t)v->id, &s_, sizeof(s_)); \
	} while (0)

static int save_xsave(struct vcpu *v, struct snap_writer *w, struct err *e)
{
	int size = xsave_size(v->vm);
	void *x = calloc(1, (size_t)size);
	int ret;

	if (!x)
		return err_set(e, "out of memory");
	ret = kvm_ioctl_try(v->fd, size > XSAVE_LEGACY_SIZE ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, x);
	if (ret < 0) {
		free(x);
		return ioctl_err(e, "KVM_GET_XSAVE", ret);
	}
	snap_put(w, SNAP_VCPU_XSAVE, (uint32_t)v->id, x, (size_t)size);
	free(x);
	return 0;
}

int state_save_vcpu(struct vcpu *v, struct snap_writer *w, struct err *e)
{
	struct kvm_cpuid2 *c = vcpu_cpuid(v->fd, e);

	if (!c)
		return -1;
	snap_put(w, SNAP_CPUID, (uint32_t)v->id, c->entries, c->nent * sizeof(c->entries[0]));
	free(c);
	SAVE(KVM_GET_MP_STATE, struct kvm_mp_state, SNAP_VCPU_MP_STATE);
	SAVE(KVM_GET_REGS, struct kvm_regs, SNAP_VCPU_REGS);
	SAVE(KVM_GET_SREGS, struct kvm_sregs, SNAP_VCPU_SREGS);
	if (save_xsave(v, w, e) < 0)
		return -1;
	SAVE(KVM_GET_XCRS, struct kvm_xcrs, SNAP_VCPU_XCRS);
	SAVE(KVM_GET_DEBUGREGS, struct kvm_debugregs, SNAP_VCPU_DEBUGREGS);
	SAVE(KVM_GET_LAPIC, struct kvm_lapic_state, SNAP_VCPU_LAPIC);
	if (save_msrs(v, w, e) < 0)
		return -1;
	SAVE(KVM_GET_VCPU_EVENTS, struct kvm_vcpu_events, SNAP_VCPU_EVENTS);
	return 0;
}

/* The saved CPUID goes in if every feature it shows is one this vCPU has
 * been given here (what this host's KVM offers). */
static int load_cpuid(struct vcpu *v, struct snap *s, struct err *e)
{
	struct snap_record *r = snap_get(s, SNAP_CPUID, (uint32_t)v->id);
	const struct kvm_cpuid_entry2 *saved;
	struct kvm_cpuid2 *here, *c;
	uint32_t n;
	int ret;

	if (!r || !r->len || r->len % sizeof(*saved) || r->len / sizeof(*saved) > STATE_MAX_CPUID)
		return err_set(e, "vCPU %d: no CPUID record, or one of %llu bytes", v->id,
		               r ? (unsigned long long)r->len : 0ULL);
	n = (uint32_t)(r->len / sizeof(*saved));
	c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
	if (!c)
		return err_set(e, "out of memory");
	memcpy(c->entries, r->data, r->len);
	c->nent = n;
	saved = c->entries;
	here = vcpu_cpuid(v->fd, e);
	if (!here) {
		free(c);
		return -1;
	}
	for (size_t i = 0; i < sizeof(feature_words) / sizeof(feature_words[0]); i++) {
		const struct kvm_cpuid_entry2 *a, *b;
		uint32_t want, have;

		a = cpuid_find(saved, n, feature_words[i].function, feature_words[i].index);
		b = cpuid_find(here->entries, here->nent, feature_words[i].function,
		               feature_words[i].index);
		want = a ? cpuid_reg(a, feature_words[i].reg) : 0;
		have = b ? cpuid_reg(b, feature_words[i].reg) : 0;
		if (want & ~have) {
			err_set(e,
			        "vCPU %d: the snapshot's CPU has features this host's KVM does not "
			        "offer: %s bits 0x%x",
			        v->id, feature_words[i].name, want & ~have);
			free(here);
			free(c);
			return -1;
		}
	}
	free(here);
	ret = kvm_ioctl_try(v->fd, KVM_SET_CPUID2, c);
	free(c);
	return ret < 0 ? ioctl_err(e, "KVM_SET_CPUID2", ret) : 0;
}

static int load_msrs(struct vcpu *v, struct snap *s, struct err *e)
{
	struct snap_record *r = snap_get(s, SNAP_VCPU_MSRS, (uint32_t)v->id);
	struct kvm_msrs *m;
	uint32_t n;
	int ret;

	if (!r || r->len % sizeof(struct kvm_msr_entry) ||
	    r->len / sizeof(struct kvm_msr_entry) > STATE_MAX_MSRS)
		return err_set(e, "vCPU %d: no MSR record, or one of %llu bytes", v->id,
		               r ? (unsigned long long)r->len : 0ULL);
	n = (uint32_t)(r->len / sizeof(struct kvm_msr_entry));
	m = calloc(1, sizeof(*m) + r->len);
	if (!m)
		return err_set(e, "out of memory");
	m->nmsrs = n;
	memcpy(m->entries, r->data, r->len);
	ret = kvm_ioctl_try(v->fd, KVM_SET_MSRS, m);
	if (ret >= 0 && (uint32_t)ret < n)
		err_set(e, "vCPU %d: this host's KVM refused MSR 0x%x = 0x%llx", v->id,
		        m->entries[ret].index, (unsigned long long)m->entries[ret].data);
	else if (ret < 0)
		ioctl_err(e, "KVM_SET_MSRS", ret);
	free(m);
	return ret >= 0 && (uint32_t)ret == n ? 0 : -1;
}

static int load_xsave(struct vcpu *v, struct snap *s, struct err *e)
{
	struct snap_record *r = snap_get(s, SNAP_VCPU_XSAVE, (uint32_t)v->id);
	int size = xsave_size(v->vm);
	void *x;
	int ret;

	if (!r || r->len < XSAVE_LEGACY_SIZE || r->len > (uint64_t)size)
		return err_set(e, "vCPU %d: no XSAVE record, or one of %llu bytes (this host: %d)",
		               v->id, r ? (unsigned long long)r->len : 0ULL, size);
	x = calloc(1, (size_t)size);
	if (!x)
		return err_set(e, "out of memory");
	memcpy(x, r->data, r->len);
	ret = kvm_ioctl_try(v->fd, KVM_SET_XSAVE, x);
	free(x);
	return ret < 0 ? ioctl_err(e, "KVM_SET_XSAVE", ret) : 0;
}

#define LOAD(req, type, rec)                                                         \
	do {                                                                         \
		type s_;                                                             \
		int r_;                                                              \
		if (snap_get_exact(s, rec, (uint32_t)v->id, &s_, sizeof(s_), e) < 0) \
			return -1;                                                   \
		if ((r_ = kvm_ioctl_try(v->fd, req, &s_)) < 0)                       \
			return ioctl_err(e, #req, r_);                               \
	} while (0)

/* The events as saved, with the NMI and SIPI fields marked valid: KVM's GET
 * fills them without saying so, and SET drops them unless told. */
static int load_events(struct vcpu *v, struct snap *s, struct err *e)
{
	struct kvm_vcpu_events ev;
	int ret;

	if (snap_get_exact(s, SNAP_VCPU_EVENTS, (uint32_t)v->id, &ev, sizeof(ev), e) < 0)
		return -1;
	ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	ret = kvm_ioctl_try(v->fd, KVM_SET_VCPU_EVENTS, &ev);
	return ret < 0 ? ioctl_err(e, "KVM_SET_VCPU_EVENTS", ret) : 0;
}

int state_load_tsc_khz(struct vcpu *v, uint32_t khz, struct err *e)
{
	int here = kvm_ioctl_try(v->fd, KVM_GET_TSC_KHZ, NULL), ret;

	if (!khz || here <= 0 || (uint32_t)here == khz)
		return 0;
	ret = kvm_ioctl_try(v->fd, KVM_SET_TSC_KHZ, (void *)(uintptr_t)khz);
	return ret < 0 ? err_set(e,
	                         "the snapshot's TSC runs at %u kHz, this host's at %d kHz, and "
	                         "KVM cannot scale it: %s",
	                         khz, here, strerror(-ret))
	               : 0;
}

int state_load_vcpu(struct vcpu *v, struct snap *s, struct err *e)
{
	if (load_cpuid(v, s, e) < 0)
		return -1;
	LOAD(KVM_SET_MP_STATE, struct kvm_mp_state, SNAP_VCPU_MP_STATE);
	LOAD(KVM_SET_REGS, struct kvm_regs, SNAP_VCPU_REGS);
	LOAD(KVM_SET_SREGS, struct kvm_sregs, SNAP_VCPU_SREGS);
	if (load_xsave(v, s, e) < 0)
		return -1;
	LOAD(KVM_SET_XCRS, struct kvm_xcrs, SNAP_VCPU_XCRS);
	LOAD(KVM_SET_DEBUGREGS, struct kvm_debugregs, SNAP_VCPU_DEBUGREGS);
	LOAD(KVM_SET_LAPIC, struct kvm_lapic_state, SNAP_VCPU_LAPIC);
	if (load_msrs(v, s, e) < 0)
		return -1;
	return load_events(v, s, e);
}

static int save_chip(struct vm *vm, struct snap_writer *w, uint32_t id, uint32_t rec, size_t size,
                     struct err *e)
{
	struct kvm_irqchip c = {.chip_id = id};
	int ret = kvm_ioctl_try(vm->vm_fd, KVM_GET_IRQCHIP, &c);

	if (ret < 0)
		return ioctl_err(e, "KVM_GET_IRQCHIP", ret);
	snap_put(w, rec, 0, &c.chip, size);
	return 0;
}

static int load_chip(struct vm *vm, struct snap *s, uint32_t id, uint32_t rec, size_t size,
                     struct err *e)
{
	struct kvm_irqchip c = {.chip_id = id};
	int ret;

	if (snap_get_exact(s, rec, 0, &c.chip, size, e) < 0)
		return -1;
	ret = kvm_ioctl_try(vm->vm_fd, KVM_SET_IRQCHIP, &c);
	return ret < 0 ? ioctl_err(e, "KVM_SET_IRQCHIP", ret) : 0;
}

int state_save_vm(struct vm *vm, struct snap_writer *w, struct err *e)
{
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	int ret;

	if (save_chip(vm, w, KVM_IRQCHIP_PIC_MASTER, SNAP_VM_PIC_MASTER,
	              sizeof(struct kvm_pic_state), e) < 0 ||
	    save_chip(vm, w, KVM_IRQCHIP_PIC_SLAVE, SNAP_VM_PIC_SLAVE, sizeof(struct kvm_pic_state),
	              e) < 0 ||
	    save_chip(vm, w, KVM_IRQCHIP_IOAPIC, SNAP_VM_IOAPIC, sizeof(struct kvm_ioapic_state),
	              e) < 0)
		return -1;
	memset(&pit, 0, sizeof(pit));
	if ((ret = kvm_ioctl_try(vm->vm_fd, KVM_GET_PIT2, &pit)) < 0)
		return ioctl_err(e, "KVM_GET_PIT2", ret);
	snap_put(w, SNAP_VM_PIT, 0, &pit, sizeof(pit));
	memset(&clock, 0, sizeof(clock));
	if ((ret = kvm_ioctl_try(vm->vm_fd, KVM_GET_CLOCK, &clock)) < 0)
		return ioctl_err(e, "KVM_GET_CLOCK", ret);
	snap_put(w, SNAP_VM_CLOCK, 0, &clock, sizeof(clock));
	return 0;
}

int state_load_vm(struct vm *vm, struct snap *s, struct err *e)
{
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	int ret;

	if (load_chip(vm, s, KVM_IRQCHIP_PIC_MASTER, SNAP_VM_PIC_MASTER,
	              sizeof(struct kvm_pic_state), e) < 0 ||
	    load_chip(vm, s, KVM_IRQCHIP_PIC_SLAVE, SNAP_VM_PIC_SLAVE, sizeof(struct kvm_pic_state),
	              e) < 0 ||
	    load_chip(vm, s, KVM_IRQCHIP_IOAPIC, SNAP_VM_IOAPIC, sizeof(struct kvm_ioapic_state),
	              e) < 0)
		return -1;
	if (snap_get_exact(s, SNAP_VM_PIT, 0, &pit, sizeof(pit), e) < 0)
		return -1;
	if ((ret = kvm_ioctl_try(vm->vm_fd, KVM_SET_PIT2, &pit)) < 0)
		return ioctl_err(e, "KVM_SET_PIT2", ret);
	if (snap_get_exact(s, SNAP_VM_CLOCK, 0, &clock, sizeof(clock), e) < 0)
		return -1;
	/* Only the clock's value goes back: the flags say what KVM_GET_CLOCK
	 * knew of the old host (TSC_STABLE, REALTIME), not what to set. */
	clock.flags = 0;
	if ((ret = kvm_ioctl_try(vm->vm_fd, KVM_SET_CLOCK, &clock)) < 0)
		return ioctl_err(e, "KVM_SET_CLOCK", ret);
	return 0;
}
