/* SPDX-License-Identifier: MIT */
/* mote's state format, for snapshots and migration alike: a header (magic, version, architecture),
 * typed records with lengths, and a CRC32 over everything in an END record. Written into memory,
 * read back from memory with every length checked: the bytes are hostile input. */
#ifndef MOTE_SNAPSHOT_STREAM_H
#define MOTE_SNAPSHOT_STREAM_H

#include "../err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC   "MOTESNAP"
#define SNAP_VERSION 1
#define SNAP_ARCH    1 /* x86-64 */
/* What a state file may hold at most: the largest vCPU set's state is some
 * hundred KiB; a bigger file is not one of mote's. */
#define SNAP_MAX_SIZE    (64u << 20)
#define SNAP_MAX_RECORDS 4096
#define SNAP_HEADER_SIZE 16 /* magic[8], version, arch */
#define SNAP_RECORD_SIZE 16 /* type, instance, length (u64) */
#define SNAP_NAME_MAX    32 /* a device record's name, NUL-padded */

/* Record types. A record's instance is its vCPU's index, or 0. */
enum snap_type {
	SNAP_END = 0,            /* u32 CRC32 of every byte before this record */
	SNAP_CONFIG = 1,         /* the VM's configuration, Firecracker JSON */
	SNAP_MACHINE = 2,        /* struct snap_machine */
	SNAP_CPUID = 3,          /* the vCPUs' CPUID entries (struct kvm_cpuid_entry2[]) */
	SNAP_VCPU_REGS = 10,     /* struct kvm_regs */
	SNAP_VCPU_SREGS,         /* struct kvm_sregs */
	SNAP_VCPU_XSAVE,         /* struct kvm_xsave, 4 KiB or KVM_CAP_XSAVE2's size */
	SNAP_VCPU_XCRS,          /* struct kvm_xcrs */
	SNAP_VCPU_MSRS,          /* struct kvm_msr_entry[] */
	SNAP_VCPU_LAPIC,         /* struct kvm_lapic_state */
	SNAP_VCPU_MP_STATE,      /* struct kvm_mp_state */
	SNAP_VCPU_EVENTS,        /* struct kvm_vcpu_events */
	SNAP_VCPU_DEBUGREGS,     /* struct kvm_debugregs */
	SNAP_VM_PIC_MASTER = 30, /* struct kvm_pic_state */
	SNAP_VM_PIC_SLAVE,       /* struct kvm_pic_state */
	SNAP_VM_IOAPIC,          /* struct kvm_ioapic_state */
	SNAP_VM_PIT,             /* struct kvm_pit_state2 */
	SNAP_VM_CLOCK,           /* struct kvm_clock_data */
	SNAP_DEVICE = 40,        /* name[SNAP_NAME_MAX], then the device's own bytes */
};

/* What the machine was: checked against the restoring host and config. */
struct snap_machine {
	uint64_t mem_size; /* guest RAM bytes */
	uint32_t nr_vcpus;
	uint32_t tsc_khz;    /* the vCPUs' TSC frequency (KVM_GET_TSC_KHZ) */
	char vendor[12];     /* CPUID 0's vendor string */
	uint32_t fms;        /* CPUID 1's EAX: family, model, stepping */
	uint32_t xsave_size; /* bytes of each SNAP_VCPU_XSAVE record */
	uint32_t reserved;
};

/* A state being written: records appended to a growing buffer. */
struct snap_writer {
	uint8_t *buf;
	size_t len, cap;
	bool failed; /* out of memory: snap_finish says so */
};

/* Starts @w with the header. */
void snap_writer_init(struct snap_writer *w);

/* Appends record @type/@instance with @len bytes of @data (padded to 8). */
void snap_put(struct snap_writer *w, uint32_t type, uint32_t instance, const void *data,
              size_t len);

/* Appends a device record: @name, then @len bytes of @data. */
void snap_put_device(struct snap_writer *w, const char *name, const void *data, size_t len);

/* Appends the END record with the CRC; -1 with @e if memory ran out. */
int snap_finish(struct snap_writer *w, struct err *e);

/* Frees @w's buffer. */
void snap_writer_free(struct snap_writer *w);

/* One record of a parsed state. */
struct snap_record {
	uint32_t type, instance;
	const uint8_t *data;
	uint64_t len;
	bool used; /* taken by a loader: snap_check_all_used finds the rest */
};

/* A parsed state: its records point into the caller's buffer. */
struct snap {
	int nr;
	struct snap_record rec[SNAP_MAX_RECORDS];
};

/* Parses @len bytes at @buf (named @what in messages): magic, version,
 * architecture, every record's type and length within the buffer, one
 * END record last whose CRC matches; -1 with @e naming what is wrong. */
int snap_parse(const uint8_t *buf, size_t len, const char *what, struct snap *s, struct err *e);

/* The record @type/@instance of @s, marked used; NULL if there is none. */
struct snap_record *snap_get(struct snap *s, uint32_t type, uint32_t instance);

/* The record of @type/@instance, which must be exactly @len bytes: copied
 * into @out; -1 with @e if it is missing or another size. */
int snap_get_exact(struct snap *s, uint32_t type, uint32_t instance, void *out, size_t len,
                   struct err *e);

/* The device record named @name, marked used, its bytes after the name in
 * @data/@len; NULL if there is none. */
struct snap_record *snap_get_device(struct snap *s, const char *name, const uint8_t **data,
                                    uint64_t *len);

/* -1 with @e naming the first record no loader took (a device or vCPU this
 * VM does not have). */
int snap_check_all_used(const struct snap *s, struct err *e);

/* Reads the whole file @path (at most SNAP_MAX_SIZE bytes) into a new
 * buffer; -1 with @e naming the file and why. */
int snap_read_file(const char *path, uint8_t **buf, size_t *len, struct err *e);

/* Writes @len bytes of @buf to @path through a temporary file renamed over
 * it once synced, so that a failure leaves what was there; -1 with @e. */
int snap_write_file(const char *path, const uint8_t *buf, size_t len, struct err *e);

#endif
