/* SPDX-License-Identifier: MIT */
/* What the user asked for beyond the boot: disks, network interfaces, vsock, entropy; the
 * parsers of their command-line words. */
#ifndef MOTE_CONFIG_H
#define MOTE_CONFIG_H

#include "err.h"
#include "mem.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_DISKS 8
#define CONFIG_MAX_NETS  4
#define BLK_ID_LEN       20 /* virtio-blk GET_ID: 20 bytes, NUL-padded */

enum disk_io {
	DISK_IO_AUTO,  /* io_uring where the host allows it, else sync */
	DISK_IO_URING, /* io_uring, or refuse to start */
	DISK_IO_SYNC,  /* preadv/pwritev on the I/O thread */
};

#define CONFIG_DEFAULT_CMDLINE "console=ttyS0"
#define CONFIG_MAX_CPUS        254 /* xAPIC IDs, ACPI's MADT and the MP table */
/* Firecracker's ids (drive_id, iface_id, vsock_id): 1 to 64 of [A-Za-z0-9_], and a NUL */
#define CONFIG_ID_LEN 65

struct disk_config {
	char drive_id[CONFIG_ID_LEN]; /* the API's name for it; "" from the command line */
	bool is_root;                 /* root=/dev/vdX (or PARTUUID=) goes on the command line */
	char partuuid[64];            /* "" for root=/dev/vdX */
	char path[4096];
	bool ro;
	char id[BLK_ID_LEN + 1]; /* "" for a serial made from the file's identity */
	enum disk_io io;
	bool direct;    /* cache=none: reads and writes bypass the host's page cache */
	bool writeback; /* Firecracker's cache_type Writeback (mote honours flushes either way) */
};

struct net_config {
	char iface_id[CONFIG_ID_LEN]; /* the API's name for it; "" from the command line */
	char tap[16];                 /* IFNAMSIZ */
	uint8_t mac[6];
	bool has_mac;
};

struct vsock_config {
	bool on;
	char vsock_id[CONFIG_ID_LEN]; /* Firecracker's optional name, kept for /vm/config */
	uint32_t cid;
	char uds[108]; /* sun_path */
};

struct balloon_config {
	bool on;
	uint32_t amount_mib;               /* the target: MiB the guest should give up */
	bool deflate_on_oom;               /* VIRTIO_BALLOON_F_DEFLATE_ON_OOM */
	uint32_t stats_polling_interval_s; /* 0: no statistics queue */
	bool free_page_reporting;          /* VIRTIO_BALLOON_F_REPORTING (mote's default) */
};

struct vm_devices {
	struct disk_config disks[CONFIG_MAX_DISKS];
	int nr_disks;
	struct net_config nets[CONFIG_MAX_NETS];
	int nr_nets;
	struct vsock_config vsock;
	bool no_rng;
	struct balloon_config balloon;
};

/* Where logs and metrics go (Firecracker's logger and metrics objects). */
struct log_config {
	char path[4096]; /* "" for none */
	int level;       /* enum log_level */
	bool show_level;
	bool show_origin;
};

/* Everything a VM is made from: the command line, a JSON config file and the
 * API all fill this one model; config_check_vm says what is wrong with it. */
struct vm_config {
	char kernel[4096]; /* "" until given */
	char initrd[4096]; /* "" for none */
	char *cmdline;     /* malloc'd; NULL for the default */
	uint64_t mem_size; /* bytes */
	int cpus;
	bool smt;               /* Firecracker's machine-config smt, kept for /vm/config */
	bool track_dirty_pages; /* KVM's dirty log from the start, for Diff snapshots */
	struct mem_opts mem;
	bool no_acpi;
	bool keep_probes; /* no pci=off and the like on the guest's command line */
	bool no_unpack;   /* boot a bzImage as it is, not its kernel unpacked through PVH */
	struct vm_devices devs;
	struct log_config logger;
	char metrics_path[4096]; /* "" for none */
	int trace;               /* 0 off, 1 text, 2 JSON */
	bool verbose;
	bool no_kvm_check;
};

/* Fills @c with the defaults: 128 MiB, 1 vCPU, the balloon on with free page
 * reporting, entropy on. */
void config_init(struct vm_config *c);

/* Frees what @c holds (the command line). */
void config_free(struct vm_config *c);

/* Sets @c's kernel command line to a copy of @s (NULL: the default). */
int config_set_cmdline(struct vm_config *c, const char *s, struct err *e);

/* The command line @c boots with: its own, or the default. */
const char *config_cmdline(const struct vm_config *c);

/* Checks that balloon @b's target fits in @mem_size bytes of guest RAM; -1 with @e. */
int config_check_balloon(const struct balloon_config *b, uint64_t mem_size, struct err *e);

/* Checks a whole configuration before a boot: a kernel given, the memory
 * size (mem_check_size), a vCPU, the balloon (config_check_balloon), the
 * devices (config_check); -1 with @e saying what is wrong. */
int config_check_vm(const struct vm_config *c, struct err *e);

/* The index of the disk called @id: its drive_id, or "diskN" for the Nth
 * disk of the command line (as /vm/config names it); -1 if none. */
int config_find_disk(const struct vm_devices *d, const char *id);

/* Writes how errors name disk @d ("drive 'ID'" or "--disk PATH") into @buf; returns @buf. */
const char *config_disk_name(const struct disk_config *d, char *buf, size_t size);

/* Parses "PATH[,ro][,id=ID][,io=io_uring|sync][,cache=none|writeback]" into @d; -1 with @e naming
 * the word and what is wrong. */
int config_parse_disk(const char *arg, struct disk_config *d, struct err *e);

/* Parses "tap=NAME[,mac=MAC]" into @n; -1 with @e. */
int config_parse_net(const char *arg, struct net_config *n, struct err *e);

/* Parses "cid=N,uds=PATH" into @v (CID 3 up to 2^32-2); -1 with @e. */
int config_parse_vsock(const char *arg, struct vsock_config *v, struct err *e);

/* Checks the devices together: no image given twice (the same file by
 * device and inode, or the same path), one root drive at most, no tap and
 * no MAC twice; -1 with @e naming both. */
int config_check(const struct vm_devices *d, struct err *e);

/* Parses "aa:bb:cc:dd:ee:ff"; -1 if it is not a unicast MAC. */
int config_parse_mac(const char *s, uint8_t mac[6]);

#endif
