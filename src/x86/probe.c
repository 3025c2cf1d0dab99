// SPDX-License-Identifier: MIT
#include "probe.h"

#include "../kvm.h"
#include "../mem.h"
#include "cpu.h"
#include "internal_error.h"
#include "layout.h"
#include "pagetable.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

_Static_assert(PROBE_PML4_ADDR == BOOT_PML4_ADDR, "the probe uses mote's boot page tables");
_Static_assert(PROBE_CODE_ADDR >= BOOT_PD_ADDR + PT_IDENTITY_SIZE / GiB * PAGE_SIZE,
               "probe code above the page tables");
_Static_assert(PROBE_XSAVE_ADDR % 64 == 0, "xsave needs a 64-byte aligned area");

/* Exits a sane probe makes: a dozen. More means something loops. */
#define PROBE_MAX_EXITS 256

struct probe_vm {
	struct guest_mem mem;
	int vm_fd;
	int vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
};

const char *probe_step_name(int step)
{
	static const char *const names[PROBE_STEPS] = {
	    [0] = "before its first instruction",
	    [PROBE_STEP_PROTECTED] = "32-bit protected-mode entry",
	    [PROBE_STEP_CPUID] = "cpuid",
	    [PROBE_STEP_LONG_MODE] = ("switch to long mode (own GDT, CR4.PAE, CR3, EFER.LME by "
	                              "wrmsr, CR0.PG, far jump)"),
	    [PROBE_STEP_MSR] = "privileged MSR write and read (IA32_KERNEL_GS_BASE)",
	    [PROBE_STEP_XSAVE] = "FPU set-up (CR4.OSXSAVE, xsetbv, xgetbv, xsave, xrstor)",
	    [PROBE_STEP_IDT] = "int3 caught by the guest's own IDT (lidt, int3, iretq)",
	    [PROBE_STEP_DONE] = "done",
	};

	return step >= 0 && step < PROBE_STEPS ? names[step] : "an unknown step";
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int probe_ram(struct guest_mem *m, const uint8_t *code, size_t len, struct err *e)
{
	void *p =
	    mmap(NULL, PROBE_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *dst;

	if (p == MAP_FAILED)
		return err_set(e, "probe VM: cannot map %u KiB of RAM: %m", PROBE_RAM_SIZE / 1024);
	*m = (struct guest_mem){.size = PROBE_RAM_SIZE, .host = p, .fd = -1, .nr_slots = 1};
	m->slots[0] = (struct mem_slot){.gpa = 0, .size = PROBE_RAM_SIZE, .host = p};
	dst = guest_ptr(m, PROBE_CODE_ADDR, len);
	if (!dst || !pagetable_build(m) || PROBE_CODE_ADDR + len > PROBE_GDT_ADDR)
		return err_set(e, "probe VM: its code or page tables do not fit in its RAM");
	memcpy(dst, code, len);
	return 0;
}

/* Fails with the name of the call and its error. */
static int setup_failed(struct err *e, const char *what, int ret)
{
	return err_set(e, "probe VM: %s failed: %s", what, strerror(-ret));
}

static int probe_create(struct probe_vm *p, int kvm_fd, struct err *e)
{
	struct kvm_userspace_memory_region r = {.memory_size = PROBE_RAM_SIZE,
	                                        .userspace_addr = (uintptr_t)p->mem.host};
	int ret;

	p->vm_fd = kvm_ioctl_try(kvm_fd, KVM_CREATE_VM, NULL);
	if (p->vm_fd < 0)
		return setup_failed(e, "KVM_CREATE_VM", p->vm_fd);
	ret = kvm_ioctl_try(p->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
	if (ret < 0)
		return setup_failed(e, "KVM_SET_USER_MEMORY_REGION", ret);
	p->vcpu_fd = kvm_ioctl_try(p->vm_fd, KVM_CREATE_VCPU, NULL);
	if (p->vcpu_fd < 0)
		return setup_failed(e, "KVM_CREATE_VCPU", p->vcpu_fd);
	ret = kvm_ioctl_try(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
	if (ret < 0)
		return setup_failed(e, "KVM_GET_VCPU_MMAP_SIZE", ret);
	p->run_size = (size_t)ret;
	p->run = mmap(NULL, p->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, p->vcpu_fd, 0);
	if (p->run == MAP_FAILED) {
		p->run = NULL;
		return err_set(e, "probe VM: cannot map kvm_run: %m");
	}
	ret = cpu_setup_cpuid(kvm_fd, p->vcpu_fd, 0, 1, NULL);
	if (ret < 0)
		return setup_failed(e, "setting its CPUID", ret);
	ret = cpu_enter_flat32(p->vcpu_fd, &p->mem, PROBE_CODE_ADDR, 0);
	return ret < 0 ? setup_failed(e, "setting its registers", ret) : 0;
}

static void probe_destroy(struct probe_vm *p)
{
	if (p->run)
		munmap(p->run, p->run_size);
	if (p->vcpu_fd >= 0)
		close(p->vcpu_fd);
	if (p->vm_fd >= 0)
		close(p->vm_fd);
	if (p->mem.host)
		munmap(p->mem.host, PROBE_RAM_SIZE);
}

/* Says why the probe stopped at an exit it did not expect. */
static void explain_exit(const struct probe_vm *p, struct probe_result *r)
{
	struct kvm_regs regs = {0};
	uint8_t insn[INSN_MAX];
	char what[ERR_MAX - 128];
	size_t len;

	kvm_ioctl_try(p->vcpu_fd, KVM_GET_REGS, &regs);
	switch (p->run->exit_reason) {
	case KVM_EXIT_INTERNAL_ERROR:
		len = internal_error_read_insn(p->vcpu_fd, &p->mem, regs.rip, insn);
		internal_error_describe(p->run, regs.rip, internal_error_long_mode(p->vcpu_fd),
		                        insn, len, NULL, what, sizeof(what));
		break;
	case KVM_EXIT_SHUTDOWN:
		snprintf(what, sizeof(what), "the guest triple-faulted at rip 0x%llx",
		         (unsigned long long)regs.rip);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what),
		         "KVM could not enter the guest (hardware reason 0x%llx)",
		         (unsigned long long)p->run->fail_entry.hardware_entry_failure_reason);
		break;
	default:
		snprintf(what, sizeof(what), "unexpected exit %u at rip 0x%llx",
		         p->run->exit_reason, (unsigned long long)regs.rip);
		break;
	}
	snprintf(r->why, sizeof(r->why), "the probe VM stopped in step %d, %s: %s", r->step,
	         probe_step_name(r->step), what);
}

/* Takes a step code from the probe; returns 1 when the probe has ended. */
static int step_code(struct probe_result *r, uint8_t code)
{
	int step = code & ~(PROBE_WRONG | PROBE_SKIP);

	if (code & PROBE_WRONG) {
		snprintf(r->why, sizeof(r->why), "step %d, %s, ran but gave a wrong result", step,
		         probe_step_name(step));
		return 1;
	}
	if (code & PROBE_SKIP) {
		r->xsave_absent = step == PROBE_STEP_XSAVE;
		return 0;
	}
	r->step = step;
	r->ok = step == PROBE_STEP_DONE;
	return r->ok;
}

/* Handles one exit; returns 1 when the probe has ended. */
static int probe_exit(const struct probe_vm *p, struct probe_result *r)
{
	const struct kvm_run *run = p->run;

	if (run->exit_reason == KVM_EXIT_IO && run->io.port == PROBE_PORT &&
	    run->io.direction == KVM_EXIT_IO_OUT && run->io.size == 1 && run->io.count == 1)
		return step_code(r, *((const uint8_t *)run + run->io.data_offset));
	explain_exit(p, r);
	return 1;
}

/* The probe's time-out: a timer of the calling thread on a signal of its
 * own, so that a timer or alarm mote inherited stays as it was. */
#define PROBE_TIMER_SIGNAL (SIGRTMIN + 1)

static volatile sig_atomic_t timed_out;
static struct kvm_run *volatile timed_run;

static void on_timer(int sig)
{
	(void)sig;
	timed_out = 1;
	if (timed_run)
		timed_run->immediate_exit = 1; /* lost no matter when it comes */
}

struct probe_timer {
	timer_t id;
	bool armed;
	struct sigaction old_action;
	sigset_t old_mask;
};

static int timer_arm(struct probe_timer *t, struct kvm_run *run, int timeout_ms)
{
	struct sigaction sa = {.sa_handler = on_timer};
	struct sigevent ev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = PROBE_TIMER_SIGNAL};
	struct itimerspec when = {.it_value = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L}};
	sigset_t set;

	ev._sigev_un._tid = (pid_t)syscall(SYS_gettid); /* sigev_notify_thread_id */
	timed_out = 0;
	timed_run = run;
	sigaction(PROBE_TIMER_SIGNAL, &sa, &t->old_action); /* no SA_RESTART */
	sigemptyset(&set);
	sigaddset(&set, PROBE_TIMER_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, &t->old_mask);
	t->armed = timer_create(CLOCK_MONOTONIC, &ev, &t->id) == 0;
	return t->armed ? timer_settime(t->id, 0, &when, NULL) : -1;
}

static void timer_disarm(struct probe_timer *t)
{
	if (t->armed)
		timer_delete(t->id);
	pthread_sigmask(SIG_SETMASK, &t->old_mask, NULL);
	sigaction(PROBE_TIMER_SIGNAL, &t->old_action, NULL);
	timed_run = NULL;
}

/* Runs the vCPU until the probe ends, an error, or @timeout_ms. */
static void probe_loop(const struct probe_vm *p, int timeout_ms, struct probe_result *r)
{
	struct probe_timer t;
	int n, ret = 0;

	if (timer_arm(&t, p->run, timeout_ms) < 0) {
		snprintf(r->why, sizeof(r->why), "probe VM: no timer for its time-out: %s",
		         strerror(errno));
		r->timed_out = true; /* a host problem of the moment: not a verdict */
		timer_disarm(&t);
		return;
	}
	for (n = 0; n < PROBE_MAX_EXITS && !timed_out; n++) {
		ret = kvm_ioctl_try(p->vcpu_fd, KVM_RUN, NULL);
		if (ret == -EINTR && !timed_out) {
			p->run->immediate_exit = 0; /* another signal (a stop, a tracer) */
			n--;
			continue;
		}
		if (ret < 0 || probe_exit(p, r))
			break;
	}
	r->timed_out = timed_out;
	timer_disarm(&t);
	if (r->timed_out)
		snprintf(r->why, sizeof(r->why),
		         "the probe VM did not finish in %d ms; it hung in step %d, %s", timeout_ms,
		         r->step, probe_step_name(r->step));
	else if (ret < 0)
		snprintf(r->why, sizeof(r->why), "KVM_RUN failed in step %d, %s: %s", r->step,
		         probe_step_name(r->step), strerror(-ret));
	else if (n == PROBE_MAX_EXITS)
		snprintf(r->why, sizeof(r->why), "the probe VM made over %d exits in step %d, %s",
		         PROBE_MAX_EXITS, r->step, probe_step_name(r->step));
}

int probe_run_code(int kvm_fd, const uint8_t *code, size_t len, int timeout_ms,
                   struct probe_result *r, struct err *e)
{
	struct probe_vm p = {.vm_fd = -1, .vcpu_fd = -1};
	double t0 = now_ms();
	int ret;

	memset(r, 0, sizeof(*r));
	ret = probe_ram(&p.mem, code, len, e);
	if (!ret)
		ret = probe_create(&p, kvm_fd, e);
	if (!ret)
		probe_loop(&p, timeout_ms, r);
	probe_destroy(&p);
	r->ms = now_ms() - t0;
	return ret;
}

int probe_run(int kvm_fd, int timeout_ms, struct probe_result *r, struct err *e)
{
	return probe_run_code(kvm_fd, probe_guest_start, (size_t)probe_guest_size, timeout_ms, r,
	                      e);
}
