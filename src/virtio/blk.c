// SPDX-License-Identifier: MIT
/* virtio-blk (virtio 1.2, 5.2): raw images and block devices, one queue per vCPU, requests
 * served on the I/O thread through io_uring (completions come back on an eventfd in the loop)
 * or with preadv/pwritev there ("io=sync"). */
#include "../block/disk.h"
#include "../device.h"
#include "../err.h"
#include "../snapshot/stream.h"
#include "../metrics.h"
#include "../vm.h"
#include "blk.h"
#include "blk_req.h"
#include "mmio.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#define VIRTIO_ID_BLOCK 2

#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_MQ           12
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define URING_DEPTH 128

/* virtio_blk_config, the fields mote fills (little-endian). */
enum {
	CFG_CAPACITY = 0,
	CFG_SEG_MAX = 12,
	CFG_BLK_SIZE = 20,
	CFG_NUM_QUEUES = 34,
	CFG_MAX_DISCARD_SECTORS = 36,
	CFG_MAX_DISCARD_SEG = 40,
	CFG_DISCARD_ALIGN = 44,
	CFG_MAX_WZ_SECTORS = 48,
	CFG_MAX_WZ_SEG = 52,
	CFG_WZ_MAY_UNMAP = 56,
	CFG_SIZE = 60,
};

/* A request handed to io_uring, until its completion. */
struct inflight {
	uint8_t *status;
	uint32_t written;
	uint64_t len; /* bytes the read or write must move */
	uint64_t off;
	uint16_t gen; /* the device's reset generation when it went in */
	uint8_t type; /* BLK_T_IN, BLK_T_OUT or BLK_T_FLUSH */
	bool busy;
	bool write;
	int niov;
	struct iovec *iov; /* its slot in struct blk's iovs: stable until completion */
};

struct blk {
	struct virtio_mmio dev;
	struct virtio_ops ops;
	struct disk disk;
	const struct disk_config *cfg;
	int slot;
	bool uring;
	struct io_uring ring;
	struct ev_source done; /* the ring's completion eventfd */
	unsigned queued;       /* SQEs not yet submitted */
	unsigned pending;      /* requests in the ring */
	uint16_t gen;          /* bumped by each reset: older completions are dropped */
	char name[48];         /* "blk FILE", in messages */
	char why_sync[96];     /* why io=auto fell back to sync, for --verbose */
	struct inflight inflight[VIRTIO_MAX_QUEUES][VIRTQ_MAX_SIZE];
	/* BLK_MAX_BUFS iovecs per queue entry (calloc: pages are touched only
	 * as requests use them) */
	struct iovec *iovs;
};

static struct blk *blks;
static int nr_blks;

static void put32(uint8_t *cfg, int off, uint32_t v)
{
	memcpy(cfg + off, &v, 4);
}

static void fill_config(struct blk *b)
{
	uint8_t *c = b->dev.config;
	uint64_t sectors = b->disk.size / DISK_SECTOR;
	uint16_t nq = (uint16_t)b->ops.nr_queues;

	memcpy(c + CFG_CAPACITY, &sectors, 8);
	put32(c, CFG_SEG_MAX, BLK_SEG_MAX);
	put32(c, CFG_BLK_SIZE, DISK_SECTOR);
	memcpy(c + CFG_NUM_QUEUES, &nq, 2);
	put32(c, CFG_MAX_DISCARD_SECTORS, BLK_DISCARD_MAX);
	put32(c, CFG_MAX_DISCARD_SEG, BLK_DISCARD_SEGS);
	put32(c, CFG_DISCARD_ALIGN, 8); /* 4 KiB: the host's page, a hole's grain */
	put32(c, CFG_MAX_WZ_SECTORS, BLK_DISCARD_MAX);
	put32(c, CFG_MAX_WZ_SEG, BLK_DISCARD_SEGS);
	c[CFG_WZ_MAY_UNMAP] = 1;
}

static uint64_t total_len(const struct iovec *iov, int n)
{
	uint64_t t = 0;

	for (int i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/* Moves all of [off, +len) between the image and @iov (preadv/pwritev may
 * move less than asked); -1 on an error or end of file. */
static int rw_all(int fd, struct iovec *iov, int niov, uint64_t off, bool write)
{
	while (niov > 0) {
		ssize_t n =
		    write ? pwritev(fd, iov, niov, (off_t)off) : preadv(fd, iov, niov, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (uint64_t)n;
		while (niov > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			niov--;
		}
		if (niov > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* Writes zeros over [off, +len) the slow way, for a file system without
 * FALLOC_FL_ZERO_RANGE (9p, NFS, some FUSE); -1 on a write error. */
static int write_zeroes(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zero[64 * 1024]; /* bss: the host's zero page */
	struct iovec iov[16];

	for (int i = 0; i < 16; i++)
		iov[i] = (struct iovec){(void *)zero, sizeof(zero)};
	while (len) {
		uint64_t chunk = len < sizeof(zero) * 16 ? len : sizeof(zero) * 16;
		int n = (int)((chunk + sizeof(zero) - 1) / sizeof(zero));

		iov[n - 1].iov_len = chunk - (uint64_t)(n - 1) * sizeof(zero);
		if (rw_all(fd, iov, n, off, true) < 0)
			return -1;
		iov[n - 1].iov_len = sizeof(zero);
		off += chunk;
		len -= chunk;
	}
	return 0;
}

static int do_ranges(struct blk *b, const struct blk_req *r)
{
	for (int i = 0; i < r->nranges; i++) {
		const struct blk_range *g = &r->ranges[i];
		int mode = FALLOC_FL_KEEP_SIZE;

		if (r->type == BLK_T_DISCARD || (g->flags & BLK_WZ_UNMAP))
			mode |= FALLOC_FL_PUNCH_HOLE;
		else
			mode |= FALLOC_FL_ZERO_RANGE;
		if (fallocate(b->disk.fd, mode, (off_t)(g->sector * DISK_SECTOR),
		              (off_t)(g->sectors * DISK_SECTOR)) == 0)
			continue;
		/* A discard is a hint: a host that cannot punch holes loses
		 * nothing. Zeroes must be written, by hand if need be. */
		if (errno != EOPNOTSUPP && errno != ENOSYS)
			return BLK_S_IOERR;
		if (r->type == BLK_T_WRITE_ZEROES &&
		    write_zeroes(b->disk.fd, g->sector * DISK_SECTOR, g->sectors * DISK_SECTOR) < 0)
			return BLK_S_IOERR;
	}
	return BLK_S_OK;
}

static int do_get_id(struct blk *b, const struct blk_req *r)
{
	uint8_t id[BLK_ID_LEN] = {0};
	size_t left = sizeof(id), at = 0;

	memcpy(id, b->disk.serial, strnlen(b->disk.serial, BLK_ID_LEN));
	for (int i = 0; i < r->niov && left; i++) {
		size_t n = r->iov[i].iov_len < left ? r->iov[i].iov_len : left;

		memcpy(r->iov[i].iov_base, id + at, n);
		at += n;
		left -= n;
	}
	return BLK_S_OK;
}

/* Counts a request of @type moving @len bytes that ended with status @st. */
static void count(uint32_t type, uint64_t len, int st)
{
	if (st != BLK_S_OK) {
		metrics_inc(METRIC_block_io_errors);
		return;
	}
	switch (type) {
	case BLK_T_IN:
		metrics_inc(METRIC_block_read_count);
		metrics_add(METRIC_block_read_bytes, len);
		break;
	case BLK_T_OUT:
		metrics_inc(METRIC_block_write_count);
		metrics_add(METRIC_block_write_bytes, len);
		break;
	case BLK_T_FLUSH: metrics_inc(METRIC_block_flush_count); break;
	default: break;
	}
}

/* Serves @r at once, on this thread; returns its status. */
static int do_sync(struct blk *b, struct blk_req *r)
{
	switch (r->type) {
	case BLK_T_IN:
	case BLK_T_OUT:
		return rw_all(disk_rw_fd(&b->disk, r->iov, r->niov, r->sector * DISK_SECTOR),
		              r->iov, r->niov, r->sector * DISK_SECTOR, r->type == BLK_T_OUT) < 0
		           ? BLK_S_IOERR
		           : BLK_S_OK;
	case BLK_T_FLUSH: return fdatasync(b->disk.fd) < 0 ? BLK_S_IOERR : BLK_S_OK;
	case BLK_T_GET_ID: return do_get_id(b, r);
	default: return do_ranges(b, r);
	}
}

static void submit(struct blk *b)
{
	if (b->queued && io_uring_submit(&b->ring) >= 0)
		b->queued = 0;
}

/* Fills @sqe for @r, whose data is in @iov. */
static void prep(struct blk *b, struct io_uring_sqe *sqe, const struct blk_req *r,
                 const struct iovec *iov)
{
	uint64_t off = r->sector * DISK_SECTOR;
	int fd = disk_rw_fd(&b->disk, iov, r->niov, off);

	if (r->type == BLK_T_IN)
		io_uring_prep_readv(sqe, fd, iov, (unsigned)r->niov, off);
	else if (r->type == BLK_T_OUT)
		io_uring_prep_writev(sqe, fd, iov, (unsigned)r->niov, off);
	else
		io_uring_prep_fsync(sqe, b->disk.fd, IORING_FSYNC_DATASYNC);
}

/* Hands @r to io_uring; false if the ring is full (then it is served at once). */
static bool do_uring(struct blk *b, int q, uint16_t head, struct blk_req *r)
{
	struct inflight *f = &b->inflight[q][head];
	struct io_uring_sqe *sqe;

	if (f->busy || (r->type != BLK_T_IN && r->type != BLK_T_OUT && r->type != BLK_T_FLUSH))
		return false;
	sqe = io_uring_get_sqe(&b->ring);
	if (!sqe) {
		submit(b);
		sqe = io_uring_get_sqe(&b->ring);
	}
	if (!sqe)
		return false;
	*f = (struct inflight){
	    .status = r->status,
	    .written = r->written,
	    .len = r->type == BLK_T_FLUSH ? 0 : r->len,
	    .off = r->sector * DISK_SECTOR,
	    .gen = b->gen,
	    .type = (uint8_t)r->type,
	    .busy = true,
	    .write = r->type == BLK_T_OUT,
	    .niov = r->niov,
	    .iov = b->iovs + ((size_t)q * VIRTQ_MAX_SIZE + head) * BLK_MAX_BUFS,
	};
	/* The kernel may read the iovecs after this request's submission
	 * (a submit that failed leaves it queued): they live in the slot. */
	memcpy(f->iov, r->iov, (size_t)r->niov * sizeof(*f->iov));
	prep(b, sqe, r, f->iov);
	io_uring_sqe_set_data64(sqe, (uint64_t)b->gen << 32 | (uint64_t)q << 16 | head);
	b->queued++;
	b->pending++;
	return true;
}

/* Pops and serves every request on queue @q; false if the queue is broken. */
static bool serve(struct blk *b, int q)
{
	struct virtq *vq = &b->dev.q[q];
	const struct blk_limits lim = {b->disk.size / DISK_SECTOR, b->disk.ro};
	struct virtq_buf bufs[BLK_MAX_BUFS];
	struct blk_req r;
	struct err e;
	uint16_t head;
	int n = 0, st;

	while (atomic_load(&b->dev.vm->exit) == VM_RUNNING &&
	       (n = virtq_pop(vq, &b->dev.vm->mem, bufs, BLK_MAX_BUFS, &head, &e)) > 0) {
		st = blk_req_parse(&b->dev.vm->mem, bufs, n, &lim, &r);
		if (st < 0) {
			virtio_mmio_fail(&b->dev, "a request without a status byte");
			return false;
		}
		if (st != BLK_S_OK)
			metrics_inc(METRIC_block_invalid_reqs_count);
		if (st == BLK_S_OK && b->uring && do_uring(b, q, head, &r))
			continue;
		if (st == BLK_S_OK) {
			st = do_sync(b, &r);
			count(r.type, r.len, st);
		}
		*r.status = (uint8_t)st;
		if (virtq_push(vq, &b->dev.vm->mem, head, st == BLK_S_OK ? r.written : 1, &e) < 0)
			n = -1;
	}
	if (n < 0) {
		char why[ERR_MAX + 32];

		snprintf(why, sizeof(why), "queue %d: %s", q, e.msg);
		virtio_mmio_fail(&b->dev, why);
	}
	submit(b); /* the batch: one io_uring_enter for every request popped */
	return n >= 0;
}

static void blk_notify(struct virtio_mmio *d, int q)
{
	struct blk *b = d->opaque;
	uint16_t old = d->q[q].used_idx;

	serve(b, q);
	virtio_mmio_used(d, q, old);
}

/* A transfer io_uring cut short (it may): the rest, at once. */
static bool finish_short(struct blk *b, struct inflight *f, uint64_t done)
{
	struct iovec *iov = f->iov;
	int n = f->niov;

	while (n > 0 && done >= iov->iov_len) {
		done -= iov->iov_len;
		iov++;
		n--;
	}
	if (n > 0) {
		iov->iov_base = (uint8_t *)iov->iov_base + done;
		iov->iov_len -= done;
	}
	return rw_all(b->disk.fd, iov, n, f->off + (f->len - total_len(iov, n)), f->write) == 0;
}

/* Finishes one io_uring completion: status, used ring. */
static void complete(struct blk *b, const struct io_uring_cqe *cqe)
{
	uint64_t tag = io_uring_cqe_get_data64(cqe);
	int q = (int)((tag >> 16) & 0xffff) % VIRTIO_MAX_QUEUES;
	uint16_t head = (uint16_t)tag;
	struct inflight *f = &b->inflight[q][head % VIRTQ_MAX_SIZE];
	bool ok = cqe->res >= 0 && (uint64_t)cqe->res == f->len;
	struct err e;

	if (!f->busy || f->gen != (uint16_t)(tag >> 32))
		return; /* from before a reset: its slot is another request's now */
	f->busy = false;
	b->pending--;
	if (!ok && cqe->res > 0 && (uint64_t)cqe->res < f->len)
		ok = finish_short(b, f, (uint64_t)cqe->res);
	count(f->type, f->len, ok ? BLK_S_OK : BLK_S_IOERR);
	if (!b->dev.q[q].ready || (b->dev.status & VIRTIO_STATUS_NEEDS_RESET))
		return; /* the driver stopped the queue meanwhile */
	/* what io_uring wrote into guest RAM, for a migration (KVM does not see it) */
	for (int i = 0; i < f->niov; i++)
		mem_mark_dirty_host(&b->dev.vm->mem, f->iov[i].iov_base, f->iov[i].iov_len);
	mem_mark_dirty_host(&b->dev.vm->mem, f->status, 1);
	*f->status = ok ? BLK_S_OK : BLK_S_IOERR;
	if (virtq_push(&b->dev.q[q], &b->dev.vm->mem, head, ok ? f->written : 1, &e) < 0)
		virtio_mmio_fail(&b->dev, e.msg);
}

/* Reaps every completion; interrupts each queue that got some. */
static void reap(struct blk *b)
{
	uint16_t old[VIRTIO_MAX_QUEUES];
	struct io_uring_cqe *cqe;

	for (int q = 0; q < b->ops.nr_queues; q++)
		old[q] = b->dev.q[q].used_idx;
	while (io_uring_peek_cqe(&b->ring, &cqe) == 0) {
		complete(b, cqe);
		io_uring_cqe_seen(&b->ring, cqe);
	}
	for (int q = 0; q < b->ops.nr_queues; q++)
		if (b->dev.q[q].ready)
			virtio_mmio_used(&b->dev, q, old[q]);
}

static void on_done(void *opaque, uint32_t events)
{
	struct blk *b = opaque;
	uint64_t n;

	(void)events;
	if (read(b->done.fd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&b->dev.lock);
	reap(b);
	pthread_mutex_unlock(&b->dev.lock);
}

/* The driver reset the device: the requests still in io_uring write into
 * buffers the guest will reuse, so they finish before the reset does; any
 * that cannot (an io_uring error) are disowned by the generation bump. */
static void blk_reset(struct virtio_mmio *d)
{
	struct blk *b = d->opaque;
	struct io_uring_cqe *cqe;

	while (b->uring && b->pending) {
		int r = io_uring_submit_and_wait(&b->ring, 1);

		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY)
			break;
		b->queued = 0;
		while (io_uring_peek_cqe(&b->ring, &cqe) == 0) {
			uint64_t tag = io_uring_cqe_get_data64(cqe);
			struct inflight *f =
			    &b->inflight[((tag >> 16) & 0xffff) % VIRTIO_MAX_QUEUES]
			                [(uint16_t)tag % VIRTQ_MAX_SIZE];

			if (f->busy && f->gen == (uint16_t)(tag >> 32)) {
				f->busy = false;
				b->pending--;
			}
			io_uring_cqe_seen(&b->ring, cqe);
		}
	}
	for (int q = 0; q < VIRTIO_MAX_QUEUES; q++)
		for (int h = 0; h < VIRTQ_MAX_SIZE; h++)
			b->inflight[q][h].busy = false;
	b->pending = 0;
	b->gen++;
}

/* io_uring with its completions on an eventfd in the loop; false if this
 * host refuses it (old kernel, io_uring disabled, seccomp). */
static bool uring_open(struct blk *b)
{
	struct io_uring_params p = {
	    .flags = IORING_SETUP_CQSIZE,
	    .cq_entries = VIRTIO_MAX_QUEUES * VIRTQ_MAX_SIZE, /* every request in flight */
	};
	int r = io_uring_queue_init_params(URING_DEPTH, &b->ring, &p);

	if (r < 0) {
		snprintf(b->why_sync, sizeof(b->why_sync), "io_uring_setup: %s%s", strerror(-r),
		         r == -ENOMEM  ? " (RLIMIT_MEMLOCK, on kernels before 5.12)"
		         : r == -EPERM ? " (kernel.io_uring_disabled, or a seccomp filter)"
		                       : "");
		return false;
	}
	snprintf(b->why_sync, sizeof(b->why_sync), "this kernel's io_uring lacks what mote uses");
	b->done = (struct ev_source){eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), on_done, b};
	if (!(p.features & IORING_FEAT_SUBMIT_STABLE) || b->done.fd < 0 ||
	    io_uring_register_eventfd(&b->ring, b->done.fd) < 0) {
		if (b->done.fd >= 0)
			close(b->done.fd);
		io_uring_queue_exit(&b->ring);
		return false;
	}
	return true;
}

static const char *engine_name(const struct blk *b)
{
	return b->uring ? "io_uring" : "sync";
}

#define IOVS_BYTES \
	((size_t)VIRTIO_MAX_QUEUES * VIRTQ_MAX_SIZE * BLK_MAX_BUFS * sizeof(struct iovec))

/* The in-flight requests' iovec slots: 8 MiB of address space, of which a
 * request touches the page or two its slot lies in; never huge pages,
 * which would make that 2 MiB. */
static struct iovec *iovs_map(void)
{
	void *p =
	    mmap(NULL, IOVS_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, IOVS_BYTES, MADV_NOHUGEPAGE);
	return p;
}

static int blk_plan_one(struct vm *vm, struct blk *b, const struct disk_config *c)
{
	struct err e;

	const char *base = strrchr(c->path, '/');

	b->cfg = c;
	b->disk.fd = -1;
	b->done.fd = -1;
	snprintf(b->name, sizeof(b->name), "blk %.40s", base ? base + 1 : c->path);
	if ((vm->incoming ? disk_open_unlocked(&b->disk, c, &e) : disk_open(&b->disk, c, &e)) < 0) {
		warnx_("%s", e.msg);
		return -1;
	}
	b->slot = virtio_mmio_slot_alloc(vm, c->path);
	if (b->slot < 0)
		return -1;
	if (c->io != DISK_IO_SYNC) {
		b->iovs = iovs_map();
		b->uring = b->iovs && uring_open(b);
	}
	if (c->io == DISK_IO_URING && !b->uring) {
		warnx_("--disk %s,io=io_uring: this host refuses io_uring (%s); use io=sync",
		       c->path, b->why_sync);
		return -1;
	}
	return 0;
}

static int blk_plan(struct vm *vm)
{
	int n = vm->devs ? vm->devs->nr_disks : 0;

	if (!n)
		return 0;
	blks = calloc((size_t)n, sizeof(*blks));
	if (!blks) {
		warnx_("no memory for %d disks", n);
		return -1;
	}
	nr_blks = n;
	for (int i = 0; i < n; i++)
		if (blk_plan_one(vm, &blks[i], &vm->devs->disks[i]) < 0)
			return -1;
	return 0;
}

static uint64_t blk_features(const struct blk *b)
{
	uint64_t f = 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
	             1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_DISCARD |
	             1ULL << VIRTIO_BLK_F_WRITE_ZEROES | 1ULL << VIRTIO_F_EVENT_IDX |
	             1ULL << VIRTIO_F_INDIRECT_DESC;

	if (b->ops.nr_queues > 1)
		f |= 1ULL << VIRTIO_BLK_F_MQ;
	if (b->disk.ro)
		f |= 1ULL << VIRTIO_BLK_F_RO;
	return f;
}

static int blk_init(struct vm *vm)
{
	for (int i = 0; i < nr_blks; i++) {
		struct blk *b = &blks[i];
		struct err e;

		b->ops = (struct virtio_ops){
		    .name = b->name,
		    .device_id = VIRTIO_ID_BLOCK,
		    .nr_queues =
		        vm->nr_vcpus < VIRTIO_MAX_QUEUES ? vm->nr_vcpus : VIRTIO_MAX_QUEUES,
		    .config_size = CFG_SIZE,
		    .notify = blk_notify,
		    .reset = blk_reset,
		};
		if (b->ops.nr_queues < 1)
			b->ops.nr_queues = 1;
		b->ops.features = blk_features(b);
		if (virtio_mmio_init(&b->dev, vm, b->slot, &b->ops, b, &e) < 0) {
			warnx_("--disk %s: %s", b->cfg->path, e.msg);
			return -1;
		}
		fill_config(b);
		if (b->uring && evloop_add(&vm->io, &b->done, EPOLLIN) < 0) {
			warnx_("--disk %s: epoll: %s", b->cfg->path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void blk_stop(struct vm *vm)
{
	for (int i = 0; i < nr_blks; i++) {
		struct blk *b = &blks[i];

		if (b->uring) {
			blk_reset(&b->dev);
			evloop_del(&vm->io, &b->done);
			close(b->done.fd);
			io_uring_queue_exit(&b->ring);
			b->uring = false;
		}
		if (b->iovs)
			munmap(b->iovs, IOVS_BYTES);
		b->iovs = NULL;
		if (b->dev.vm)
			virtio_mmio_close(&b->dev);
		disk_close(&b->disk);
	}
}

static int blk_cmdline(const struct vm *vm, char *buf, size_t len)
{
	int n = 0;

	(void)vm;
	for (int i = 0; i < nr_blks && n >= 0; i++)
		n = virtio_mmio_cmdline_add(blks[i].slot, buf, len, n);
	return n < 0 ? (int)len : n;
}

static void blk_aml(const struct vm *vm, struct aml *a)
{
	(void)vm;
	for (int i = 0; i < nr_blks; i++)
		virtio_mmio_aml(blks[i].slot, a);
}

/* Whether @path is the file open at @fd. */
static bool same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* Waits until every request in io_uring is done and given back. */
static void drain(struct blk *b)
{
	while (b->uring && b->pending) {
		int r = io_uring_submit_and_wait(&b->ring, 1);

		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY)
			break;
		b->queued = 0;
		reap(b);
	}
}

int blk_change_image(struct vm *vm, const char *drive_id, const char *path, struct err *e)
{
	struct disk_config *c = NULL;
	struct disk nd = {.fd = -1, .dfd = -1}, old;
	struct blk *b = NULL;
	char saved[sizeof(c->path)];

	int i = vm->devs ? config_find_disk(vm->devs, drive_id) : -1;

	if (i >= 0 && i < nr_blks)
		b = &blks[i], c = &vm->devs->disks[i];
	if (!b)
		return err_set(e, "Invalid block device ID: '%s'", drive_id);
	if (!*path || strlen(path) >= sizeof(c->path))
		return err_set(e, "drive '%s': path_on_host must be 1 to %zu bytes", drive_id,
		               sizeof(c->path) - 1);
	pthread_mutex_lock(&b->dev.lock);
	if (same_file(b->disk.fd, path)) {
		/* the same image, resized: take its new size */
		off_t end = lseek(b->disk.fd, 0, SEEK_END);

		if (end >= 0)
			b->disk.size = (uint64_t)end / DISK_SECTOR * DISK_SECTOR;
		fill_config(b);
		virtio_mmio_config_changed(&b->dev);
		pthread_mutex_unlock(&b->dev.lock);
		return 0;
	}
	memcpy(saved, c->path, sizeof(saved));
	snprintf(c->path, sizeof(c->path), "%s", path);
	if (disk_open(&nd, c, e) < 0) {
		disk_close(&nd); /* what it opened before it refused (and its lock) */
		memcpy(c->path, saved, sizeof(saved));
		pthread_mutex_unlock(&b->dev.lock);
		return -1;
	}
	drain(b);
	old = b->disk;
	b->disk = nd;
	disk_close(&old);
	fill_config(b);
	virtio_mmio_config_changed(&b->dev);
	pthread_mutex_unlock(&b->dev.lock);
	return 0;
}

void blk_describe(FILE *out)
{
	for (int i = 0; i < nr_blks; i++)
		fprintf(out, "mote: disk %d: %s, %llu sectors%s, io=%s, serial %s\n", i,
		        blks[i].cfg->path, (unsigned long long)(blks[i].disk.size / DISK_SECTOR),
		        blks[i].disk.ro ? ", read-only" : "", engine_name(&blks[i]),
		        blks[i].disk.serial);
	for (int i = 0; i < nr_blks; i++)
		if (!blks[i].uring && blks[i].cfg->io == DISK_IO_AUTO && blks[i].why_sync[0])
			fprintf(out, "mote: disk %d: sync, not io_uring: %s\n", i,
			        blks[i].why_sync);
}

DEVICE_REGISTER_PLAN(blk, blk_plan, blk_init, blk_stop, blk_cmdline, blk_aml);

/* Each disk's transport and queues; the requests in io_uring are finished
 * first, so that nothing is in flight. The image is the user's file: the
 * restored VM opens the same path. */
static int blk_save(struct vm *vm, struct snap_writer *w, struct err *e)
{
	(void)vm;
	for (int i = 0; i < nr_blks; i++) {
		struct blk *b = &blks[i];
		char name[SNAP_NAME_MAX];
		uint64_t size = b->disk.size;

		pthread_mutex_lock(&b->dev.lock);
		drain(b);
		pthread_mutex_unlock(&b->dev.lock);
		snprintf(name, sizeof(name), "virtio-blk%d", i);
		if (virtio_mmio_save(&b->dev, w, name, &size, sizeof(size)) < 0)
			return err_set(e, "out of memory");
	}
	return 0;
}

static int blk_load(struct vm *vm, struct snap *s, struct err *e)
{
	(void)vm;
	for (int i = 0; i < nr_blks; i++) {
		struct blk *b = &blks[i];
		char name[SNAP_NAME_MAX];
		uint64_t size;

		snprintf(name, sizeof(name), "virtio-blk%d", i);
		if (virtio_mmio_load(&b->dev, s, name, &size, sizeof(size), e) < 0)
			return -1;
		fill_config(b); /* the image as it is now */
		if (size != b->disk.size)
			virtio_mmio_config_changed(&b->dev);
		virtio_mmio_resume(&b->dev);
	}
	return 0;
}

DEVICE_STATE(blk, blk_save, blk_load);

int blk_locks(struct vm *vm, bool take, struct err *e)
{
	(void)vm;
	for (int i = 0; i < nr_blks; i++) {
		if (!take && !blks[i].disk.ro && fdatasync(blks[i].disk.fd) < 0)
			warnx_("--disk %s: fdatasync before the hand-over: %s", blks[i].disk.path,
			       strerror(errno));
		if (!take)
			disk_unlock(&blks[i].disk);
		else if (disk_lock(&blks[i].disk, e) < 0)
			return -1;
	}
	return 0;
}
