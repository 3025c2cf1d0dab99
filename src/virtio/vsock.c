// SPDX-License-Identifier: MIT
/* virtio-vsock (virtio 1.2, 5.10): stream sockets between the guest and host programs, over
 * Firecracker's host protocol on a Unix socket (docs/devices-vsock.md). A host client connects
 * to the socket and writes "CONNECT <port>\n"; a guest connection to the host's port P goes to
 * the Unix listener at PATH_P. Data moves between guest buffers and host sockets with no copy
 * in between, within the credit each side gives (vsock_pkt.c keeps the accounts). Everything
 * runs on the I/O thread under the device's lock. */
#include "../config.h"
#include "../device.h"
#include "../err.h"
#include "../snapshot/stream.h"
#include "../metrics.h"
#include "../vm.h"
#include "mmio.h"
#include "vsock_pkt.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define VIRTIO_ID_VSOCK       19
#define VIRTIO_VSOCK_F_STREAM 0

enum { Q_RX, Q_TX, Q_EVENT, NR_QUEUES };

#define MAX_CONNS        1024            /* connections either way, host handshakes included */
#define HASH_SIZE        2048            /* buckets of the (host port, guest port) table */
#define RST_MAX          (2 * MAX_CONNS) /* RSTs owed to the guest before rx buffers come */
#define CONNECT_LINE_MAX 24              /* "CONNECT 4294967295\n" and some */
#define FIRST_LOCAL_PORT (1U << 30)      /* host ports of host-initiated connections */
#define MAX_BUFS         VIRTQ_MAX_SIZE  /* buffers of one chain */
#define LISTEN_BACKLOG   128

/* One connection: its host socket and its protocol state. A slot is never
 * freed, only emptied (fd -1): an event of a closed connection still in the
 * loop's batch finds an empty (or reused) slot, never freed memory. */
struct conn {
	struct ev_source src; /* the host socket; fd -1: the slot is free */
	struct vsock_conn st;
	uint32_t events;    /* what src waits for; 0: not in the loop */
	bool readable;      /* the socket may hold bytes for the guest */
	bool shut_wr;       /* the host socket's write side was shut */
	bool hashed;        /* in the (host port, guest port) table */
	bool queued;        /* in the rx service list */
	struct conn *hnext; /* table chain */
	struct conn *rprev, *rnext;
	uint8_t *out; /* host-bound bytes the socket did not take: a ring of VSOCK_BUF_ALLOC */
	uint32_t out_head, out_len;
	char line[CONNECT_LINE_MAX]; /* the host's CONNECT line so far */
	uint32_t line_len;
};

/* An RST owed to the guest for a connection that is gone. */
struct rst {
	uint32_t host_port, guest_port;
};

static struct vsock {
	struct virtio_mmio dev;
	const struct vsock_config *cfg;
	int slot;
	bool on;
	bool started; /* virtio_mmio_init done */
	bool bound;   /* mote made the socket file @path: it removes it */
	char path[sizeof(((struct vsock_config *)0)->uds)]; /* for atexit: cfg may be gone */
	struct ev_source listener;
	bool listener_paused; /* out of fds: out of the loop until a connection closes */
	struct conn conns[MAX_CONNS];
	int nr_conns;
	struct conn *hash[HASH_SIZE];
	struct conn *rx_head, *rx_tail; /* connections with something for the guest */
	struct rst rst[RST_MAX];
	uint32_t rst_head, rst_len;
	uint32_t next_port;
	bool reset_owed; /* restored: the guest is told its connections are gone */
} vsock;

static struct ratelimit bad_packets, too_many;

static void conn_close(struct vsock *v, struct conn *c, bool rst);
static void on_conn(void *opaque, uint32_t events);

static uint64_t guest_cid(const struct vsock *v)
{
	return v->cfg->cid;
}

/* Whether queue @q may be used: the driver is up and has not failed. */
static bool live(const struct virtio_mmio *d, int q)
{
	return (d->status & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_NEEDS_RESET) &&
	       d->q[q].ready;
}

/* Gives back the chain virtq_pop took last, unused: its avail entry stays. */
static void virtq_unpop(struct virtq *q)
{
	q->last_avail--;
}

/* --- descriptor chains ----------------------------------------------- */

/* Bytes in the chain's device-writable (@write) or readable buffers. */
static uint64_t chain_bytes(const struct virtq_buf *bufs, int n, bool write)
{
	uint64_t total = 0;

	for (int i = 0; i < n; i++)
		if (bufs[i].write == write)
			total += bufs[i].len;
	return total;
}

/* Points @iov at bytes [@off, @off + @len) of the chain's writable (@write)
 * or readable buffers; returns the iovecs used, -1 if the chain is shorter
 * or needs more than @max. */
static int chain_iov(const struct guest_mem *m, const struct virtq_buf *bufs, int n, bool write,
                     uint64_t off, uint64_t len, struct iovec *iov, int max)
{
	int k = 0;

	for (int i = 0; i < n && len; i++) {
		uint64_t take;
		uint8_t *p;

		if (bufs[i].write != write)
			continue;
		if (off >= bufs[i].len) {
			off -= bufs[i].len;
			continue;
		}
		take = bufs[i].len - off < len ? bufs[i].len - off : len;
		p = guest_ptr(m, bufs[i].addr + off, take);
		if (!p || k == max)
			return -1;
		iov[k++] = (struct iovec){p, take};
		off = 0;
		len -= take;
	}
	return len ? -1 : k;
}

/* Copies between @buf and the bytes @iov[0..k) cover. */
static void iov_copy(const struct iovec *iov, int k, uint8_t *buf, bool to_iov)
{
	for (int i = 0; i < k; i++) {
		if (to_iov)
			memcpy(iov[i].iov_base, buf, iov[i].iov_len);
		else
			memcpy(buf, iov[i].iov_base, iov[i].iov_len);
		buf += iov[i].iov_len;
	}
}

/* Writes @h at the start of an rx chain; -1 if it has no room for it. */
static int put_hdr(const struct guest_mem *m, const struct virtq_buf *bufs, int n,
                   const struct vsock_hdr *h)
{
	uint8_t raw[VSOCK_HDR_SIZE];
	struct iovec iov[VSOCK_HDR_SIZE];
	int k = chain_iov(m, bufs, n, true, 0, VSOCK_HDR_SIZE, iov, VSOCK_HDR_SIZE);

	if (k < 0)
		return -1;
	vsock_hdr_encode(h, raw);
	iov_copy(iov, k, raw, true);
	return VSOCK_HDR_SIZE;
}

/* --- the connection table and the rx service list --------------------- */

static unsigned hash_of(uint32_t host_port, uint32_t guest_port)
{
	return (host_port * 2654435761U ^ guest_port * 40503U) % HASH_SIZE;
}

static struct conn *conn_find(struct vsock *v, uint32_t host_port, uint32_t guest_port)
{
	struct conn *c = v->hash[hash_of(host_port, guest_port)];

	while (c && (c->st.host_port != host_port || c->st.guest_port != guest_port))
		c = c->hnext;
	return c;
}

static void hash_add(struct vsock *v, struct conn *c)
{
	struct conn **b = &v->hash[hash_of(c->st.host_port, c->st.guest_port)];

	c->hnext = *b;
	*b = c;
	c->hashed = true;
}

static void hash_del(struct vsock *v, struct conn *c)
{
	struct conn **p = &v->hash[hash_of(c->st.host_port, c->st.guest_port)];

	while (*p && *p != c)
		p = &(*p)->hnext;
	if (*p)
		*p = c->hnext;
	c->hashed = false;
}

static void rx_enqueue(struct vsock *v, struct conn *c)
{
	if (c->queued)
		return;
	c->rprev = v->rx_tail;
	c->rnext = NULL;
	if (v->rx_tail)
		v->rx_tail->rnext = c;
	else
		v->rx_head = c;
	v->rx_tail = c;
	c->queued = true;
}

static void rx_dequeue(struct vsock *v, struct conn *c)
{
	if (!c->queued)
		return;
	if (c->rprev)
		c->rprev->rnext = c->rnext;
	else
		v->rx_head = c->rnext;
	if (c->rnext)
		c->rnext->rprev = c->rprev;
	else
		v->rx_tail = c->rprev;
	c->queued = false;
}

/* Moves @c to the back of the rx list: connections take turns. */
static void rx_requeue(struct vsock *v, struct conn *c)
{
	rx_dequeue(v, c);
	rx_enqueue(v, c);
}

static void queue_rst(struct vsock *v, uint32_t host_port, uint32_t guest_port)
{
	if (v->rst_len == RST_MAX) {
		warn_limited(&too_many,
		             "virtio-vsock: more than %d RSTs wait for rx buffers; "
		             "one dropped",
		             RST_MAX);
		return;
	}
	v->rst[(v->rst_head + v->rst_len++) % RST_MAX] = (struct rst){host_port, guest_port};
}

/* --- connections ------------------------------------------------------ */

/* Whether @c has a packet for the guest: a control packet it owes, or
 * bytes of its socket that the guest has room for. */
static bool conn_wants_rx(const struct conn *c)
{
	if (c->st.state == VSOCK_ST_HANDSHAKE)
		return false;
	return vsock_conn_next_control(&c->st) != VSOCK_OP_INVALID ||
	       (c->readable && vsock_conn_wants_read(&c->st));
}

/* Makes the loop watch @events on @c's socket (0: leave the loop: a socket
 * that hung up would otherwise report EPOLLHUP without end). */
static void conn_watch(struct vsock *v, struct conn *c, uint32_t events)
{
	int r = 0;

	if (events == c->events)
		return;
	if (!c->events)
		r = evloop_add(&v->dev.vm->io, &c->src, events);
	else if (!events)
		evloop_del(&v->dev.vm->io, &c->src);
	else
		r = evloop_mod(&v->dev.vm->io, &c->src, events);
	if (r < 0) {
		warn_limited(&too_many, "virtio-vsock: epoll: %s", strerror(errno));
		return;
	}
	c->events = events;
}

/* Brings what the loop watches and the rx list in line with @c's state:
 * read the socket while the guest has credit and nothing read is pending,
 * wait for room to write while bytes wait in the ring. */
static void conn_sync(struct vsock *v, struct conn *c)
{
	uint32_t events = 0;

	if (c->st.state == VSOCK_ST_HANDSHAKE) {
		events = EPOLLIN;
	} else {
		if (vsock_conn_wants_read(&c->st) && !c->readable)
			events |= EPOLLIN;
		if (c->out_len)
			events |= EPOLLOUT;
	}
	conn_watch(v, c, events);
	if (conn_wants_rx(c))
		rx_enqueue(v, c);
}

static struct conn *conn_new(struct vsock *v, int fd, enum vsock_state state, uint32_t host_port,
                             uint32_t guest_port)
{
	struct conn *c = NULL;

	for (int i = 0; i < MAX_CONNS && !c; i++)
		if (v->conns[i].src.fd < 0)
			c = &v->conns[i];
	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->src = (struct ev_source){fd, on_conn, c};
	vsock_conn_init(&c->st, state, host_port, guest_port);
	v->nr_conns++;
	metrics_inc(METRIC_vsock_conns_added);
	return c;
}

/* Ends @c: closes its socket, owes the guest an RST if @rst and the guest
 * knows the connection. */
static void conn_close(struct vsock *v, struct conn *c, bool rst)
{
	if (c->src.fd < 0)
		return;
	if (rst && c->st.state != VSOCK_ST_HANDSHAKE && c->st.state != VSOCK_ST_CLOSED)
		queue_rst(v, c->st.host_port, c->st.guest_port);
	conn_watch(v, c, 0);
	close(c->src.fd);
	c->src.fd = -1;
	free(c->out);
	c->out = NULL;
	c->out_len = 0;
	if (c->hashed)
		hash_del(v, c);
	rx_dequeue(v, c);
	v->nr_conns--;
	if (v->listener_paused && evloop_add(&v->dev.vm->io, &v->listener, EPOLLIN) == 0)
		v->listener_paused = false;
}

/* Sends host-bound bytes without blocking; -1 on an error other than a
 * full socket (then 0 bytes went). */
static ssize_t send_iov(int fd, struct iovec *iov, int k)
{
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)k};
	ssize_t w = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (w < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return w;
}

/* Appends the bytes of @iov[0..k) past the first @skip to @c's ring. */
static int out_push(struct conn *c, const struct iovec *iov, int k, size_t skip)
{
	if (!c->out && !(c->out = malloc(VSOCK_BUF_ALLOC)))
		return -1;
	for (int i = 0; i < k; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t len = iov[i].iov_len;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		p += skip;
		len -= skip;
		skip = 0;
		while (len) {
			uint32_t at = (c->out_head + c->out_len) % VSOCK_BUF_ALLOC;
			size_t n = VSOCK_BUF_ALLOC - at < len ? VSOCK_BUF_ALLOC - at : len;

			memcpy(c->out + at, p, n);
			c->out_len += (uint32_t)n;
			p += n;
			len -= n;
		}
	}
	return 0;
}

/* Writes what the ring holds to the host socket, as far as it takes it. */
static void out_flush(struct vsock *v, struct conn *c)
{
	uint32_t first = VSOCK_BUF_ALLOC - c->out_head;
	struct iovec iov[2];
	ssize_t w;

	if (!c->out_len)
		return;
	if (first > c->out_len)
		first = c->out_len;
	iov[0] = (struct iovec){c->out + c->out_head, first};
	iov[1] = (struct iovec){c->out, c->out_len - first};
	w = send_iov(c->src.fd, iov, c->out_len > first ? 2 : 1);
	if (w < 0) {
		conn_close(v, c, true);
		return;
	}
	c->out_head = (c->out_head + (uint32_t)w) % VSOCK_BUF_ALLOC;
	c->out_len -= (uint32_t)w;
	vsock_conn_forwarded(&c->st, (uint32_t)w);
	if (!c->out_len) {
		free(c->out);
		c->out = NULL;
		c->out_head = 0;
	}
}

/* Guest data for the host: straight from the chain to the socket; what the
 * socket does not take waits in the ring (the credit mote gave bounds it). */
static void conn_take(struct vsock *v, struct conn *c, const struct virtq_buf *bufs, int n,
                      uint32_t len)
{
	struct iovec iov[MAX_BUFS];
	int k = chain_iov(&v->dev.vm->mem, bufs, n, false, VSOCK_HDR_SIZE, len, iov, MAX_BUFS);
	ssize_t w = 0;

	if (k < 0) {
		conn_close(v, c, true);
		return;
	}
	if (!c->out_len)
		w = send_iov(c->src.fd, iov, k);
	if (w < 0 || ((uint32_t)w < len && out_push(c, iov, k, (size_t)w) < 0)) {
		conn_close(v, c, true);
		return;
	}
	vsock_conn_forwarded(&c->st, (uint32_t)w);
}

/* The guest accepted a host client's connection: "OK <host port>\n". The
 * socket's buffer is empty (nothing was written to it before): it takes the
 * line whole or the client is gone. */
static void conn_tell_ok(struct vsock *v, struct conn *c)
{
	char ok[24];
	int len = snprintf(ok, sizeof(ok), "OK %u\n", c->st.host_port);

	if (send(c->src.fd, ok, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) != len)
		conn_close(v, c, true);
}

/* After any change to @c: shut the host's write side once the guest sends
 * no more and all it sent went out; end a connection done both ways; watch
 * what the new state needs. */
static void conn_settle(struct vsock *v, struct conn *c)
{
	if (c->src.fd < 0)
		return;
	if ((c->st.guest_shut & VSOCK_SHUT_SEND) && !c->out_len && !c->shut_wr) {
		shutdown(c->src.fd, SHUT_WR);
		c->shut_wr = true;
	}
	if (vsock_conn_done(&c->st)) {
		conn_close(v, c, true);
		return;
	}
	conn_sync(v, c);
}

/* --- guest -> host ---------------------------------------------------- */

/* A guest connection to host port P: to the Unix listener at PATH_P. */
static void guest_connect(struct vsock *v, const struct vsock_hdr *h)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct conn *c;
	int fd;

	if (v->nr_conns >= MAX_CONNS) {
		warn_limited(&too_many,
		             "virtio-vsock: %d connections open; the guest's connection "
		             "to port %u refused",
		             MAX_CONNS, h->dst_port);
		queue_rst(v, h->dst_port, h->src_port);
		return;
	}
	if (snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", v->cfg->uds, h->dst_port) >=
	    (int)sizeof(a.sun_path)) {
		queue_rst(v, h->dst_port, h->src_port);
		return;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (void *)&a, sizeof(a)) < 0) {
		if (fd >= 0)
			close(fd);
		queue_rst(v, h->dst_port, h->src_port); /* nobody listens there */
		return;
	}
	c = conn_new(v, fd, VSOCK_ST_ESTABLISHED, h->dst_port, h->src_port);
	if (!c) {
		close(fd);
		queue_rst(v, h->dst_port, h->src_port);
		return;
	}
	c->st.peer_buf_alloc = h->buf_alloc;
	c->st.peer_fwd_cnt = h->fwd_cnt;
	c->st.pending |= 1U << VSOCK_OP_RESPONSE;
	hash_add(v, c);
	conn_sync(v, c);
}

/* A refused packet: an RST, which ends the connection it names if any. */
static void refuse(struct vsock *v, const struct vsock_hdr *h, const char *why)
{
	struct conn *c = conn_find(v, h->dst_port, h->src_port);

	warn_limited(&bad_packets, "virtio-vsock: a guest packet with %s (op %u, len %u); reset",
	             why, h->op, h->len);
	if (c)
		conn_close(v, c, true);
	else
		queue_rst(v, h->dst_port, h->src_port);
}

/* A packet for an open connection. */
static void conn_packet(struct vsock *v, struct conn *c, const struct vsock_hdr *h,
                        const struct virtq_buf *bufs, int n)
{
	switch (vsock_conn_on_guest(&c->st, h)) {
	case VSOCK_ACT_DATA: conn_take(v, c, bufs, n, h->len); break;
	case VSOCK_ACT_ESTABLISHED: conn_tell_ok(v, c); break;
	case VSOCK_ACT_RESET: conn_close(v, c, true); return;
	case VSOCK_ACT_CLOSE: conn_close(v, c, false); return;
	case VSOCK_ACT_SHUTDOWN:
	case VSOCK_ACT_NONE: break;
	}
	conn_settle(v, c);
}

/* One packet from the tx queue. */
static void tx_packet(struct vsock *v, const struct virtq_buf *bufs, int n)
{
	uint64_t total = chain_bytes(bufs, n, false);
	uint8_t raw[VSOCK_HDR_SIZE];
	struct iovec iov[VSOCK_HDR_SIZE];
	struct vsock_hdr h;
	const char *why;
	struct conn *c;
	int k = chain_iov(&v->dev.vm->mem, bufs, n, false, 0, VSOCK_HDR_SIZE, iov, VSOCK_HDR_SIZE);

	if (k < 0) {
		warn_limited(&bad_packets,
		             "virtio-vsock: a guest packet shorter than its header "
		             "(%llu bytes); dropped",
		             (unsigned long long)total);
		return;
	}
	iov_copy(iov, k, raw, false);
	vsock_hdr_decode(raw, &h);
	switch (vsock_hdr_check(&h, guest_cid(v), total - VSOCK_HDR_SIZE, &why)) {
	case VSOCK_PKT_DROP:
		if (h.op != VSOCK_OP_RST)
			warn_limited(&bad_packets, "virtio-vsock: a guest packet with %s; dropped",
			             why);
		return;
	case VSOCK_PKT_RESET: refuse(v, &h, why); return;
	case VSOCK_PKT_OK: break;
	}
	c = conn_find(v, h.dst_port, h.src_port);
	if (c)
		conn_packet(v, c, &h, bufs, n);
	else if (h.op == VSOCK_OP_REQUEST)
		guest_connect(v, &h);
	else if (h.op != VSOCK_OP_RST)
		queue_rst(v, h.dst_port, h.src_port);
}

static void tx_drain(struct vsock *v)
{
	struct virtio_mmio *d = &v->dev;
	struct virtq *q = &d->q[Q_TX];
	struct virtq_buf bufs[MAX_BUFS];
	uint16_t head, old = q->used_idx;
	struct err e;
	int n = 0;

	while (atomic_load(&d->vm->exit) == VM_RUNNING &&
	       (n = virtq_pop(q, &d->vm->mem, bufs, MAX_BUFS, &head, &e)) > 0) {
		tx_packet(v, bufs, n);
		metrics_inc(METRIC_vsock_tx_packets_count);
		if (virtq_push(q, &d->vm->mem, head, 0, &e) < 0) {
			n = -1;
			break;
		}
	}
	if (n < 0) {
		virtio_mmio_fail(d, e.msg);
		return;
	}
	virtio_mmio_used(d, Q_TX, old);
}

/* --- host -> guest ---------------------------------------------------- */

/* Reads @c's socket into an rx chain as an RW packet (or, at EOF, a
 * SHUTDOWN SEND); returns the bytes written, 0 if the chain stays unused
 * (nothing to read, or the connection ended), -1 if the chain is too small. */
static int rx_data(struct vsock *v, struct conn *c, const struct virtq_buf *bufs, int n)
{
	const struct guest_mem *m = &v->dev.vm->mem;
	uint64_t room = chain_bytes(bufs, n, true);
	struct iovec iov[MAX_BUFS];
	struct vsock_hdr h;
	uint32_t want = vsock_conn_credit(&c->st);
	ssize_t r;
	int k;

	if (room <= VSOCK_HDR_SIZE)
		return -1;
	if (want > room - VSOCK_HDR_SIZE)
		want = (uint32_t)(room - VSOCK_HDR_SIZE);
	if (want > VSOCK_MAX_PAYLOAD)
		want = VSOCK_MAX_PAYLOAD;
	k = chain_iov(m, bufs, n, true, VSOCK_HDR_SIZE, want, iov, MAX_BUFS);
	r = k < 0 ? -1 : readv(c->src.fd, iov, k);
	if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
		c->readable = false;
		conn_sync(v, c);
		return 0;
	}
	if (r < 0) {
		conn_close(v, c, true);
		return 0;
	}
	if (r == 0) {
		c->st.host_eof = true;
		c->readable = false;
		vsock_conn_hdr(&c->st, guest_cid(v), VSOCK_OP_SHUTDOWN, VSOCK_SHUT_SEND, 0, &h);
		conn_settle(v, c);
		return put_hdr(m, bufs, n, &h);
	}
	vsock_conn_hdr(&c->st, guest_cid(v), VSOCK_OP_RW, 0, (uint32_t)r, &h);
	rx_requeue(v, c);
	conn_sync(v, c);
	return put_hdr(m, bufs, n, &h) < 0 ? -1 : VSOCK_HDR_SIZE + (int)r;
}

/* Fills an rx chain for @c: a control packet it owes first, else data. */
static int rx_conn(struct vsock *v, struct conn *c, const struct virtq_buf *bufs, int n)
{
	enum vsock_op op = vsock_conn_next_control(&c->st);
	struct vsock_hdr h;

	if (op == VSOCK_OP_INVALID)
		return rx_data(v, c, bufs, n);
	vsock_conn_hdr(&c->st, guest_cid(v), op, 0, 0, &h);
	rx_requeue(v, c);
	conn_sync(v, c);
	return put_hdr(&v->dev.vm->mem, bufs, n, &h);
}

/* Fills an rx chain with the oldest RST owed. */
static int rx_rst(struct vsock *v, const struct virtq_buf *bufs, int n)
{
	const struct rst *r = &v->rst[v->rst_head];
	struct vsock_hdr h;

	vsock_rst_hdr(guest_cid(v), r->host_port, r->guest_port, &h);
	v->rst_head = (v->rst_head + 1) % RST_MAX;
	v->rst_len--;
	return put_hdr(&v->dev.vm->mem, bufs, n, &h);
}

/* The next connection with something for the guest, dropping from the
 * list those that have nothing any more; NULL if none. */
static struct conn *rx_next(struct vsock *v)
{
	while (v->rx_head && !conn_wants_rx(v->rx_head))
		rx_dequeue(v, v->rx_head);
	return v->rx_head;
}

/* Gives the guest what is owed, while it has rx buffers: RSTs first, then
 * the connections in turn. */
static void rx_pump(struct vsock *v)
{
	struct virtio_mmio *d = &v->dev;
	struct virtq *q = &d->q[Q_RX];
	struct virtq_buf bufs[MAX_BUFS];
	uint16_t head = 0, old = q->used_idx;
	struct conn *c = NULL;
	struct err e;
	int n = 0, written;

	if (!live(d, Q_RX))
		return;
	while (v->rst_len || (c = rx_next(v))) {
		if (!n && (n = virtq_pop(q, &d->vm->mem, bufs, MAX_BUFS, &head, &e)) <= 0)
			break;
		written = v->rst_len ? rx_rst(v, bufs, n) : rx_conn(v, c, bufs, n);
		if (written < 0) {
			virtio_mmio_fail(d, "an rx buffer with no room for a packet");
			return;
		}
		if (!written)
			continue;
		metrics_inc(METRIC_vsock_rx_packets_count);
		if (virtq_push(q, &d->vm->mem, head, (uint32_t)written, &e) < 0)
			n = -1;
		if (n < 0)
			break;
		n = 0;
	}
	if (n < 0) {
		virtio_mmio_fail(d, e.msg);
		return;
	}
	if (n > 0)
		virtq_unpop(q);
	virtio_mmio_used(d, Q_RX, old);
}

/* --- host sockets ----------------------------------------------------- */

/* A host-initiated connection to guest port @port: a free host port, and
 * a REQUEST for the guest. */
static void host_connect(struct vsock *v, struct conn *c, uint32_t port)
{
	uint32_t local;

	do {
		local = v->next_port++;
		if (v->next_port < FIRST_LOCAL_PORT)
			v->next_port = FIRST_LOCAL_PORT;
	} while (conn_find(v, local, port));
	vsock_conn_init(&c->st, VSOCK_ST_CONNECTING, local, port);
	c->st.pending |= 1U << VSOCK_OP_REQUEST;
	hash_add(v, c);
	conn_sync(v, c);
}

/* Reads the host client's "CONNECT <port>\n", never past its newline:
 * what follows is the stream. A malformed line closes the client. */
static void handshake(struct vsock *v, struct conn *c)
{
	char peek[CONNECT_LINE_MAX];
	size_t room = sizeof(c->line) - c->line_len;
	ssize_t n = recv(c->src.fd, peek, room, MSG_PEEK);
	const char *nl;
	uint32_t port;
	size_t take;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(v, c, false);
		return;
	}
	nl = memchr(peek, '\n', (size_t)n);
	take = nl ? (size_t)(nl - peek) + 1 : (size_t)n;
	if (recv(c->src.fd, c->line + c->line_len, take, 0) != (ssize_t)take) {
		conn_close(v, c, false);
		return;
	}
	c->line_len += (uint32_t)take;
	if (!nl && c->line_len < sizeof(c->line))
		return;
	if (!nl || vsock_parse_connect(c->line, c->line_len, &port) < 0) {
		conn_close(v, c, false);
		return;
	}
	host_connect(v, c, port);
}

static void conn_event(struct vsock *v, struct conn *c, uint32_t events)
{
	if (c->st.state == VSOCK_ST_HANDSHAKE) {
		handshake(v, c);
		return;
	}
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		out_flush(v, c);
	if (c->src.fd < 0)
		return;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		c->readable = true;
	conn_settle(v, c);
}

static void on_conn(void *opaque, uint32_t events)
{
	struct conn *c = opaque;
	struct vsock *v = &vsock;

	pthread_mutex_lock(&v->dev.lock);
	if (c->src.fd >= 0)
		conn_event(v, c, events);
	rx_pump(v);
	pthread_mutex_unlock(&v->dev.lock);
}

static void on_listener(void *opaque, uint32_t events)
{
	struct vsock *v = opaque;
	struct conn *c;
	int fd;

	(void)events;
	pthread_mutex_lock(&v->dev.lock);
	while ((fd = accept4(v->listener.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		c = conn_new(v, fd, VSOCK_ST_HANDSHAKE, 0, 0);
		if (!c) {
			warn_limited(&too_many,
			             "virtio-vsock: %d connections open; a host client "
			             "refused",
			             MAX_CONNS);
			close(fd);
			continue;
		}
		conn_sync(v, c);
	}
	/* Out of fds or memory: the client stays queued and would wake the
	 * loop for ever; stop listening until a connection closes. */
	if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
		warn_limited(&too_many,
		             "virtio-vsock: cannot accept a host client (%s); "
		             "listening again when a connection closes",
		             strerror(errno));
		v->listener_paused = true;
		evloop_del(&v->dev.vm->io, &v->listener);
	}
	pthread_mutex_unlock(&v->dev.lock);
}

/* Tells the driver, through the event queue, that its transport was reset
 * (virtio spec 5.10.6.7: VIRTIO_VSOCK_EVENT_TRANSPORT_RESET): after a restore
 * or a migration its connections' host sockets stayed behind. Waits for an
 * event buffer if the driver has none yet. */
static void send_reset(struct vsock *v)
{
	struct virtio_mmio *d = &v->dev;
	struct virtq *q = &d->q[Q_EVENT];
	struct virtq_buf bufs[MAX_BUFS];
	uint8_t id[4] = {0}; /* le32 id: TRANSPORT_RESET is 0 */
	struct iovec iov[sizeof(id)];
	uint16_t head, old = q->used_idx;
	struct err e;
	int n, k;

	if (!v->reset_owed || !live(d, Q_EVENT))
		return;
	n = virtq_pop(q, &d->vm->mem, bufs, MAX_BUFS, &head, &e);
	if (n == 0)
		return;
	if (n < 0) {
		virtio_mmio_fail(d, e.msg);
		return;
	}
	k = chain_iov(&d->vm->mem, bufs, n, true, 0, sizeof(id), iov, (int)sizeof(id));
	if (k < 0) {
		virtio_mmio_fail(d, "an event buffer with no room for an event");
		return;
	}
	iov_copy(iov, k, id, true);
	v->reset_owed = false;
	if (virtq_push(q, &d->vm->mem, head, sizeof(id), &e) < 0) {
		virtio_mmio_fail(d, e.msg);
		return;
	}
	virtio_mmio_used(d, Q_EVENT, old);
}

/* --- the device ------------------------------------------------------- */

static void vsock_notify(struct virtio_mmio *d, int q)
{
	struct vsock *v = d->opaque;

	if (q == Q_TX)
		tx_drain(v);
	if (q == Q_EVENT) /* its buffers wait for the one event mote sends */
		send_reset(v);
	else
		rx_pump(v);
}

/* Closes every connection the guest knows, quietly: its driver is gone. */
static void close_all(struct vsock *v, bool handshakes_too)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (handshakes_too || v->conns[i].st.state != VSOCK_ST_HANDSHAKE)
			conn_close(v, &v->conns[i], false);
	v->rst_len = 0;
}

static void vsock_reset(struct virtio_mmio *d)
{
	close_all(d->opaque, false);
}

/* DRIVER_OK (on a vCPU thread): the I/O thread looks at the rx queue, where
 * REQUESTs of host clients that came early may wait. */
static void vsock_activate(struct virtio_mmio *d)
{
	uint64_t one = 1;

	if (d->kick[Q_RX].src.fd >= 0 && write(d->kick[Q_RX].src.fd, &one, sizeof(one)) < 0)
		warnx_("virtio-vsock: cannot kick the rx queue: %s", strerror(errno));
}

/* guest_cid, the config space's one field; a driver's write does not change it. */
static void put_cid(struct virtio_mmio *d, uint32_t offset, uint32_t len)
{
	uint64_t cid = htole64(((struct vsock *)d->opaque)->cfg->cid);

	(void)offset;
	(void)len;
	memcpy(d->config, &cid, sizeof(cid));
}

static const struct virtio_ops vsock_ops = {
    .name = "vsock",
    .device_id = VIRTIO_ID_VSOCK,
    .features =
        1ULL << VIRTIO_F_EVENT_IDX | 1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_VSOCK_F_STREAM,
    .nr_queues = NR_QUEUES,
    .config_size = 8,
    .config_written = put_cid,
    .notify = vsock_notify,
    .reset = vsock_reset,
    .activate = vsock_activate,
};

static void unlink_uds(void)
{
	if (vsock.bound)
		unlink(vsock.path);
	vsock.bound = false;
}

/* Why @path, which a bind found taken, may not be replaced; NULL if it is
 * a socket nobody listens on (left by a mote that ended). */
static const char *in_use(const char *path, const struct sockaddr_un *a)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return strerror(errno);
	if (!S_ISSOCK(st.st_mode))
		return "exists and is not a socket";
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return strerror(errno);
	r = connect(fd, (const void *)a, sizeof(*a));
	close(fd);
	if (r == 0 || errno != ECONNREFUSED)
		return "in use: a program listens on it";
	return NULL;
}

/* Binds @fd to @a, replacing a stale socket file; NULL, or why not. */
static const char *bind_uds(int fd, const struct sockaddr_un *a)
{
	const char *why;

	if (bind(fd, (const void *)a, sizeof(*a)) == 0)
		return NULL;
	if (errno != EADDRINUSE)
		return strerror(errno);
	why = in_use(a->sun_path, a);
	if (why)
		return why;
	if (unlink(a->sun_path) < 0 || bind(fd, (const void *)a, sizeof(*a)) < 0)
		return strerror(errno);
	return NULL;
}

/* Listens on the configured path; -1 after saying why not. */
static int listen_uds(struct vsock *v)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	const char *why = fd < 0 ? strerror(errno) : NULL;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", v->cfg->uds);
	if (!why)
		why = bind_uds(fd, &a);
	if (!why && listen(fd, LISTEN_BACKLOG) < 0)
		why = strerror(errno);
	if (why) {
		warnx_("--vsock uds=%s: %s", v->cfg->uds, why);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(v->path, sizeof(v->path), "%s", v->cfg->uds);
	v->bound = true;
	v->listener = (struct ev_source){fd, on_listener, v};
	return 0;
}

static int vsock_plan(struct vm *vm)
{
	static bool registered;

	vsock.on = vm->devs && vm->devs->vsock.on;
	if (!vsock.on)
		return 0;
	vsock.cfg = &vm->devs->vsock;
	vsock.started = false;
	vsock.nr_conns = 0;
	vsock.rst_head = vsock.rst_len = 0;
	vsock.next_port = FIRST_LOCAL_PORT;
	vsock.rx_head = vsock.rx_tail = NULL;
	memset(vsock.hash, 0, sizeof(vsock.hash));
	for (int i = 0; i < MAX_CONNS; i++)
		vsock.conns[i].src.fd = -1;
	if (!registered && atexit(unlink_uds) == 0)
		registered = true; /* an exit through die() leaves no socket file */
	if (listen_uds(&vsock) < 0)
		return -1;
	vsock.slot = virtio_mmio_slot_alloc(vm, "virtio-vsock");
	return vsock.slot < 0 ? -1 : 0;
}

static int vsock_init(struct vm *vm)
{
	struct err e;

	if (!vsock.on)
		return 0;
	if (virtio_mmio_init(&vsock.dev, vm, vsock.slot, &vsock_ops, &vsock, &e) < 0) {
		warnx_("%s", e.msg);
		return -1;
	}
	vsock.started = true;
	put_cid(&vsock.dev, 0, 0);
	if (evloop_add(&vm->io, &vsock.listener, EPOLLIN) < 0) {
		warnx_("virtio-vsock: cannot watch %s: %s", vsock.cfg->uds, strerror(errno));
		return -1;
	}
	return 0;
}

static void vsock_stop(struct vm *vm)
{
	if (!vsock.on)
		return;
	close_all(&vsock, true);
	evloop_del(&vm->io, &vsock.listener);
	close(vsock.listener.fd);
	vsock.listener.fd = -1;
	unlink_uds();
	if (vsock.started)
		virtio_mmio_close(&vsock.dev);
	vsock.started = false;
}

static int vsock_cmdline(const struct vm *vm, char *buf, size_t len)
{
	(void)vm;
	return vsock.on ? virtio_mmio_cmdline(vsock.slot, buf, len) : 0;
}

static void vsock_aml(const struct vm *vm, struct aml *a)
{
	(void)vm;
	if (vsock.on)
		virtio_mmio_aml(vsock.slot, a);
}

DEVICE_REGISTER_PLAN(vsock, vsock_plan, vsock_init, vsock_stop, vsock_cmdline, vsock_aml);

/* The transport and its queues, and the guest's CID as a check. Connections
 * are the host's sockets and stay with this process: the restored guest is
 * told they are gone (send_reset), as Firecracker does. */
static int vsock_save(struct vm *vm, struct snap_writer *w, struct err *e)
{
	uint64_t cid;

	(void)vm;
	if (!vsock.on)
		return 0;
	cid = vsock.cfg->cid;
	if (virtio_mmio_save(&vsock.dev, w, "virtio-vsock", &cid, sizeof(cid)) < 0)
		return err_set(e, "out of memory");
	return 0;
}

static int vsock_load(struct vm *vm, struct snap *s, struct err *e)
{
	uint64_t cid;

	(void)vm;
	if (!vsock.on)
		return 0;
	if (virtio_mmio_load(&vsock.dev, s, "virtio-vsock", &cid, sizeof(cid), e) < 0)
		return -1;
	if (cid != vsock.cfg->cid)
		return err_set(e, "virtio-vsock: the snapshot's guest CID %llu is not this VM's %u",
		               (unsigned long long)cid, vsock.cfg->cid);
	vsock.reset_owed = (vsock.dev.status & VIRTIO_STATUS_DRIVER_OK) != 0;
	virtio_mmio_resume(&vsock.dev);
	return 0;
}

DEVICE_STATE(vsock, vsock_save, vsock_load);
