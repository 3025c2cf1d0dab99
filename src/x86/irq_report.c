// SPDX-License-Identifier: MIT
#include "irq_report.h"

#include "../kvm.h"
#include "../vm.h"

#include <linux/kvm.h>
#include <stdbool.h>
#include <string.h>

#define RFLAGS_IF          (1ULL << 9)
#define LAPIC_TPR          0x80
#define LAPIC_ISR          0x100
#define LAPIC_IRR          0x200
#define REPORT_STACK_WORDS 48

char *irq_report_vectors(const uint8_t *regs, size_t off, char *out, size_t n)
{
	size_t at = 0;

	out[0] = 0;
	for (int v = 0; v < 256; v++) {
		uint32_t word;
		int w;

		memcpy(&word, regs + off + 16 * (v / 32), sizeof(word));
		if (!(word & (1U << (v % 32))))
			continue;
		w = snprintf(out + at, n - at, "%s0x%02x", at ? " " : "", v);
		if (w < 0 || (size_t)w >= n - at) {
			out[at] = 0; /* no vector cut in half */
			break;
		}
		at += (size_t)w;
	}
	if (!at)
		snprintf(out, n, "-");
	return out;
}

static const char *mp_state_name(uint32_t s)
{
	switch (s) {
	case KVM_MP_STATE_RUNNABLE: return "runnable";
	case KVM_MP_STATE_UNINITIALIZED: return "waiting for INIT";
	case KVM_MP_STATE_INIT_RECEIVED: return "INIT received";
	case KVM_MP_STATE_HALTED: return "halted";
	case KVM_MP_STATE_SIPI_RECEIVED: return "SIPI received";
	default: return "?";
	}
}

/* Copies @len bytes at linear address @va of vCPU @v (through its page
 * tables) into @out; false if a page of them is not in RAM. */
static bool read_linear(const struct vcpu *v, uint64_t va, void *out, size_t len)
{
	uint8_t *to = out;

	while (len) {
		struct kvm_translation t = {.linear_address = va};
		size_t n = 4096 - (va & 4095);
		const void *p;

		if (n > len)
			n = len;
		if (kvm_ioctl_try(v->fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
			return false;
		p = guest_ptr(&v->vm->mem, t.physical_address, n);
		if (!p)
			return false;
		memcpy(to, p, n);
		to += n, va += n, len -= n;
	}
	return true;
}

/* The general registers, the 8 bytes rdi points to (a lock, in the lock
 * functions a stuck guest spins in) and the words on top of the stack
 * (return addresses among them: a backtrace, given the kernel's symbols). */
static void report_regs(FILE *out, const struct vcpu *v, const struct kvm_regs *r)
{
	uint64_t at_rdi, stack[REPORT_STACK_WORDS];

	fprintf(out,
	        "mote: vCPU %d: rax %llx rbx %llx rcx %llx rdx %llx rsi %llx rdi %llx rbp %llx "
	        "rsp %llx r8 %llx r9 %llx r10 %llx r11 %llx r12 %llx r13 %llx r14 %llx r15 %llx\n",
	        v->id, r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rbp, r->rsp, r->r8, r->r9,
	        r->r10, r->r11, r->r12, r->r13, r->r14, r->r15);
	if (read_linear(v, r->rdi, &at_rdi, sizeof(at_rdi)))
		fprintf(out, "mote: vCPU %d: at rdi: %016llx\n", v->id, (unsigned long long)at_rdi);
	if (!read_linear(v, r->rsp, stack, sizeof(stack)))
		return;
	fprintf(out, "mote: vCPU %d: stack:", v->id);
	for (int i = 0; i < REPORT_STACK_WORDS; i++)
		fprintf(out, " %llx", (unsigned long long)stack[i]);
	fprintf(out, "\n");
}

static void report_vcpu(FILE *out, const struct vcpu *v)
{
	struct kvm_regs regs;
	struct kvm_mp_state mp;
	struct kvm_vcpu_events ev;
	struct kvm_lapic_state lapic;
	char irr[128], isr[128], inj[24] = "nothing";

	if (kvm_ioctl_try(v->fd, KVM_GET_REGS, &regs) < 0 ||
	    kvm_ioctl_try(v->fd, KVM_GET_MP_STATE, &mp) < 0 ||
	    kvm_ioctl_try(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0 ||
	    kvm_ioctl_try(v->fd, KVM_GET_LAPIC, &lapic) < 0)
		return;
	if (ev.interrupt.injected)
		snprintf(inj, sizeof(inj), "vector 0x%02x", ev.interrupt.nr);
	fprintf(out,
	        "mote: vCPU %d: %s at rip 0x%llx, interrupts %s%s; injecting %s; LAPIC TPR "
	        "0x%02x, IRR %s, ISR %s\n",
	        v->id, mp_state_name(mp.mp_state), (unsigned long long)regs.rip,
	        regs.rflags & RFLAGS_IF ? "on" : "off", ev.interrupt.shadow ? " (in a shadow)" : "",
	        inj, (uint8_t)lapic.regs[LAPIC_TPR],
	        irq_report_vectors((const uint8_t *)lapic.regs, LAPIC_IRR, irr, sizeof(irr)),
	        irq_report_vectors((const uint8_t *)lapic.regs, LAPIC_ISR, isr, sizeof(isr)));
	report_regs(out, v, &regs);
}

static void report_ioapic(FILE *out, const struct vm *vm)
{
	struct kvm_irqchip c = {.chip_id = KVM_IRQCHIP_IOAPIC};
	const struct kvm_ioapic_state *io = &c.chip.ioapic;

	if (kvm_ioctl_try(vm->vm_fd, KVM_GET_IRQCHIP, &c) < 0)
		return;
	fprintf(out, "mote: IOAPIC:");
	for (int pin = 0; pin < KVM_IOAPIC_NUM_PINS; pin++) {
		if (io->redirtbl[pin].fields.mask)
			continue;
		fprintf(out, " pin %d vector 0x%02x %s%s%s;", pin, io->redirtbl[pin].fields.vector,
		        io->redirtbl[pin].fields.trig_mode ? "level" : "edge",
		        io->redirtbl[pin].fields.remote_irr ? " remote-IRR" : "",
		        io->irr & (1U << pin) ? " IRR" : "");
	}
	fprintf(out, "\n");
}

void irq_report(FILE *out, struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++)
		report_vcpu(out, &vm->vcpus[i]);
	report_ioapic(out, vm);
}
