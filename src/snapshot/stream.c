// SPDX-License-Identifier: MIT
/* mote's state format: header, typed records, CRC32 (zlib's) in the END record. */
#include "stream.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static void reserve(struct snap_writer *w, size_t more)
{
	size_t cap = w->cap ? w->cap : 4096;
	uint8_t *b;

	if (w->failed)
		return;
	if (more > SNAP_MAX_SIZE || w->len + more > SNAP_MAX_SIZE) {
		w->failed = true;
		return;
	}
	while (cap < w->len + more)
		cap *= 2;
	if (cap == w->cap)
		return;
	b = realloc(w->buf, cap);
	if (!b) {
		w->failed = true;
		return;
	}
	w->buf = b;
	w->cap = cap;
}

static void append(struct snap_writer *w, const void *data, size_t len)
{
	reserve(w, len);
	if (w->failed)
		return;
	if (len)
		memcpy(w->buf + w->len, data, len);
	w->len += len;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static void record_header(struct snap_writer *w, uint32_t type, uint32_t instance, uint64_t len)
{
	uint8_t h[SNAP_RECORD_SIZE];
	uint64_t l = htole64(len);

	put_u32(h, type);
	put_u32(h + 4, instance);
	memcpy(h + 8, &l, 8);
	append(w, h, sizeof(h));
}

static void pad(struct snap_writer *w)
{
	static const uint8_t zeros[8];

	append(w, zeros, (8 - w->len % 8) % 8);
}

void snap_writer_init(struct snap_writer *w)
{
	uint8_t h[SNAP_HEADER_SIZE];

	memset(w, 0, sizeof(*w));
	memcpy(h, SNAP_MAGIC, 8);
	put_u32(h + 8, SNAP_VERSION);
	put_u32(h + 12, SNAP_ARCH);
	append(w, h, sizeof(h));
}

void snap_put(struct snap_writer *w, uint32_t type, uint32_t instance, const void *data, size_t len)
{
	record_header(w, type, instance, len);
	append(w, data, len);
	pad(w);
}

void snap_put_device(struct snap_writer *w, const char *name, const void *data, size_t len)
{
	char n[SNAP_NAME_MAX] = {0};

	snprintf(n, sizeof(n), "%s", name);
	record_header(w, SNAP_DEVICE, 0, SNAP_NAME_MAX + (uint64_t)len);
	append(w, n, sizeof(n));
	append(w, data, len);
	pad(w);
}

int snap_finish(struct snap_writer *w, struct err *e)
{
	uint8_t c[8] = {0};
	uint32_t crc;

	if (w->failed)
		return err_set(e, "the state does not fit in %u MiB of memory",
		               SNAP_MAX_SIZE >> 20);
	crc = (uint32_t)crc32(0L, w->buf, (uInt)w->len);
	put_u32(c, crc);
	record_header(w, SNAP_END, 0, 4);
	append(w, c, sizeof(c));
	return w->failed
	           ? err_set(e, "the state does not fit in %u MiB of memory", SNAP_MAX_SIZE >> 20)
	           : 0;
}

void snap_writer_free(struct snap_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

static bool known_type(uint32_t t)
{
	return t == SNAP_END || t == SNAP_CONFIG || t == SNAP_MACHINE || t == SNAP_CPUID ||
	       (t >= SNAP_VCPU_REGS && t <= SNAP_VCPU_DEBUGREGS) ||
	       (t >= SNAP_VM_PIC_MASTER && t <= SNAP_VM_CLOCK) || t == SNAP_DEVICE;
}

static int check_header(const uint8_t *buf, size_t len, const char *what, struct err *e)
{
	uint32_t v;

	if (len < SNAP_HEADER_SIZE || memcmp(buf, SNAP_MAGIC, 8))
		return err_set(e, "%s: not a mote state (no %s header)", what, SNAP_MAGIC);
	v = get_u32(buf + 8);
	if (v != SNAP_VERSION)
		return err_set(e, "%s: state format version %u; this mote reads version %u", what,
		               v, SNAP_VERSION);
	v = get_u32(buf + 12);
	if (v != SNAP_ARCH)
		return err_set(e, "%s: made for architecture %u; this mote is x86-64 (%u)", what, v,
		               SNAP_ARCH);
	return 0;
}

int snap_parse(const uint8_t *buf, size_t len, const char *what, struct snap *s, struct err *e)
{
	size_t at = SNAP_HEADER_SIZE;

	s->nr = 0;
	if (check_header(buf, len, what, e) < 0)
		return -1;
	if (len > SNAP_MAX_SIZE)
		return err_set(e, "%s: %zu bytes, more than a state's %u MiB", what, len,
		               SNAP_MAX_SIZE >> 20);
	for (;;) {
		uint32_t type, instance;
		uint64_t rlen, padded;

		if (len - at < SNAP_RECORD_SIZE)
			return err_set(e, "%s: truncated at byte %zu (no END record)", what, at);
		type = get_u32(buf + at);
		instance = get_u32(buf + at + 4);
		rlen = get_u64(buf + at + 8);
		if (rlen > len - at - SNAP_RECORD_SIZE)
			return err_set(e,
			               "%s: the record at byte %zu claims %llu bytes, past the end",
			               what, at, (unsigned long long)rlen);
		padded = (rlen + 7) & ~7ULL;
		if (!known_type(type))
			return err_set(e, "%s: unknown record type %u at byte %zu", what, type, at);
		if (type == SNAP_END) {
			uint32_t want = (uint32_t)crc32(0L, buf, (uInt)at);

			if (rlen != 4)
				return err_set(e, "%s: END record of %llu bytes, not 4", what,
				               (unsigned long long)rlen);
			if (get_u32(buf + at + SNAP_RECORD_SIZE) != want)
				return err_set(e, "%s: CRC mismatch: the file is corrupt", what);
			if (at + SNAP_RECORD_SIZE + padded != len)
				return err_set(e, "%s: %zu bytes after the END record", what,
				               len - at - SNAP_RECORD_SIZE - (size_t)rlen);
			return 0;
		}
		if (padded > len - at - SNAP_RECORD_SIZE)
			return err_set(e, "%s: truncated in the record at byte %zu", what, at);
		if (s->nr == SNAP_MAX_RECORDS)
			return err_set(e, "%s: more than %d records", what, SNAP_MAX_RECORDS);
		if (type == SNAP_DEVICE && (rlen < SNAP_NAME_MAX ||
		                            !memchr(buf + at + SNAP_RECORD_SIZE, 0, SNAP_NAME_MAX)))
			return err_set(e, "%s: device record at byte %zu without a name", what, at);
		s->rec[s->nr++] = (struct snap_record){
		    .type = type,
		    .instance = instance,
		    .data = buf + at + SNAP_RECORD_SIZE,
		    .len = rlen,
		};
		at += SNAP_RECORD_SIZE + padded;
	}
}

struct snap_record *snap_get(struct snap *s, uint32_t type, uint32_t instance)
{
	for (int i = 0; i < s->nr; i++)
		if (s->rec[i].type == type && s->rec[i].instance == instance) {
			s->rec[i].used = true;
			return &s->rec[i];
		}
	return NULL;
}

int snap_get_exact(struct snap *s, uint32_t type, uint32_t instance, void *out, size_t len,
                   struct err *e)
{
	struct snap_record *r = snap_get(s, type, instance);

	if (!r)
		return err_set(e, "no record of type %u for instance %u", type, instance);
	if (r->len != len)
		return err_set(e, "record of type %u for instance %u has %llu bytes, not %zu", type,
		               instance, (unsigned long long)r->len, len);
	memcpy(out, r->data, len);
	return 0;
}

struct snap_record *snap_get_device(struct snap *s, const char *name, const uint8_t **data,
                                    uint64_t *len)
{
	for (int i = 0; i < s->nr; i++) {
		struct snap_record *r = &s->rec[i];

		if (r->type != SNAP_DEVICE || strncmp((const char *)r->data, name, SNAP_NAME_MAX))
			continue;
		r->used = true;
		*data = r->data + SNAP_NAME_MAX;
		*len = r->len - SNAP_NAME_MAX;
		return r;
	}
	return NULL;
}

int snap_check_all_used(const struct snap *s, struct err *e)
{
	for (int i = 0; i < s->nr; i++) {
		const struct snap_record *r = &s->rec[i];

		if (r->used)
			continue;
		if (r->type == SNAP_DEVICE)
			return err_set(e, "state of device '%.*s', which this VM does not have",
			               SNAP_NAME_MAX, (const char *)r->data);
		return err_set(e, "a record of type %u for instance %u that this VM does not use",
		               r->type, r->instance);
	}
	return 0;
}

int snap_read_file(const char *path, uint8_t **buf, size_t *len, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *b;
	size_t got = 0;

	if (fd < 0)
		return err_set(e, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, "%s: not a regular file", path);
	}
	if (st.st_size > SNAP_MAX_SIZE) {
		close(fd);
		return err_set(e, "%s: %lld bytes, more than a state's %u MiB", path,
		               (long long)st.st_size, SNAP_MAX_SIZE >> 20);
	}
	b = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!b) {
		close(fd);
		return err_set(e, "%s: out of memory", path);
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);

		if (n <= 0) {
			err_set(e, "%s: %s", path, n < 0 ? strerror(errno) : "shrank while read");
			free(b);
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	*buf = b;
	*len = got;
	return 0;
}

int snap_write_file(const char *path, const uint8_t *buf, size_t len, struct err *e)
{
	char tmp[PATH_MAX];
	int fd;
	size_t done = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return err_set(e, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, "%s: %s", tmp, strerror(errno));
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err_set(e, "%s: %s", tmp, n < 0 ? strerror(errno) : "short write");
			goto fail;
		}
		done += (size_t)n;
	}
	if (fsync(fd) < 0) {
		err_set(e, "%s: fsync: %s", tmp, strerror(errno));
		goto fail;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		err_set(e, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
fail:
	close(fd);
	unlink(tmp);
	return -1;
}
