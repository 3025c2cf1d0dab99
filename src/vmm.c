// SPDX-License-Identifier: MIT
/*
 * Building and running one VM from a vm_config: what `mote run` does after
 * its options are read, and what the API's InstanceStart does. Errors come
 * back through struct err, so that a bad configuration given over the API
 * is a 400, not an exit.
 */
#include "vmm.h"

#include "boot/boot.h"
#include "boot/cmdline.h"
#include "bus.h"
#include "cachedir.h"
#include "device.h"
#include "fc_config.h"
#include "kvm_check.h"
#include "log.h"
#include "metrics.h"
#include "snapshot/snapshot.h"
#include "trace.h"
#include "vcpu.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"
#include "x86/acpi.h"
#include "x86/breakpoint.h"
#include "x86/irq_report.h"
#include "x86/layout.h"
#include "x86/mptable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vmm_init(struct vmm *m)
{
	memset(m, 0, sizeof(*m));
	config_init(&m->cfg);
	vm_prepare(&m->vm);
}

int vmm_precreate(struct vmm *m, struct err *e)
{
	if (!m->cfg.no_kvm_check && kvm_check_for_run(e) < 0)
		return -1;
	return vm_create_early(&m->vm, e);
}

static void report_load(const struct guest_mem *mem, const struct boot_result *r)
{
	fprintf(stderr, "mote: guest RAM %llu MiB at host [0x%llx, 0x%llx)\n",
	        (unsigned long long)(mem->size / MiB), (unsigned long long)(uintptr_t)mem->host,
	        (unsigned long long)((uintptr_t)mem->host + mem->size));
	fprintf(stderr,
	        "mote: %s boot, entry 0x%llx; kernel %llu KiB mapped, %llu KiB copied; "
	        "initrd at 0x%llx, %llu KiB mapped, %llu KiB copied\n",
	        r->kind == BOOT_PVH ? "PVH" : "bzImage 64-bit", (unsigned long long)r->entry,
	        (unsigned long long)(r->kernel_stats.mapped / KiB),
	        (unsigned long long)(r->kernel_stats.copied / KiB),
	        (unsigned long long)r->initrd_addr,
	        (unsigned long long)(r->initrd_stats.mapped / KiB),
	        (unsigned long long)(r->initrd_stats.copied / KiB));
	if (r->unpack == UNPACK_CACHED || r->unpack == UNPACK_MADE)
		fprintf(stderr,
		        "mote: the bzImage's kernel boots through its PVH entry from %s (%s; "
		        "--no-unpack boots the bzImage as it is)\n",
		        r->unpack_path,
		        r->unpack == UNPACK_MADE ? "decompressed now, once"
		                                 : "decompressed before");
	else if (r->unpack == UNPACK_DECLINED)
		fprintf(stderr,
		        "mote: the bzImage boots as it is (the guest decompresses it): %s\n",
		        r->unpack_note);
}

/* The root drive's words, as Firecracker adds them: "root=/dev/vdX rw", or
 * root=PARTUUID=... for a drive with a partuuid; "" without a root drive. */
static int root_words(const struct vm_devices *d, char *buf, size_t size)
{
	for (int i = 0; i < d->nr_disks; i++) {
		const struct disk_config *k = &d->disks[i];

		if (!k->is_root)
			continue;
		if (k->partuuid[0])
			return snprintf(buf, size, " root=PARTUUID=%s %s", k->partuuid,
			                k->ro ? "ro" : "rw");
		return snprintf(buf, size, " root=/dev/vd%c %s", 'a' + i, k->ro ? "ro" : "rw");
	}
	return 0;
}

/* The guest's command line: the user's, with mote's words before any "--"
 * (what follows is init's): those that keep Linux from probing hardware
 * mote does not have (unless --keep-probes), the devices' (where the
 * virtio-mmio devices are, without ACPI) and the root drive's. */
static const char *guest_cmdline(struct vmm *m, struct boot_config *b, struct err *e)
{
	static char buf[BOOT_CMDLINE_MAX];
	const char *user = config_cmdline(&m->cfg);
	char devices[1024] = "";
	size_t n;

	if (strlen(user) >= sizeof(buf))
		return err_set(e, "command line is too long: %zu bytes", strlen(user)), NULL;
	if (!m->cfg.keep_probes &&
	    cmdline_skip_words(user, devices, sizeof(devices), m->cfg.verbose) < 0)
		return err_set(e, "mote's words do not fit in %zu bytes", sizeof(devices)), NULL;
	if (m->cfg.no_acpi && devices_cmdline(&m->vm, devices, sizeof(devices)) < 0)
		return err_set(e, "the devices' command-line words do not fit in %zu bytes",
		               sizeof(devices)),
		       NULL;
	n = strlen(devices);
	if ((size_t)root_words(&m->cfg.devs, devices + n, sizeof(devices) - n) >=
	    sizeof(devices) - n)
		return err_set(e, "the root drive's words do not fit"), NULL;
	if (cmdline_build(user, devices + (devices[0] == ' '), buf, sizeof(buf), e) < 0)
		return NULL;
	if (strlen(buf) > strlen(user))
		b->cmdline_added = strlen(buf) - strlen(user);
	return buf;
}

static void dsdt_devices(void *opaque, struct aml *a)
{
	devices_aml(opaque, a);
}

/* The ACPI tables, in guest RAM before the kernel goes in. */
static int build_acpi(struct vm *vm, struct boot_config *c, struct err *e)
{
	uint64_t t0 = trace_now();

	c->rsdp = acpi_build(&vm->mem, vm->nr_vcpus, dsdt_devices, vm, e);
	if (!c->rsdp)
		return -1;
	c->acpi_base = ACPI_BASE;
	c->acpi_size = ACPI_SIZE;
	trace_acpi_build(trace_now() - t0);
	return 0;
}

/* Runs beside the guest: finds the breakpoint's target in the vmlinux. */
static void find_breakpoint_target(struct vm *vm, void *kernel)
{
	uint64_t addr = boot_find_init_exec(kernel);

	breakpoint_set_target(&vm->vcpus[0], addr ? addr : BREAKPOINT_NONE);
	vcpu_kick(&vm->vcpus[0]);
}

/* linux_start_user for kernels without the guest kit's codes: a breakpoint
 * on the init-exec function of a PVH vmlinux with symbols. */
static void arm_breakpoint(struct vm *vm, const struct boot_result *r, const char *kernel)
{
	/* an unpacked bzImage's kernel is stripped: no symbol to find */
	if (r->kind != BOOT_PVH || r->unpack == UNPACK_CACHED || r->unpack == UNPACK_MADE ||
	    breakpoint_arm(&vm->vcpus[0], r->entry) < 0)
		return;
	vm->deferred = find_breakpoint_target;
	vm->deferred_arg = (void *)(uintptr_t)kernel;
}

/* Guest RAM, the devices' host side, the command line and the firmware
 * tables: everything before the kernel is loaded. */
/* Guest RAM and the devices' host side: what a boot and a restore share. */
static int plan_platform(struct vmm *m, struct err *e)
{
	struct vm *vm = &m->vm;

	if (vm_init(vm, m->cfg.mem_size, &m->cfg.mem, e) < 0)
		return -1;
	vm->nr_vcpus = m->cfg.cpus;
	vm->no_acpi = m->cfg.no_acpi;
	vm->devs = &m->cfg.devs;
	if (devices_plan(vm) < 0)
		return err_set(e, "the devices cannot be set up: %s", err_last_warning());
	return 0;
}

static int build_platform(struct vmm *m, struct boot_config *b, struct err *e)
{
	struct vm *vm = &m->vm;

	if (plan_platform(m, e) < 0)
		return -1;
	b->kernel = m->cfg.kernel;
	b->initrd = m->cfg.initrd[0] ? m->cfg.initrd : NULL;
	if (!m->cfg.no_unpack) {
		if (cache_dir("vmlinux", m->unpack_dir, sizeof(m->unpack_dir)) < 0)
			m->unpack_dir[0] = '\0';
		b->unpack_dir = m->unpack_dir;
	}
	b->cmdline = guest_cmdline(m, b, e);
	if (!b->cmdline)
		return -1;
	if (!m->cfg.no_acpi)
		return build_acpi(vm, b, e);
	if (!mptable_build(&vm->mem, vm->nr_vcpus, e))
		return -1;
	return 0;
}

/* Dirty page tracking for Diff snapshots (machine-config track_dirty_pages):
 * KVM's dirty log for the vCPUs' writes, mem.dirty for the devices'. */
static int track_start(struct vmm *m, struct err *e)
{
	uint64_t *bits;

	if (!m->cfg.track_dirty_pages)
		return 0;
	bits = calloc((m->vm.mem.size / PAGE_SIZE + 63) / 64, sizeof(uint64_t));
	if (!bits)
		return err_set(e, "out of memory for the dirty page bitmap");
	if (vm_dirty_log(&m->vm, true, e) < 0) {
		free(bits);
		return -1;
	}
	__atomic_store_n(&m->vm.mem.dirty, bits, __ATOMIC_RELEASE);
	return 0;
}

/* Puts pages taken by track_take back, for the next Diff. */
static void track_put_back(struct vmm *m, const uint64_t *bits)
{
	uint64_t words = (m->vm.mem.size / PAGE_SIZE + 63) / 64;

	for (uint64_t w = 0; w < words; w++)
		__atomic_fetch_or(&m->vm.mem.dirty[w], bits[w], __ATOMIC_ACQ_REL);
}

/* The pages written since the last take (KVM's log and the devices') into
 * @bits, both logs cleared; -1 with @e, what was taken put back (a slot's
 * log may have been read before another's failed). */
static int track_take(struct vmm *m, uint64_t *bits, struct err *e)
{
	uint64_t *dev = m->vm.mem.dirty;
	uint64_t words = (m->vm.mem.size / PAGE_SIZE + 63) / 64;

	if (vm_dirty_fetch(&m->vm, bits, e) < 0) {
		track_put_back(m, bits);
		return -1;
	}
	for (uint64_t w = 0; w < words; w++)
		bits[w] |= __atomic_exchange_n(&dev[w], 0, __ATOMIC_ACQ_REL);
	return 0;
}

int vmm_build(struct vmm *m, struct err *e)
{
	struct boot_config b = {0};
	struct boot_result r;

	if (config_check_vm(&m->cfg, e) < 0)
		return -1;
	m->state = VMM_FAILED; /* until the VM is whole */
	if (build_platform(m, &b, e) < 0 || boot_load(&m->vm.mem, &b, &r, e) < 0)
		return -1;
	if (m->cfg.verbose) {
		report_load(&m->vm.mem, &r);
		blk_describe(stderr);
		fprintf(stderr, "mote: guest command line: %s\n", b.cmdline);
	}
	m->vm.boot_trace = m->cfg.trace != 0;
	/* the API made the KVM VM already; the command line makes it here */
	if ((m->vm.vm_fd < 0 && vmm_precreate(m, e) < 0) || vm_create(&m->vm, e) < 0)
		return -1;
	if (track_start(m, e) < 0)
		return -1;
	boot_enter(m->vm.vcpus[0].fd, &m->vm.mem, &r);
	if (m->cfg.trace)
		arm_breakpoint(&m->vm, &r, m->cfg.kernel);
	m->state = VMM_RUNNING;
	log_info("VM built: %d vCPUs, %llu MiB, kernel %s", m->cfg.cpus,
	         (unsigned long long)(m->cfg.mem_size >> 20), m->cfg.kernel);
	return 0;
}

/* -v: a VM stopped from outside (a time limit) may have been waiting on a
 * queue or an interrupt; its devices' queues say which side was, its vCPUs'
 * and IOAPIC's state whether an interrupt was on its way. */
static void report_queues(struct vm *vm)
{
	if (atomic_load(&vm->exit) != VM_EXIT_SIGNAL)
		return;
	virtio_mmio_report(stderr);
	irq_report(stderr, vm);
}

int vmm_run(struct vmm *m, void (*started)(struct vm *vm, void *arg), void *arg)
{
	struct err e;
	int status;

	m->vm.started = started;
	m->vm.started_arg = arg;
	if (m->cfg.metrics_path[0] && metrics_start_timer(&m->vm.io, &e) < 0)
		warnx_("%s", e.msg);
	if (m->cfg.verbose)
		m->vm.on_stop = report_queues;
	status = vm_run(&m->vm);
	if (m->cfg.trace)
		trace_report(stderr, m->cfg.trace == 2);
	/* A PC resets on a triple fault, and so does mote's guest (exit 0); but
	 * Linux reboots through ACPI or the i8042 here, so a triple fault is
	 * most often a guest that crashed past its own handlers: always said. */
	if (!m->cfg.verbose && atomic_load(&m->vm.exit) == VM_EXIT_REBOOT &&
	    strstr(m->vm.exit_msg, "triple fault"))
		fprintf(stderr, "mote: %s\n", m->vm.exit_msg);
	if (m->cfg.verbose)
		fprintf(stderr,
		        "mote: %s; unhandled accesses: %llu port I/O, %llu MMIO; the balloon gave "
		        "back %llu KiB\n",
		        m->vm.exit_msg, (unsigned long long)bus_unhandled(BUS_PIO),
		        (unsigned long long)bus_unhandled(BUS_MMIO),
		        (unsigned long long)(m->vm.balloon_returned / KiB));
	return status;
}

void vmm_destroy(struct vmm *m)
{
	vm_destroy(&m->vm);
	config_free(&m->cfg);
}

int vmm_pause(struct vmm *m, struct err *e)
{
	if (m->state != VMM_RUNNING)
		return err_set(e, "the VM is not running");
	if (vm_pause(&m->vm) < 0) {
		vm_resume(&m->vm); /* no vCPU stays parked for a stopped VM */
		return err_set(e, "the VM is stopping");
	}
	m->state = VMM_PAUSED;
	return 0;
}

int vmm_resume(struct vmm *m, struct err *e)
{
	if (m->state != VMM_PAUSED)
		return err_set(e, "the VM is not paused");
	vm_resume(&m->vm);
	m->state = VMM_RUNNING;
	return 0;
}

int vmm_snapshot(struct vmm *m, const char *state_path, const char *mem_path, bool diff,
                 struct snapshot_stats *st, struct err *e)
{
	uint64_t *bits = NULL;
	int ret = -1;

	if (m->state != VMM_PAUSED)
		return err_set(e, "Create snapshot error: the microVM must be paused first "
		                  "(PATCH /vm {\"state\": \"Paused\"})");
	if (diff && !m->vm.mem.dirty)
		return err_set(e, "Create snapshot error: Diff snapshots need dirty page tracking: "
		                  "machine-config `track_dirty_pages` (or `track_dirty_pages` in "
		                  "PUT /snapshot/load)");
	if (diff && !m->diff_base)
		return err_set(
		    e, "Create snapshot error: a Diff snapshot holds what changed since "
		       "the last snapshot, and this VM has none to build on (none taken or "
		       "restored yet, or a failed migration took the record): take a Full one");
	if (m->vm.mem.dirty) {
		bits = calloc((m->vm.mem.size / PAGE_SIZE + 63) / 64, sizeof(uint64_t));
		if (!bits)
			return err_set(e, "out of memory for the dirty page bitmap");
		/* a Full snapshot does without: the pages stay logged, and the
		 * next Diff holds them too (more than it needs, never less) */
		if (track_take(m, bits, e) < 0) {
			if (diff)
				goto out;
			free(bits);
			bits = NULL;
		}
	}
	if (snapshot_save(&m->vm, &m->cfg, state_path, mem_path, diff ? bits : NULL, st, e) < 0) {
		if (bits)
			track_put_back(m, bits); /* the next Diff still has them */
		goto out;
	}
	m->diff_base = true;
	log_info("%s snapshot %s (%llu bytes), memory %s (%llu bytes of data)",
	         diff ? "Diff" : "Full", state_path, (unsigned long long)st->state_bytes, mem_path,
	         (unsigned long long)st->mem_bytes);
	ret = 0;
out:
	free(bits);
	return ret;
}

/* The VM of @from goes into @to; how mote runs it stays @to's. */
static void take_vm_config(struct vm_config *to, struct vm_config *from)
{
	memcpy(to->kernel, from->kernel, sizeof(to->kernel));
	memcpy(to->initrd, from->initrd, sizeof(to->initrd));
	free(to->cmdline);
	to->cmdline = from->cmdline;
	from->cmdline = NULL;
	to->mem_size = from->mem_size;
	to->cpus = from->cpus;
	to->smt = from->smt;
	/* to->track_dirty_pages stays: the restoring side decides (Firecracker's
	 * load parameter, --track-dirty-pages), not the snapshot */
	to->devs = from->devs;
}

int vmm_restore_build(struct vmm *m, struct vm_config *saved, struct err *e)
{
	if (m->state != VMM_NOT_STARTED)
		return err_set(e, "Loading a microVM snapshot not allowed after configuring "
		                  "boot-specific resources or starting the microVM.");
	if (config_check(&saved->devs, e) < 0)
		return -1;
	take_vm_config(&m->cfg, saved);
	m->state = VMM_FAILED; /* until the VM is whole */
	if (plan_platform(m, e) < 0 || (m->vm.vm_fd < 0 && vmm_precreate(m, e) < 0) ||
	    vm_create(&m->vm, e) < 0) {
		vm_destroy(&m->vm);
		return -1;
	}
	return 0;
}

int vmm_restore_finish(struct vmm *m, struct snapshot_file *f, const char *mem_path, bool resume,
                       struct err *e)
{
	if (snapshot_apply(&m->vm, f, mem_path, e) < 0 || track_start(m, e) < 0) {
		blk_locks(&m->vm, false, NULL); /* another mote may take the images */
		vm_destroy(&m->vm);             /* no half-restored VM stays: its RAM goes back */
		return -1;
	}
	m->state = resume ? VMM_RUNNING : VMM_PAUSED;
	m->vm.pause_req = !resume;
	/* a Diff from here holds what changed since this snapshot's memory file;
	 * a migrated VM has no such file to merge into */
	m->diff_base = mem_path != NULL;
	log_info("VM restored: %d vCPUs, %llu MiB", m->cfg.cpus,
	         (unsigned long long)(m->cfg.mem_size >> 20));
	return 0;
}

int vmm_restore(struct vmm *m, const char *state_path, const char *mem_path, bool resume,
                struct err *e)
{
	struct vm_config *saved;
	struct snapshot_file f;
	int ret = -1;

	if (m->state != VMM_NOT_STARTED)
		return err_set(e, "Loading a microVM snapshot not allowed after configuring "
		                  "boot-specific resources or starting the microVM.");
	saved = malloc(sizeof(*saved));
	if (!saved)
		return err_set(e, "out of memory");
	fc_config_init(saved);
	if (snapshot_read(state_path, &f, saved, e) == 0 && vmm_restore_build(m, saved, e) == 0 &&
	    vmm_restore_finish(m, &f, mem_path, resume, e) == 0)
		ret = 0;
	snapshot_file_free(&f);
	config_free(saved);
	free(saved);
	return ret;
}
