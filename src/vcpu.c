// SPDX-License-Identifier: MIT
#include "vcpu.h"

#include "bus.h"
#include "err.h"
#include "kvm.h"
#include "kvm_check.h"
#include "metrics.h"
#include "trace.h"
#include "x86/breakpoint.h"
#include "x86/cpu.h"
#include "x86/internal_error.h"
#include "x86/kvmclock_trap.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define LAPIC_LVT_LINT0   0x350
#define LAPIC_LVT_LINT1   0x360
#define LAPIC_MODE_EXTINT 0x7
#define LAPIC_MODE_NMI    0x4

/* The signal that pulls a vCPU thread out of KVM_RUN. */
#define VCPU_KICK_SIGNAL SIGUSR1

static void set_lint(int fd)
{
	struct kvm_lapic_state lapic;
	uint32_t *lint0 = (uint32_t *)(void *)&lapic.regs[LAPIC_LVT_LINT0];
	uint32_t *lint1 = (uint32_t *)(void *)&lapic.regs[LAPIC_LVT_LINT1];

	/* As the firmware would: LINT0 delivers the PIC, LINT1 NMIs. */
	kvm_ioctl(fd, KVM_GET_LAPIC, &lapic);
	*lint0 = (*lint0 & ~0x700U) | (LAPIC_MODE_EXTINT << 8);
	*lint1 = (*lint1 & ~0x700U) | (LAPIC_MODE_NMI << 8);
	kvm_ioctl(fd, KVM_SET_LAPIC, &lapic);
}

static void set_fpu(int fd)
{
	struct kvm_fpu fpu = {.fcw = 0x37f, .mxcsr = 0x1f80};

	kvm_ioctl(fd, KVM_SET_FPU, &fpu);
}

void vcpu_create(struct vm *vm, struct vcpu *v, int id)
{
	bool paravirt;
	void *run;
	int ret;

	v->vm = vm;
	v->id = id;
	v->fd = kvm_ioctl(vm->vm_fd, KVM_CREATE_VCPU, (uintptr_t)id);
	run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (run == MAP_FAILED)
		die("cannot map vCPU %d's kvm_run: %s", id, strerror(errno));
	v->run = run;
	ret = cpu_setup_cpuid(vm->kvm_fd, v->fd, id, vm->nr_vcpus, &paravirt);
	if (ret < 0)
		die("cannot give vCPU %d its CPUID: %s", id, strerror(-ret));
	if (!paravirt && id == 0)
		warnx_("KVM offers no paravirt CPUID leaves: the guest will not use kvm-clock");
	set_fpu(v->fd);
	if (id == 0)
		set_lint(v->fd); /* the BSP takes the PIC's interrupts, as firmware leaves it */
}

static void handle_io(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	bool write = r->io.direction == KVM_EXIT_IO_OUT;

	metrics_add(write ? METRIC_vcpu_exit_io_out : METRIC_vcpu_exit_io_in, r->io.count);
	for (uint32_t i = 0; i < r->io.count; i++, data += r->io.size) {
		bus_dispatch(v, BUS_PIO, r->io.port, data, r->io.size, write);
		v->last_pio = data[0];
	}
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *r = v->run;

	metrics_inc(r->mmio.is_write ? METRIC_vcpu_exit_mmio_write : METRIC_vcpu_exit_mmio_read);
	bus_dispatch(v, BUS_MMIO, r->mmio.phys_addr, r->mmio.data, r->mmio.len, r->mmio.is_write);
}

static void handle_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_stop(v->vm, VM_EXIT_POWEROFF, "guest powered off");
		break;
	case KVM_SYSTEM_EVENT_RESET: vm_stop(v->vm, VM_EXIT_REBOOT, "guest reset"); break;
	default: vm_stop(v->vm, VM_EXIT_ERROR, "guest crashed (system event)"); break;
	}
}

static void fail(struct vcpu *v, const char *what)
{
	char msg[ERR_MAX];
	struct kvm_regs regs;

	if (kvm_ioctl_try(v->fd, KVM_GET_REGS, &regs) < 0)
		memset(&regs, 0, sizeof(regs));
	snprintf(msg, sizeof(msg), "vCPU %d: %s (rip 0x%llx)", v->id, what,
	         (unsigned long long)regs.rip);
	vm_stop(v->vm, VM_EXIT_ERROR, msg);
}

/* KVM_EXIT_INTERNAL_ERROR in words, with the host's likely cause. */
static void internal_error(struct vcpu *v)
{
	char what[ERR_MAX - 64], msg[ERR_MAX];
	struct kvm_regs regs = {0};
	uint8_t insn[INSN_MAX];
	size_t len;

	kvm_ioctl_try(v->fd, KVM_GET_REGS, &regs);
	len = internal_error_insn(v->run, insn)
	          ? 0
	          : internal_error_read_insn(v->fd, &v->vm->mem, regs.rip, insn);
	internal_error_describe(v->run, regs.rip, internal_error_long_mode(v->fd), insn, len,
	                        kvm_host_cause(), what, sizeof(what));
	snprintf(msg, sizeof(msg), "vCPU %d: %s", v->id, what);
	vm_stop(v->vm, VM_EXIT_ERROR, msg);
}

/* A triple fault: on the boot vCPU a reset, as on a PC (Linux's last way to
 * reboot); on another vCPU a crash that ends the VM. */
static void triple_fault(struct vcpu *v)
{
	if (v->id == 0)
		vm_stop(v->vm, VM_EXIT_REBOOT, "guest reset (triple fault)");
	else
		fail(v, "triple fault (KVM_EXIT_SHUTDOWN) on an application processor: the guest "
		        "crashed");
}

static void handle_exit(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	char what[96];

	if (v->bp_state != VCPU_BP_OFF && r->exit_reason != KVM_EXIT_DEBUG &&
	    r->exit_reason != KVM_EXIT_INTR)
		breakpoint_other_exit(v);
	switch (r->exit_reason) {
	case KVM_EXIT_IO: handle_io(v); break;
	case KVM_EXIT_MMIO: handle_mmio(v); break;
	case KVM_EXIT_SHUTDOWN:
		metrics_inc(METRIC_vcpu_exit_other);
		triple_fault(v);
		break;
	case KVM_EXIT_HLT:
		metrics_inc(METRIC_vcpu_exit_hlt);
		vm_stop(v->vm, VM_EXIT_POWEROFF, "guest halted");
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		metrics_inc(METRIC_vcpu_exit_system_event);
		handle_system_event(v);
		break;
	case KVM_EXIT_X86_WRMSR:
		metrics_inc(METRIC_vcpu_exit_other);
		kvmclock_trap_exit(v);
		break;
	case KVM_EXIT_DEBUG:
		metrics_inc(METRIC_vcpu_exit_other);
		breakpoint_exit(v);
		break;
	case KVM_EXIT_INTR: metrics_inc(METRIC_vcpu_exit_intr); break;
	case KVM_EXIT_FAIL_ENTRY:
		metrics_inc(METRIC_vcpu_failures);
		snprintf(what, sizeof(what), "KVM entry failed, reason 0x%llx",
		         (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
		fail(v, what);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		metrics_inc(METRIC_vcpu_failures);
		internal_error(v);
		break;
	default:
		metrics_inc(METRIC_vcpu_failures);
		snprintf(what, sizeof(what), "unexpected KVM exit reason %u", r->exit_reason);
		fail(v, what);
		break;
	}
}

static void kick_handler(int sig)
{
	(void)sig;
}

void vcpu_loop(struct vcpu *v)
{
	struct sigaction sa = {.sa_handler = kick_handler};
	sigset_t set;

	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	trace_mark(TRACE_VMM_INIT_END);
	vm_vcpu_park(v); /* a VM restored paused waits before its first instruction */
	while (atomic_load(&v->vm->exit) == VM_RUNNING) {
		int ret = kvm_ioctl_try(v->fd, KVM_RUN, NULL);

		if (ret == -EINTR || ret == -EAGAIN) {
			metrics_inc(METRIC_vcpu_exit_intr);
			/* A kick: vm_stop sets the exit before immediate_exit, so
			 * the loop condition still sees a stop after this reset. */
			v->run->immediate_exit = 0;
			breakpoint_poll(v);
			vm_vcpu_park(v);
			continue;
		}
		if (ret < 0) {
			metrics_inc(METRIC_vcpu_failures);
			fail(v, strerror(-ret)); /* KVM_RUN itself failed */
			break;
		}
		handle_exit(v);
	}
}

void vcpu_kick(struct vcpu *v)
{
	if (v->run)
		v->run->immediate_exit = 1;
	pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}
