// SPDX-License-Identifier: MIT
#include "vm.h"

#include "console.h"
#include "device.h"
#include "kvm.h"
#include "thread.h"
#include "trace.h"
#include "vcpu.h"
#include "x86/kvmclock_trap.h"

#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

static void create_irqchip(struct vm *vm)
{
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};

	kvm_ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, VM_TSS_ADDR);
	uint64_t ident = VM_IDENTITY_MAP_ADDR;
	kvm_ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident);
	kvm_ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0);
	kvm_ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit);
}

static struct kvm_userspace_memory_region slot_region(const struct vm *vm, int i, uint32_t flags)
{
	const struct mem_slot *s = &vm->mem.slots[i];

	return (struct kvm_userspace_memory_region){
	    .slot = (uint32_t)i,
	    .flags = flags,
	    .guest_phys_addr = s->gpa,
	    .memory_size = s->size,
	    .userspace_addr = (uintptr_t)s->host,
	};
}

static void vm_map_memory(struct vm *vm)
{
	for (int i = 0; i < vm->mem.nr_slots; i++) {
		struct kvm_userspace_memory_region r = slot_region(vm, i, 0);

		kvm_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
	}
}

int vm_dirty_log(struct vm *vm, bool on, struct err *e)
{
	for (int i = 0; i < vm->mem.nr_slots; i++) {
		struct kvm_userspace_memory_region r =
		    slot_region(vm, i, on ? KVM_MEM_LOG_DIRTY_PAGES : 0);
		int ret = kvm_ioctl_try(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);

		if (ret < 0)
			return err_set(e, "dirty logging %s for RAM slot %d: %s", on ? "on" : "off",
			               i, strerror(-ret));
	}
	return 0;
}

int vm_dirty_fetch(struct vm *vm, uint64_t *bits, struct err *e)
{
	for (int i = 0; i < vm->mem.nr_slots; i++) {
		const struct mem_slot *s = &vm->mem.slots[i];
		uint64_t pages = s->size / PAGE_SIZE,
		         first = (uint64_t)(s->host - vm->mem.host) / PAGE_SIZE;
		uint64_t *log = calloc((pages + 63) / 64, sizeof(uint64_t));
		struct kvm_dirty_log d = {.slot = (uint32_t)i, .dirty_bitmap = log};
		int ret;

		if (!log)
			return err_set(e, "out of memory for a dirty bitmap");
		ret = kvm_ioctl_try(vm->vm_fd, KVM_GET_DIRTY_LOG, &d);
		if (ret < 0) {
			free(log);
			return err_set(e, "KVM_GET_DIRTY_LOG for RAM slot %d: %s", i,
			               strerror(-ret));
		}
		for (uint64_t w = 0; w < (pages + 63) / 64; w++)
			for (uint64_t v = log[w]; v; v &= v - 1) {
				uint64_t p = first + w * 64 + (uint64_t)__builtin_ctzll(v);

				bits[p / 64] |= 1ULL << (p % 64);
			}
		free(log);
	}
	return 0;
}

void vm_prepare(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->done_fd = -1;
	vm->io.epfd = vm->io.stop_fd = -1;
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
}

int vm_init(struct vm *vm, uint64_t mem_size, const struct mem_opts *opts, struct err *e)
{
	if (mem_layout(&vm->mem, mem_size, e) < 0)
		return -1;
	vm->mem.opts = *opts;
	if (mem_map(&vm->mem, e) < 0)
		return -1;
	return 0;
}

int vm_max_vcpus(int kvm_fd)
{
	int max = kvm_ioctl_try(kvm_fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_MAX_VCPUS);

	/* Without KVM_CAP_MAX_VCPUS, KVM_CAP_NR_VCPUS is the limit too. */
	return max > 0 ? max
	               : kvm_ioctl_try(kvm_fd, KVM_CHECK_EXTENSION,
	                               (void *)(uintptr_t)KVM_CAP_NR_VCPUS);
}

int vm_create_early(struct vm *vm, struct err *e)
{
	uint64_t t0;

	if (vm->vm_fd >= 0)
		return 0;
	vm->kvm_fd = kvm_open();
	t0 = trace_now();
	vm->vm_fd = kvm_ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	trace_kvm_create_vm(trace_now() - t0);
	trace_mark(TRACE_VM_CREATED);
	vm->run_size = kvm_ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm->done_fd = eventfd(0, EFD_CLOEXEC);
	if (vm->done_fd < 0)
		return err_set(e, "eventfd: %m");
	create_irqchip(vm);
	return 0;
}

int vm_create(struct vm *vm, struct err *e)
{
	int max;

	if (vm_create_early(vm, e) < 0)
		return -1;
	if (vm->boot_trace && kvmclock_trap_arm(vm) < 0)
		warnx_("boot trace: this KVM has no MSR filter; linux_start_kernel comes "
		       "only from port 0x80 codes");
	vm_map_memory(vm);
	if (vm->nr_vcpus < 1)
		vm->nr_vcpus = 1;
	max = vm_max_vcpus(vm->kvm_fd);
	if (max > 0 && vm->nr_vcpus > max)
		return err_set(e, "--cpus %d: this KVM allows at most %d vCPUs in a VM",
		               vm->nr_vcpus, max);
	vm->vcpus = calloc((size_t)vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return err_set(e, "no memory for %d vCPUs", vm->nr_vcpus);
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_create(vm, &vm->vcpus[i], i);
	if (evloop_init(&vm->io, e) < 0)
		return -1;
	if (devices_init(vm) < 0)
		return err_set(e, "device set-up failed");
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void vm_destroy(struct vm *vm)
{
	/* vCPUs not made yet have no run area and fd 0 (calloc). */
	for (int i = 0; vm->vcpus && i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i].run)
			munmap(vm->vcpus[i].run, (size_t)vm->run_size);
		if (vm->vcpus[i].run)
			close(vm->vcpus[i].fd);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
	close_fd(&vm->vm_fd);
	close_fd(&vm->kvm_fd);
	close_fd(&vm->done_fd);
	evloop_destroy(&vm->io);
	mem_unmap(&vm->mem);
}

void vm_irq_line(struct vm *vm, uint32_t irq, int level)
{
	struct kvm_irq_level l = {.irq = irq, .level = (uint32_t)level};

	kvm_ioctl_try(vm->vm_fd, KVM_IRQ_LINE, &l);
}

void vm_stop(struct vm *vm, enum vm_exit why, const char *msg)
{
	int running = VM_RUNNING;

	if (!atomic_compare_exchange_strong(&vm->exit, &running, (int)why))
		return;
	snprintf(vm->exit_msg, sizeof(vm->exit_msg), "%s", msg);
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].run)
			vm->vcpus[i].run->immediate_exit = 1;
	/* parked vCPUs wake up to see the stop */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

void vm_vcpu_park(struct vcpu *v)
{
	struct vm *vm = v->vm;

	pthread_mutex_lock(&vm->pause_lock);
	if (vm->pause_req) {
		vm->parked++;
		pthread_cond_broadcast(&vm->pause_cond);
		while (vm->pause_req && atomic_load(&vm->exit) == VM_RUNNING)
			pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
		vm->parked--;
	}
	pthread_mutex_unlock(&vm->pause_lock);
}

int vm_pause(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	if (vm->joining || atomic_load(&vm->exit) != VM_RUNNING) {
		pthread_mutex_unlock(&vm->pause_lock);
		return -1; /* stopping: its vCPU threads may be gone */
	}
	vm->pause_req = true;
	pthread_mutex_unlock(&vm->pause_lock);
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->parked < vm->nr_vcpus && atomic_load(&vm->exit) == VM_RUNNING)
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	pthread_mutex_unlock(&vm->pause_lock);
	return atomic_load(&vm->exit) == VM_RUNNING ? 0 : -1;
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_req = false;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

/* The vCPU this thread runs, for die(). */
static _Thread_local struct vcpu *this_vcpu;

/* Tells the main thread that a vCPU thread has ended. */
static void vcpu_done(struct vcpu *v)
{
	uint64_t one = 1;

	if (write(v->vm->done_fd, &one, sizeof(one)) < 0)
		perror("mote: eventfd");
}

/* die() on a vCPU thread: the VM stops with the message, through the same
 * path as any stop (the main thread joins, flushes, restores the terminal
 * and prints it), and only this thread ends. */
static void vcpu_die(const char *msg)
{
	struct vcpu *v = this_vcpu;

	if (!v)
		return; /* not a vCPU thread: die() exits as usual */
	vm_stop(v->vm, VM_EXIT_ERROR, msg);
	vcpu_done(v);
	pthread_exit(NULL);
}

void vm_vcpu_thread_enter(struct vcpu *v)
{
	this_vcpu = v;
	err_on_die(vcpu_die);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;

	vm_vcpu_thread_enter(v);
	vcpu_loop(v);
	vcpu_done(v);
	return NULL;
}

static void block_signals(void)
{
	sigset_t set;

	console_signals(&set);
	sigaddset(&set, SIGUSR1); /* the vCPU kick, unblocked in vCPU threads */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static int exit_status(struct vm *vm, int sig)
{
	switch ((enum vm_exit)atomic_load(&vm->exit)) {
	case VM_EXIT_REBOOT:
	case VM_EXIT_POWEROFF:
	case VM_EXIT_QUIT: return EXIT_GUEST_ENDED;
	case VM_EXIT_SIGNAL: return 128 + sig;
	case VM_EXIT_MIGRATED: fprintf(stderr, "mote: %s\n", vm->exit_msg); return EXIT_GUEST_ENDED;
	case VM_EXIT_ERROR:
	case VM_RUNNING: break;
	}
	fprintf(stderr, "mote: %s\n", vm->exit_msg);
	return EXIT_ERROR;
}

int vm_run(struct vm *vm)
{
	struct err e;
	int sig;

	block_signals();
	signal(SIGPIPE, SIG_IGN); /* a closed stdout must not kill mote mid-run */
	if (evloop_start(&vm->io, &e) < 0)
		die("%s", e.msg);
	console_raw();
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (thread_start(&vm->vcpus[i].thread, vcpu_thread, &vm->vcpus[i]))
			die("cannot start vCPU thread %d", i);
	/* the API's InstanceStart is answered first: the deferred work (a
	 * symbol lookup in the vmlinux) can take a while */
	if (vm->started)
		vm->started(vm, vm->started_arg);
	if (vm->deferred)
		vm->deferred(vm, vm->deferred_arg);
	sig = console_pump(vm->done_fd);
	if (sig == CONSOLE_QUIT)
		vm_stop(vm, VM_EXIT_QUIT, "quit from the console (Ctrl-A x)");
	else if (sig == CONSOLE_FAILED)
		vm_stop(vm, VM_EXIT_ERROR, "the console failed (see above)");
	else if (sig)
		vm_stop(vm, VM_EXIT_SIGNAL, "stopped by signal");
	/* One vCPU's end (a reset, an error) or a signal ends them all,
	 * wherever each is: running, or halted in the kernel. */
	pthread_mutex_lock(&vm->pause_lock);
	vm->joining = true; /* no pause may kick a vCPU thread from here on */
	pthread_mutex_unlock(&vm->pause_lock);
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (int i = 0; i < vm->nr_vcpus; i++)
		pthread_join(vm->vcpus[i].thread, NULL);
	/* No vCPU kicks a queue any more: the I/O thread can go. */
	evloop_stop(&vm->io);
	if (vm->on_stop)
		vm->on_stop(vm);
	devices_stop(vm);
	console_restore();
	return exit_status(vm, sig);
}
