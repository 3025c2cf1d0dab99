/* SPDX-License-Identifier: MIT */
/* The virtual machine: KVM VM with in-kernel irqchip and PIT, guest RAM, vCPUs. */
#ifndef MOTE_VM_H
#define MOTE_VM_H

#include "err.h"
#include "evloop.h"
#include "mem.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>

/* Addresses KVM needs for Intel's real-mode emulation, inside the MMIO hole. */
#define VM_TSS_ADDR          0xfffbd000ULL
#define VM_IDENTITY_MAP_ADDR 0xfffbc000ULL

enum vm_exit {
	VM_RUNNING = 0,
	VM_EXIT_REBOOT,   /* guest reset: i8042, triple fault, system event */
	VM_EXIT_POWEROFF, /* guest powered off or halted for good */
	VM_EXIT_SIGNAL,   /* mote was told to stop */
	VM_EXIT_QUIT,     /* the user quit from the console (Ctrl-A x) */
	VM_EXIT_ERROR,    /* KVM or the guest failed */
	VM_EXIT_MIGRATED, /* the VM moved to another mote */
};

struct kvm_run;

/* Where a vCPU's init-exec breakpoint stands (x86/breakpoint.c). */
enum vcpu_bp { VCPU_BP_OFF, VCPU_BP_PROBING, VCPU_BP_WAITING, VCPU_BP_ARMED };

struct vcpu {
	struct vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	uint8_t last_pio; /* first data byte of the previous port access */
	uint8_t bp_state; /* enum vcpu_bp */
	uint64_t bp_probe;
	_Atomic uint64_t bp_target; /* 0 until known */
};

struct vm {
	int kvm_fd;
	int vm_fd;
	int run_size;
	struct guest_mem mem;
	int nr_vcpus;       /* set before vm_create: 1 up to KVM's limit */
	struct vcpu *vcpus; /* nr_vcpus of them, from vm_create */
	_Atomic int exit;   /* enum vm_exit, first writer wins */
	char exit_msg[ERR_MAX];
	int done_fd;               /* eventfd, signalled when the vCPUs stop */
	bool boot_trace;           /* trap the kvm-clock MSR for linux_start_kernel */
	bool no_acpi;              /* devices on the command line, vCPUs in an MP table */
	bool incoming;             /* a migration brings it: disks locked on arrival */
	int virtio_slots;          /* virtio-mmio slots taken (virtio_mmio_slot_alloc) */
	struct evloop io;          /* the I/O thread's loop: every device's fds */
	struct vm_devices *devs;   /* what the user asked for: disks, nets, vsock, rng */
	uint64_t balloon_returned; /* bytes the balloon gave back, at stop */
	/* Called when the vCPUs and the I/O thread have stopped, before the
	 * devices do (NULL: nothing): what they were doing can still be read. */
	void (*on_stop)(struct vm *vm);
	/* Work that waits until the vCPUs run; called once by vm_run. */
	void (*deferred)(struct vm *vm, void *arg);
	void *deferred_arg;
	/* Told once the vCPUs run (the API answers InstanceStart); may be NULL. */
	void (*started)(struct vm *vm, void *arg);
	void *started_arg;
	/* Pause: vCPUs park on pause_cond while pause_req (vm_pause). */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool pause_req;
	bool joining; /* vm_run is joining the vCPU threads: no more kicks */
	int parked;   /* vCPUs parked now */
};

/* The most vCPUs this KVM allows in a VM (KVM_CAP_MAX_VCPUS), or -errno. */
int vm_max_vcpus(int kvm_fd);

/* Zeroes @vm and marks every fd it will own as not open. */
void vm_prepare(struct vm *vm);

/* Opens KVM and makes the VM with its in-kernel irqchip and PIT, before
 * anything else is known (the API does it before its first request, so
 * KVM_CREATE_VM's latency is not paid at InstanceStart); no-op if done. */
int vm_create_early(struct vm *vm, struct err *e);

/* Lays out and maps @mem_size bytes of guest RAM with @opts into a
 * vm_prepare'd @vm, so that the boot loader can fill it. */
int vm_init(struct vm *vm, uint64_t mem_size, const struct mem_opts *opts, struct err *e);

/* Creates the KVM VM over the RAM of vm_init (unless vm_create_early
 * made it), with the in-kernel irqchip and PIT, nr_vcpus vCPUs (vCPU 0 boots, the others wait in
 * their LAPIC for INIT and SIPI), and every registered device; -1 with @e if KVM allows fewer
 * vCPUs. */
int vm_create(struct vm *vm, struct err *e);

/* Frees what vm_create and vm_init made: the vCPUs (their fds and run
 * areas), the VM and KVM fds, the done eventfd and guest RAM. */
void vm_destroy(struct vm *vm);

/* Sets the level of interrupt line @irq (GSI) to @level. */
void vm_irq_line(struct vm *vm, uint32_t irq, int level);

/* Asks the VM to stop with @why; the first request decides the outcome. */
void vm_stop(struct vm *vm, enum vm_exit why, const char *msg);

/* Parks every vCPU at a point where its state can be read and returns 0
 * when all are parked; -1 if the VM is stopping (or stops meanwhile). The
 * I/O thread goes on. */
int vm_pause(struct vm *vm);

/* Lets the vCPUs that vm_pause parked run again. */
void vm_resume(struct vm *vm);

/* On a vCPU thread after a kick: waits while the VM is paused. */
void vm_vcpu_park(struct vcpu *v);

/* Marks the calling thread as @v's: a die() on it then stops the VM with
 * its message and ends the thread, instead of exiting mote. */
void vm_vcpu_thread_enter(struct vcpu *v);

/* Turns KVM's dirty log on or off for every RAM slot (a migration); -1
 * with @e naming what KVM refused. */
int vm_dirty_log(struct vm *vm, bool on, struct err *e);

/* ORs into @bits (one bit per page of the host mapping of guest RAM) the
 * pages the vCPUs wrote since the last call, and clears KVM's log; -1 with
 * @e. */
int vm_dirty_fetch(struct vm *vm, uint64_t *bits, struct err *e);

/* Runs the vCPUs until the guest stops and forwards stdin to the console
 * meanwhile; returns the process exit status (0 on reboot or poweroff). */
int vm_run(struct vm *vm);

#endif
