/* SPDX-License-Identifier: MIT */
/* Snapshots: a paused VM's state file (configuration, machine, vCPUs, VM, devices) and its sparse
 * memory file; and the way back, into a VM that vm_create made from the saved configuration. */
#ifndef MOTE_SNAPSHOT_SNAPSHOT_H
#define MOTE_SNAPSHOT_SNAPSHOT_H

#include "../config.h"
#include "../vm.h"
#include "stream.h"

/* What a snapshot took, for the caller's report. */
struct snapshot_stats {
	uint64_t state_bytes; /* the state file */
	uint64_t mem_bytes;   /* data written to the memory file */
	uint64_t save_ns;     /* from the first record to both files synced */
};

/* A state file read and checked, its records not yet applied. */
struct snapshot_file {
	uint8_t *buf;
	size_t len;
	struct snap *snap;
	struct snap_machine machine;
};

/* Appends @vm's whole state (paused: vCPUs parked, devices quiescent) with
 * configuration @cfg to @w; -1 with @e naming the part that failed. */
int snapshot_write_state(struct vm *vm, const struct vm_config *cfg, struct snap_writer *w,
                         struct err *e);

/* Writes @vm's state to @state_path and its memory to @mem_path (each
 * through a temporary file renamed into place): the populated non-zero
 * pages, or for a Diff snapshot the pages set in @diff. -1 with @e. */
int snapshot_save(struct vm *vm, const struct vm_config *cfg, const char *state_path,
                  const char *mem_path, const uint64_t *diff, struct snapshot_stats *st,
                  struct err *e);

/* Parses the state in @buf/@len (taken: freed by snapshot_file_free) into
 * @f and its configuration into @cfg (config_init'ed by the caller): the
 * format, the machine record, a configuration that parses and agrees with
 * it. -1 with @e; nothing is built. */
int snapshot_parse(uint8_t *buf, size_t len, const char *what, struct snapshot_file *f,
                   struct vm_config *cfg, struct err *e);

/* snapshot_parse of the file @path. */
int snapshot_read(const char *path, struct snapshot_file *f, struct vm_config *cfg, struct err *e);

/* Loads @f into @vm (made by vm_create from its configuration, never run):
 * memory from @mem_path (NULL: memory was filled another way), then the VM,
 * every vCPU and every device; a record nothing took is refused. -1 with
 * @e; the caller destroys the VM. */
int snapshot_apply(struct vm *vm, struct snapshot_file *f, const char *mem_path, struct err *e);

/* Frees what snapshot_parse kept. */
void snapshot_file_free(struct snapshot_file *f);

#endif
