/* SPDX-License-Identifier: MIT */
/* The monitor around one VM: its configuration, its state, and building and running it. */
#ifndef MOTE_VMM_H
#define MOTE_VMM_H

#include "config.h"
#include "err.h"
#include "vm.h"

#include <stdbool.h>

#define MOTE_VERSION "0.1.0"
/* The Firecracker API mote answers as (GET /version). */
#define MOTE_FIRECRACKER_API "1.7.0"

enum vmm_state {
	VMM_NOT_STARTED, /* configuring: the API's PUTs change cfg */
	VMM_RUNNING,
	VMM_PAUSED,
	VMM_FAILED, /* InstanceStart failed after it had built part of the VM */
};

struct vmm {
	struct vm_config cfg; /* what the VM is made from; fixed from InstanceStart */
	struct vm vm;
	enum vmm_state state;  /* changed only by the thread that owns the VMM */
	const char *api_sock;  /* the API socket's path, or NULL */
	uint64_t start_ns;     /* when InstanceStart began (trace_now) */
	bool diff_base;        /* a snapshot was taken or restored since tracking began */
	char unpack_dir[4096]; /* where unpacked bzImage kernels are cached */
};

/* Sets @m up, its configuration with the command line's defaults
 * (config_init), to be filled in place. */
void vmm_init(struct vmm *m);

/* Makes what does not depend on the configuration before it is known:
 * checks the host's KVM (unless asked not to), opens it and creates the VM
 * with its irqchip; -1 with @e. */
int vmm_precreate(struct vmm *m, struct err *e);

/* Builds the VM from m->cfg (checked first with config_check_vm): guest
 * RAM, devices, the command line, ACPI tables or MP table, the kernel and
 * initrd, the vCPUs; -1 with @e if something is wrong (the state becomes
 * VMM_FAILED if part of the VM was built). */
int vmm_build(struct vmm *m, struct err *e);

/* Runs the built VM until the guest ends; @started (may be NULL) is called
 * once the vCPUs run. Returns the process exit status. */
int vmm_run(struct vmm *m, void (*started)(struct vm *vm, void *arg), void *arg);

/* Frees the VM and the configuration. */
void vmm_destroy(struct vmm *m);

/* Parks every vCPU (PATCH /vm Paused); -1 with @e if not running. */
int vmm_pause(struct vmm *m, struct err *e);

/* Lets the parked vCPUs go on (PATCH /vm Resumed); -1 with @e if not paused. */
int vmm_resume(struct vmm *m, struct err *e);

struct snapshot_stats;
struct snapshot_file;

/* Writes the paused VM's state to @state_path and its memory to @mem_path
 * (PUT /snapshot/create): all of it, or with @diff only the pages written
 * since the last snapshot (needs track_dirty_pages). -1 with @e if the VM
 * is not paused or a part of it cannot be saved (nothing is left
 * half-written under either name). */
int vmm_snapshot(struct vmm *m, const char *state_path, const char *mem_path, bool diff,
                 struct snapshot_stats *st, struct err *e);

/* Builds the VM of snapshot @state_path with the memory of @mem_path, in
 * place of a boot (PUT /snapshot/load, --restore): its configuration comes
 * from the snapshot; how mote runs it (memory backend, logger, metrics,
 * trace) stays m->cfg's. Paused unless @resume. -1 with @e: a snapshot
 * refused before anything is built leaves the VMM as it was (not started). */
int vmm_restore(struct vmm *m, const char *state_path, const char *mem_path, bool resume,
                struct err *e);

/* The first half of a restore: the VM @saved (a snapshot's configuration,
 * taken) describes, made but not loaded; -1 with @e (and nothing built). */
int vmm_restore_build(struct vmm *m, struct vm_config *saved, struct err *e);

/* The second half: loads @f into the VM vmm_restore_build made, its memory
 * from @mem_path unless NULL (a migration wrote it); -1 with @e and the VM
 * destroyed. */
int vmm_restore_finish(struct vmm *m, struct snapshot_file *f, const char *mem_path, bool resume,
                       struct err *e);

#endif
