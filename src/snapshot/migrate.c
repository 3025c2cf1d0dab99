// SPDX-License-Identifier: MIT
/* Live migration: the stream, the sender's rounds and the receiver. */
#include "migrate.h"

#include "../device.h"
#include "../fc_config.h"
#include "../log.h"
#include "../trace.h"
#include "../virtio/blk.h"
#include "../x86/state.h"
#include "memory.h"
#include "snapshot.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK_PAGES   256 /* pages per MIG_PAGES record */
#define IO_TIMEOUT_MS 30000

struct mig_record {
	char magic[4]; /* "MREC" */
	uint32_t type;
	uint64_t len;
	uint32_t crc; /* CRC32 of the payload */
	uint32_t reserved;
};

struct mig_header {
	char magic[8];
	uint32_t version, arch;
};

int migrate_parse_url(const char *url, struct migrate_addr *a, struct err *e)
{
	const char *colon;

	memset(a, 0, sizeof(*a));
	if (!strncmp(url, "unix:", 5)) {
		if (!url[5] || strlen(url + 5) >= sizeof(a->path))
			return err_set(e, "%s: a Unix socket path of 1 to %zu bytes", url,
			               sizeof(a->path) - 1);
		a->unix_socket = true;
		memcpy(a->path, url + 5, strlen(url + 5) + 1);
		return 0;
	}
	if (strncmp(url, "tcp:", 4) || !(colon = strrchr(url + 4, ':')))
		return err_set(e, "%s: not tcp:HOST:PORT or unix:PATH", url);
	if ((size_t)(colon - (url + 4)) >= sizeof(a->host) || !colon[1] ||
	    strlen(colon + 1) >= sizeof(a->port) ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return err_set(e, "%s: not tcp:HOST:PORT (a port number)", url);
	memcpy(a->host, url + 4, (size_t)(colon - (url + 4)));
	memcpy(a->port, colon + 1, strlen(colon + 1) + 1);
	return 0;
}

/* Whole writes and reads with a time limit, so that a dead peer cannot hold
 * the VMM's thread forever. */
static int wait_fd(int fd, short events, struct err *e)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n;

	do
		n = poll(&p, 1, IO_TIMEOUT_MS);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return err_set(e, "the peer stalled for %d s", IO_TIMEOUT_MS / 1000);
	return n < 0 ? err_set(e, "poll: %s", strerror(errno)) : 0;
}

static int send_all(int fd, const void *buf, size_t len, struct err *e)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == ENOTSOCK) /* a pipe (the tests) */
			n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) /* SO_SNDTIMEO ran out */
			return err_set(e, "the peer stopped reading for %d s",
			               IO_TIMEOUT_MS / 1000);
		if (n <= 0)
			return err_set(e, "the connection broke: %s",
			               n < 0 ? strerror(errno) : "closed");
		p += n, len -= (size_t)n;
	}
	return 0;
}

static int recv_all(int fd, void *buf, size_t len, struct err *e)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n;

		if (wait_fd(fd, POLLIN, e) < 0)
			return -1;
		n = read(fd, p, len); /* a socket, or a pipe (the fuzz target) */
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return err_set(e, "the connection broke: %s",
			               n < 0 ? strerror(errno) : "the sender closed it");
		p += n, len -= (size_t)n;
	}
	return 0;
}

int migrate_write_record(int fd, uint32_t type, const void *a, size_t alen, const void *b,
                         size_t blen, uint64_t *bytes, struct err *e)
{
	struct mig_record r = {.magic = "MREC", .type = type, .len = alen + blen};
	uLong crc = crc32(0L, a, (uInt)alen);

	if (blen) /* zlib's crc32 of a NULL buffer is its initial value, not @crc */
		crc = crc32(crc, b, (uInt)blen);
	r.crc = (uint32_t)crc;
	if (send_all(fd, &r, sizeof(r), e) < 0 || send_all(fd, a, alen, e) < 0 ||
	    send_all(fd, b, blen, e) < 0)
		return -1;
	*bytes += sizeof(r) + alen + blen;
	return 0;
}

/* A numeric address (mote is linked statically: no name service), "localhost", or "" for any. */
static int tcp_addr(const struct migrate_addr *a, struct sockaddr_storage *ss, socklen_t *len,
                    struct err *e)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(a->port))};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = in.sin_port};
	const char *host = strcmp(a->host, "localhost") ? a->host : "127.0.0.1";

	memset(ss, 0, sizeof(*ss));
	if (atoi(a->port) < 1 || atoi(a->port) > 65535)
		return err_set(e, "tcp:%s:%s: a port from 1 to 65535", a->host, a->port);
	if (!*host || inet_pton(AF_INET, host, &in.sin_addr) == 1) {
		memcpy(ss, &in, sizeof(in));
		*len = sizeof(in);
		return 0;
	}
	if (host[0] == '[' && strlen(host) > 2) {
		char h[256];

		snprintf(h, sizeof(h), "%.*s", (int)strlen(host) - 2, host + 1);
		if (inet_pton(AF_INET6, h, &in6.sin6_addr) == 1) {
			memcpy(ss, &in6, sizeof(in6));
			*len = sizeof(in6);
			return 0;
		}
	}
	return err_set(e, "tcp:%s:%s: not a numeric address (an IPv4 address, [IPv6] or localhost)",
	               a->host, a->port);
}

/* A peer that stops reading or writing fails the migration after
 * IO_TIMEOUT_MS instead of holding the VMM's thread (and a paused VM). */
static void set_timeouts(int fd)
{
	struct timeval tv = {.tv_sec = IO_TIMEOUT_MS / 1000};

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* A socket connected to @a, or (@listening) bound to it and listening. */
static int open_socket(const struct migrate_addr *a, bool listening, struct err *e)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	socklen_t len = sizeof(sun);
	int fd, one = 1, ok;

	if (a->unix_socket) {
		memcpy(sun.sun_path, a->path, strlen(a->path) + 1);
		memcpy(&ss, &sun, sizeof(sun));
	} else if (tcp_addr(a, &ss, &len, e) < 0) {
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && listening && !a->unix_socket)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = fd >= 0 && (listening ? bind(fd, (const void *)&ss, len) == 0 && listen(fd, 1) == 0
	                           : connect(fd, (const void *)&ss, len) == 0);
	if (ok) {
		set_timeouts(fd);
		return fd;
	}
	if (a->unix_socket)
		err_set(e, "unix:%s: %s", a->path, strerror(errno));
	else
		err_set(e, "tcp:%s:%s: %s", a->host, a->port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* ---- the sender ---- */

struct sender {
	struct vmm *m;
	int fd;
	struct migrate_stats *st;
	uint64_t *dirty; /* pages to send this round (one bit per page) */
	uint64_t npages;
	uint8_t *bounce; /* CHUNK_PAGES pages: what one record sends */
	/* every page a device took to write since the start: its write may land
	 * after the round that sent the page, so the final round sends them all */
	uint64_t *devdirty;
};

/* Sends pages [first, first+n) of RAM: runs of non-zero pages as data,
 * runs of zero pages as zero records. */
static int send_range(struct sender *s, uint64_t first, uint64_t n, struct err *e)
{
	const struct guest_mem *m = &s->m->vm.mem;
	uint64_t p = first, end = first + n;

	while (p < end) {
		bool zero = mem_is_zero(m->host + p * PAGE_SIZE, PAGE_SIZE);
		uint64_t q = p + 1, hdr[2];

		while (q < end && q - p < CHUNK_PAGES &&
		       mem_is_zero(m->host + q * PAGE_SIZE, PAGE_SIZE) == zero)
			q++;
		hdr[0] = p * PAGE_SIZE;
		hdr[1] = q - p;
		/* the vCPUs go on writing: the CRC and the bytes sent must be of one copy */
		if (!zero)
			memcpy(s->bounce, m->host + p * PAGE_SIZE, (q - p) * PAGE_SIZE);
		if (zero ? migrate_write_record(s->fd, MIG_ZERO, hdr, sizeof(hdr), NULL, 0,
		                                &s->st->bytes, e)
		         : migrate_write_record(s->fd, MIG_PAGES, hdr, 8, s->bounce,
		                                (q - p) * PAGE_SIZE, &s->st->bytes, e))
			return -1;
		if (zero)
			s->st->zero_pages += q - p;
		else
			s->st->pages += q - p;
		p = q;
	}
	return 0;
}

/* The first pass: every populated page that is not zero. */
static int first_pass(const struct guest_mem *m, uint64_t off, uint64_t len, void *arg,
                      struct err *e)
{
	struct sender *s = arg;
	uint64_t p = off / PAGE_SIZE, end = (off + len + PAGE_SIZE - 1) / PAGE_SIZE;

	(void)m;
	while (p < end) {
		uint64_t q;

		while (p < end && mem_is_zero(s->m->vm.mem.host + p * PAGE_SIZE, PAGE_SIZE))
			p++;
		for (q = p; q < end && !mem_is_zero(s->m->vm.mem.host + q * PAGE_SIZE, PAGE_SIZE);)
			q++;
		if (q > p && send_range(s, p, q - p, e) < 0)
			return -1;
		p = q;
	}
	return 0;
}

/* Collects this round's dirty pages (the vCPUs' from KVM, the devices'
 * from mote's own bitmap) into s->dirty; returns how many. */
static int64_t collect(struct sender *s, struct err *e)
{
	struct guest_mem *m = &s->m->vm.mem;
	uint64_t words = (s->npages + 63) / 64, count = 0;

	memset(s->dirty, 0, words * 8);
	if (vm_dirty_fetch(&s->m->vm, s->dirty, e) < 0)
		return -1;
	for (uint64_t w = 0; w < words; w++) {
		uint64_t dev = __atomic_exchange_n(&m->dirty[w], 0, __ATOMIC_ACQ_REL);

		s->devdirty[w] |= dev;
		s->dirty[w] |= dev;
		count += (uint64_t)__builtin_popcountll(s->dirty[w]);
	}
	return (int64_t)count;
}

static int send_dirty(struct sender *s, struct err *e)
{
	for (uint64_t p = 0; p < s->npages;) {
		uint64_t q;

		if (!(s->dirty[p / 64] >> (p % 64) & 1)) {
			p++;
			continue;
		}
		for (q = p; q < s->npages && (s->dirty[q / 64] >> (q % 64) & 1);)
			q++;
		if (send_range(s, p, q - p, e) < 0)
			return -1;
		p = q;
	}
	return 0;
}

/* The configuration and machine, for the receiver to build the VM. */
static int send_hello(struct sender *s, struct err *e)
{
	struct snap_writer w;
	struct snap_machine mach;
	json_object *c = fc_vm_config_json(&s->m->cfg);
	const char *json = json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN);
	int ret;

	snap_writer_init(&w);
	snap_put(&w, SNAP_CONFIG, 0, json, strlen(json));
	json_object_put(c);
	/* vCPU ioctls wait for KVM_RUN to return: an idle vCPU may not, so
	 * the vCPUs park for the moment it takes */
	if (vm_pause(&s->m->vm) < 0) {
		ret = err_set(e, "the VM stopped during the migration");
	} else {
		ret = state_machine(&s->m->vm, &mach, e);
		vm_resume(&s->m->vm);
	}
	if (ret == 0) {
		snap_put(&w, SNAP_MACHINE, 0, &mach, sizeof(mach));
		ret = snap_finish(&w, e);
	}
	if (ret == 0)
		ret =
		    migrate_write_record(s->fd, MIG_HELLO, w.buf, w.len, NULL, 0, &s->st->bytes, e);
	snap_writer_free(&w);
	return ret;
}

/* Pre-copy rounds until the dirty set fits the downtime at the bandwidth
 * seen so far. */
static int precopy(struct sender *s, uint32_t max_downtime_ms, struct err *e)
{
	uint64_t t0 = trace_now();

	if (mem_populated(&s->m->vm.mem, first_pass, s, e) < 0)
		return -1;
	s->st->rounds = 1;
	for (;;) {
		uint64_t ns = trace_now() - t0;
		double bw = ns ? (double)s->st->bytes * 1e9 / (double)ns : 0; /* bytes/s */
		int64_t n = collect(s, e);

		if (n < 0)
			return -1;
		/* what is dirty now goes in the final round if it fits the budget */
		if (bw > 0 && (double)n * PAGE_SIZE * 1000 / bw <= max_downtime_ms)
			return 0;
		if (s->st->rounds >= MIGRATE_MAX_ROUNDS)
			return 0;
		if (send_dirty(s, e) < 0)
			return -1;
		s->st->rounds++;
	}
}

/* Stop and copy: the vCPUs park, the devices finish their work, the rest
 * of RAM and the state go, and the receiver says whether it took them. */
static int stop_and_copy(struct sender *s, struct err *e)
{
	struct snap_writer w;
	uint8_t answer = 0;
	struct err why;
	int64_t n;
	int ret = -1;

	if (vm_pause(&s->m->vm) < 0)
		return err_set(e, "the VM stopped during the migration");
	s->st->downtime_ns = trace_now();
	snap_writer_init(&w);
	/* the state first (it drains the devices), then what they and the
	 * vCPUs wrote; the images' locks go before the destination asks */
	if (snapshot_write_state(&s->m->vm, &s->m->cfg, &w, e) < 0 || snap_finish(&w, e) < 0) {
		snap_writer_free(&w);
		return -1;
	}
	blk_locks(&s->m->vm, false, NULL);
	if (migrate_write_record(s->fd, MIG_STATE, w.buf, w.len, NULL, 0, &s->st->bytes, e) < 0)
		goto out;
	for (uint64_t i = 0; i < (s->npages + 63) / 64; i++) /* the last round's set, and */
		s->m->vm.mem.dirty[i] |= s->dirty[i] | s->devdirty[i]; /* all devices wrote */
	if ((n = collect(s, e)) < 0 || send_dirty(s, e) < 0 ||
	    migrate_write_record(s->fd, MIG_END, NULL, 0, NULL, 0, &s->st->bytes, e) < 0)
		goto out;
	if (recv_all(s->fd, &answer, 1, &why) < 0) {
		err_set(e, "no answer from the receiver: %s", why.msg);
		goto out;
	}
	s->st->downtime_ns = trace_now() - s->st->downtime_ns;
	ret = answer == 'K' ? 0 : err_set(e, "the receiver refused the VM (see its message)");
out:
	snap_writer_free(&w);
	if (ret < 0 && blk_locks(&s->m->vm, true, &why) < 0) {
		/* the destination may run the VM (its answer lost): two writers
		 * on one image must not be, so this one stays stopped */
		char msg[ERR_MAX + 128];

		snprintf(msg, sizeof(msg),
		         "the migration failed and the VM's images cannot be locked again (%s): "
		         "the VM stays stopped here",
		         why.msg);
		vm_stop(&s->m->vm, VM_EXIT_ERROR, msg);
		err_set(e, "%s; %s", e->msg, msg);
	}
	return ret;
}

int migrate_send(struct vmm *m, const char *url, uint32_t max_downtime_ms, struct migrate_stats *st,
                 struct err *e)
{
	struct sender s = {.m = m, .st = st, .fd = -1};
	struct guest_mem *mem = &m->vm.mem;
	struct mig_header h = {
	    .magic = MIGRATE_MAGIC, .version = MIGRATE_VERSION, .arch = SNAP_ARCH};
	struct migrate_addr a;
	uint64_t t0 = trace_now();
	bool tracking = false;
	int ret = -1;

	memset(st, 0, sizeof(*st));
	if (m->state != VMM_RUNNING)
		return err_set(e, "the VM is not running");
	if (migrate_parse_url(url, &a, e) < 0)
		return -1;
	s.npages = mem->size / PAGE_SIZE;
	s.dirty = calloc((s.npages + 63) / 64, 8);
	s.bounce = malloc(CHUNK_PAGES * PAGE_SIZE);
	s.devdirty = calloc((s.npages + 63) / 64, 8);
	tracking = mem->dirty != NULL; /* track_dirty_pages: the log is on already */
	if (!tracking)
		mem->dirty = calloc((s.npages + 63) / 64, 8);
	if (!s.dirty || !s.bounce || !s.devdirty || !mem->dirty) {
		err_set(e, "out of memory for the dirty bitmaps");
		goto out;
	}
	if ((s.fd = open_socket(&a, false, e)) < 0 ||
	    (!tracking && vm_dirty_log(&m->vm, true, e) < 0))
		goto out;
	/* the rounds take both logs: a later Diff would miss what they took */
	m->diff_base = false;
	/* the log starts clean: what the first pass reads is current */
	if (collect(&s, e) < 0 || send_all(s.fd, &h, sizeof(h), e) < 0 || send_hello(&s, e) < 0 ||
	    precopy(&s, max_downtime_ms, e) < 0)
		goto out;
	if (stop_and_copy(&s, e) < 0) {
		vm_resume(&m->vm);
		goto out;
	}
	st->total_ns = trace_now() - t0;
	ret = 0;
out:
	if (ret < 0 && m->vm.vm_fd >= 0 && !tracking)
		vm_dirty_log(&m->vm, false, NULL);
	if (s.fd >= 0)
		close(s.fd);
	free(s.dirty);
	free(s.bounce);
	free(s.devdirty);
	if (!tracking)
		free(__atomic_exchange_n(&mem->dirty, NULL, __ATOMIC_ACQ_REL));
	return ret;
}

/* ---- the receiver ---- */

struct receiver {
	const struct migrate_sink *sink;
	int fd;
	struct guest_mem *mem; /* from the sink's build, after HELLO */
	uint64_t *have;        /* pages this stream wrote */
	uint64_t npages;
	uint8_t *state; /* the STATE record's file, loaded at END (after the last pages) */
	uint64_t state_len;
};

/* Reads one record's header and payload (at most MIGRATE_MAX_PAYLOAD
 * bytes, CRC checked) into a new buffer. */
static int recv_record(int fd, struct mig_record *r, uint8_t **payload, struct err *e)
{
	*payload = NULL;
	if (recv_all(fd, r, sizeof(*r), e) < 0)
		return -1;
	if (memcmp(r->magic, "MREC", 4))
		return err_set(e, "not a record of a migration stream");
	if (r->len > MIGRATE_MAX_PAYLOAD)
		return err_set(e, "a record of %llu bytes (at most %u)", (unsigned long long)r->len,
		               MIGRATE_MAX_PAYLOAD);
	*payload = malloc(r->len ? r->len : 1);
	if (!*payload)
		return err_set(e, "out of memory");
	if (recv_all(fd, *payload, r->len, e) < 0)
		return -1;
	if ((uint32_t)crc32(0L, *payload, (uInt)r->len) != r->crc)
		return err_set(e, "record of type %u: CRC mismatch", r->type);
	return 0;
}

static int hello(struct receiver *r, uint8_t *buf, uint64_t len, struct err *e)
{
	r->mem = r->sink->build(r->sink->opaque, buf, len, e);
	if (!r->mem)
		return -1;
	r->npages = r->mem->size / PAGE_SIZE;
	r->have = calloc((r->npages + 63) / 64, 8);
	return r->have ? 0 : err_set(e, "out of memory");
}

static int pages(struct receiver *r, const uint8_t *p, uint64_t len, struct err *e)
{
	uint64_t off;

	if (len < 8 || (len - 8) % PAGE_SIZE)
		return err_set(e, "a page record of %llu bytes", (unsigned long long)len);
	memcpy(&off, p, 8);
	if (off % PAGE_SIZE || off > r->mem->size || len - 8 > r->mem->size - off)
		return err_set(e, "pages at offset %llu, +%llu: outside guest RAM",
		               (unsigned long long)off, (unsigned long long)(len - 8));
	memcpy(r->mem->host + off, p + 8, len - 8);
	for (uint64_t i = off / PAGE_SIZE; i < (off + len - 8) / PAGE_SIZE; i++)
		r->have[i / 64] |= 1ULL << (i % 64);
	return 0;
}

/* Zero pages: only those this stream wrote before are touched. */
static int zeros(struct receiver *r, const uint8_t *p, uint64_t len, struct err *e)
{
	uint64_t v[2];

	if (len != sizeof(v))
		return err_set(e, "a zero record of %llu bytes", (unsigned long long)len);
	memcpy(v, p, sizeof(v));
	if (v[0] % PAGE_SIZE || v[0] / PAGE_SIZE > r->npages || v[1] > r->npages - v[0] / PAGE_SIZE)
		return err_set(e, "zero pages at offset %llu, %llu of them: outside guest RAM",
		               (unsigned long long)v[0], (unsigned long long)v[1]);
	for (uint64_t i = v[0] / PAGE_SIZE; i < v[0] / PAGE_SIZE + v[1]; i++)
		if (r->have[i / 64] >> (i % 64) & 1)
			memset(r->mem->host + i * PAGE_SIZE, 0, PAGE_SIZE);
	return 0;
}

/* One record, whose payload @p it frees (or hands on); 1 at END. */
static int record(struct receiver *r, const struct mig_record *rec, uint8_t *p, struct err *e)
{
	int ret;

	if (!r->mem && rec->type != MIG_HELLO) {
		free(p);
		return err_set(e, "the stream does not begin with its configuration");
	}
	switch (rec->type) {
	case MIG_HELLO:
		if (r->mem) {
			free(p);
			return err_set(e, "a second configuration");
		}
		return hello(r, p, rec->len, e); /* takes p */
	case MIG_PAGES: ret = pages(r, p, rec->len, e); break;
	case MIG_ZERO: ret = zeros(r, p, rec->len, e); break;
	case MIG_STATE:
		if (r->state) {
			free(p);
			return err_set(e, "a second state");
		}
		r->state = p, r->state_len = rec->len;
		return 0;
	case MIG_END:
		free(p);
		if (!r->state)
			return err_set(e, "END before the state");
		p = r->state, r->state = NULL;
		return r->sink->load(r->sink->opaque, p, r->state_len, e) < 0 ? -1
		                                                              : 1; /* takes p */
	default: ret = err_set(e, "unknown record type %u", rec->type); break;
	}
	free(p);
	return ret;
}

int migrate_receive_fd(int fd, const struct migrate_sink *sink, struct err *e)
{
	struct receiver r = {.sink = sink, .fd = fd};
	struct mig_header h;
	int ret = 0;

	if (recv_all(fd, &h, sizeof(h), e) < 0)
		return -1;
	if (memcmp(h.magic, MIGRATE_MAGIC, 8))
		return err_set(e, "not a mote migration stream");
	if (h.version != MIGRATE_VERSION || h.arch != SNAP_ARCH)
		return err_set(e,
		               "stream version %u for architecture %u; this mote takes version %u "
		               "for %u",
		               h.version, h.arch, MIGRATE_VERSION, SNAP_ARCH);
	while (ret == 0) {
		struct mig_record rec;
		uint8_t *p;

		if (recv_record(fd, &rec, &p, e) < 0) {
			free(p);
			ret = -1;
			break;
		}
		ret = record(&r, &rec, p, e);
	}
	free(r.have);
	free(r.state);
	return ret < 0 ? -1 : 0;
}

/* The VMM's sink: HELLO builds the VM, STATE loads it. */
static struct guest_mem *vmm_build_sink(void *opaque, uint8_t *buf, uint64_t len, struct err *e)
{
	struct vmm *m = opaque;
	struct vm_config *saved = malloc(sizeof(*saved));
	struct snapshot_file f;
	int ret = -1;

	if (!saved) {
		free(buf);
		err_set(e, "out of memory");
		return NULL;
	}
	fc_config_init(saved);
	m->vm.incoming = true;
	if (snapshot_parse(buf, len, "the stream's configuration", &f, saved, e) == 0 &&
	    vmm_restore_build(m, saved, e) == 0)
		ret = 0;
	snapshot_file_free(&f);
	config_free(saved);
	free(saved);
	return ret == 0 ? &m->vm.mem : NULL;
}

static int vmm_load_sink(void *opaque, uint8_t *buf, uint64_t len, struct err *e)
{
	struct vmm *m = opaque;
	struct vm_config *scratch = malloc(sizeof(*scratch));
	struct snapshot_file f;
	int ret;

	if (!scratch) {
		free(buf);
		return err_set(e, "out of memory");
	}
	fc_config_init(scratch);
	ret = snapshot_parse(buf, len, "the stream's state", &f, scratch, e);
	if (ret == 0 && blk_locks(&m->vm, true, e) < 0)
		ret = -1;
	if (ret == 0)
		ret = vmm_restore_finish(m, &f, NULL, true, e);
	snapshot_file_free(&f);
	config_free(scratch);
	free(scratch);
	return ret;
}

int migrate_receive(struct vmm *m, const char *url, struct err *e)
{
	const struct migrate_sink sink = {m, vmm_build_sink, vmm_load_sink};
	struct migrate_addr a;
	struct err why;
	int lfd, fd, ret;
	uint8_t answer;

	if (migrate_parse_url(url, &a, e) < 0 || (lfd = open_socket(&a, true, e)) < 0)
		return -1;
	log_info("waiting for a migration on %s", url);
	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	close(lfd);
	if (a.unix_socket)
		unlink(a.path);
	if (fd < 0)
		return err_set(e, "%s: accept: %s", url, strerror(errno));
	set_timeouts(fd);
	ret = migrate_receive_fd(fd, &sink, &why);
	if (ret < 0) {
		err_set(e, "%s", why.msg); /* the caller names the address */
		if (m->state != VMM_NOT_STARTED) {
			blk_locks(&m->vm, false, NULL); /* before the source hears no */
			vm_destroy(&m->vm);             /* whatever was built: its RAM goes back */
		}
	}
	answer = ret == 0 ? 'K' : 'N';
	send_all(fd, &answer, 1, &why);
	close(fd);
	return ret;
}
