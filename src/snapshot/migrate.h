/* SPDX-License-Identifier: MIT */
/* Live migration over TCP or a Unix socket: pre-copy rounds with KVM's dirty log (and the pages
 * devices wrote), then stop-and-copy of what is left and the VM's state. Zero pages travel as a
 * record, pages never populated not at all; the receiver never touches a page it did not get. */
#ifndef MOTE_SNAPSHOT_MIGRATE_H
#define MOTE_SNAPSHOT_MIGRATE_H

#include "../err.h"
#include "../vmm.h"

#include <stdint.h>

#define MIGRATE_MAGIC       "MOTEMIGR"
#define MIGRATE_VERSION     1
#define MIGRATE_MAX_PAYLOAD (16u << 20) /* a record's bytes at most */
#define MIGRATE_MAX_ROUNDS  30          /* pre-copy rounds before stop-and-copy anyway */
#define MIGRATE_DOWNTIME_MS 300         /* the default downtime budget */

/* Stream records: struct mig_record, then its payload. */
enum mig_type {
	MIG_HELLO = 1, /* a state file of the configuration and machine only */
	MIG_PAGES,     /* u64 offset into guest RAM, then whole pages */
	MIG_ZERO,      /* u64 offset, u64 pages: they are zero now */
	MIG_STATE,     /* the whole state file (snapshot/stream.h) */
	MIG_END,       /* nothing follows; the receiver answers one byte */
};

/* What a migration did, for the source's report. */
struct migrate_stats {
	uint64_t bytes;       /* sent on the wire */
	uint64_t pages;       /* pages of data sent */
	uint64_t zero_pages;  /* pages sent as zero records */
	int rounds;           /* pre-copy rounds, the first full pass included */
	uint64_t total_ns;    /* from connect to the receiver's answer */
	uint64_t downtime_ns; /* from the vCPUs' pause to the receiver's answer */
};

/* A parsed destination: "tcp:HOST:PORT" or "unix:PATH". */
struct migrate_addr {
	bool unix_socket;
	char host[256];
	char port[16];
	char path[108];
};

/* Writes one record of @type whose payload is @alen bytes of @a then @blen
 * of @b (either may be empty), its CRC over both; adds the bytes sent to
 * *@bytes. -1 with @e if the connection broke. */
int migrate_write_record(int fd, uint32_t type, const void *a, size_t alen, const void *b,
                         size_t blen, uint64_t *bytes, struct err *e);

/* Parses @url into @a; -1 with @e naming what is wrong. */
int migrate_parse_url(const char *url, struct migrate_addr *a, struct err *e);

/* Sends the running VM of @m to @url (PUT /migration/send), on the thread
 * that owns the VMM: pre-copy until what is dirty fits @max_downtime_ms
 * (measured bandwidth) or MIGRATE_MAX_ROUNDS, then the vCPUs stop and the
 * rest and the state go. On success the VM has moved: the caller stops it.
 * On failure (a refused stream, a broken connection) the VM runs on here
 * and -1 comes back with @e. */
int migrate_send(struct vmm *m, const char *url, uint32_t max_downtime_ms, struct migrate_stats *st,
                 struct err *e);

/* Where a received stream goes: @build gets the HELLO state file (taken:
 * freed by it) and returns the guest RAM the pages go into, or NULL with
 * @e; @load gets the STATE file (taken) once the pages are in; -1 with @e. */
struct migrate_sink {
	void *opaque;
	struct guest_mem *(*build)(void *opaque, uint8_t *hello, uint64_t len, struct err *e);
	int (*load)(void *opaque, uint8_t *state, uint64_t len, struct err *e);
};

/* Reads one migration stream from @fd into @sink: the header, then HELLO,
 * pages and zero runs (each within guest RAM; a zero run clears only pages
 * this stream wrote), STATE, END, each record's CRC checked; -1 with @e
 * naming the first thing wrong. Does not answer the sender. */
int migrate_receive_fd(int fd, const struct migrate_sink *sink, struct err *e);

/* Waits on @url for one incoming migration (mote run --incoming) and builds
 * the VM it carries into @m, ready to run; -1 with @e (every record is
 * checked as hostile input; nothing half-built stays). */
int migrate_receive(struct vmm *m, const char *url, struct err *e);

#endif
