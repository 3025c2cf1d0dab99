// SPDX-License-Identifier: MIT
/* Sparse guest-memory files: what was populated goes out, holes stay holes both ways. */
#include "memory.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGEMAP_PRESENT (1ULL << 63)
#define PAGEMAP_SWAPPED (1ULL << 62)
#define PAGEMAP_CHUNK   4096 /* entries read at once */
/* More data extents than this are mapped as one file mapping (VMAs are
 * limited: vm.max_map_count). */
#define MAX_EXTENT_MAPS 8192
#define COPY_CHUNK      (1u << 20) /* bytes copied at once */

typedef int populated_fn(const struct guest_mem *m, uint64_t off, uint64_t len, void *arg,
                         struct err *e);

bool mem_is_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	if (len < 16)
		return len == 0 || (b[0] == 0 && !memcmp(b, b + 1, len - 1));
	for (size_t i = 0; i < 16; i++)
		if (b[i])
			return false;
	return !memcmp(b, b + 16, len - 16);
}

/* The data extents of @fd up to @size. */
static int file_extents(int fd, uint64_t size, const struct guest_mem *m, populated_fn *fn,
                        void *arg, struct err *e)
{
	off_t at = 0;

	while ((uint64_t)at < size) {
		off_t data = lseek(fd, at, SEEK_DATA), hole;

		if (data < 0)
			return errno == ENXIO ? 0 : err_set(e, "SEEK_DATA: %s", strerror(errno));
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			return err_set(e, "SEEK_HOLE: %s", strerror(errno));
		if ((uint64_t)hole > size)
			hole = (off_t)size;
		data &= ~(off_t)(PAGE_SIZE - 1);
		if (hole > data && fn(m, (uint64_t)data, (uint64_t)(hole - data), arg, e) < 0)
			return -1;
		at = hole;
	}
	return 0;
}

/* Pages of [off, off+len) of anonymous RAM that are present or swapped. */
static int pagemap_runs(int pm, const struct guest_mem *m, uint64_t off, uint64_t len,
                        populated_fn *fn, void *arg, struct err *e)
{
	uint64_t *ents = malloc(PAGEMAP_CHUNK * sizeof(*ents));
	uint64_t run = 0, run_len = 0;

	if (!ents)
		return err_set(e, "out of memory");
	for (uint64_t p = 0; p < len / PAGE_SIZE;) {
		uint64_t n = len / PAGE_SIZE - p,
		         va = (uint64_t)(uintptr_t)m->host + off + p * PAGE_SIZE;
		ssize_t got;

		n = n > PAGEMAP_CHUNK ? PAGEMAP_CHUNK : n;
		got = pread(pm, ents, n * sizeof(*ents), (off_t)(va / PAGE_SIZE * sizeof(*ents)));
		if (got <= 0 || got % (ssize_t)sizeof(*ents)) {
			free(ents);
			return err_set(e, "/proc/self/pagemap: %s",
			               got < 0 ? strerror(errno) : "short");
		}
		n = (uint64_t)got / sizeof(*ents);
		for (uint64_t i = 0; i < n; i++, p++) {
			if (ents[i] & (PAGEMAP_PRESENT | PAGEMAP_SWAPPED)) {
				if (!run_len)
					run = off + p * PAGE_SIZE;
				run_len += PAGE_SIZE;
			} else if (run_len) {
				if (fn(m, run, run_len, arg, e) < 0)
					goto fail;
				run_len = 0;
			}
		}
	}
	free(ents);
	return run_len ? fn(m, run, run_len, arg, e) : 0;
fail:
	free(ents);
	return -1;
}

/* Walks /proc/self/maps over guest RAM: file mappings count whole, the
 * rest page by page. */
static int anon_runs(const struct guest_mem *m, populated_fn *fn, void *arg, struct err *e)
{
	uint64_t lo = (uint64_t)(uintptr_t)m->host, hi = lo + m->size;
	FILE *maps = fopen("/proc/self/maps", "re");
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	char line[PATH_MAX + 128];
	int ret = 0;

	if (!maps || pm < 0) {
		ret = err_set(e, "/proc/self/%s: %s", maps ? "pagemap" : "maps", strerror(errno));
		goto out;
	}
	while (ret == 0 && fgets(line, sizeof(line), maps)) {
		uint64_t start, end, inode;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %*s %*s %" SCNu64, &start, &end,
		           &inode) != 3 ||
		    end <= lo || start >= hi)
			continue;
		start = start < lo ? lo : start;
		end = end > hi ? hi : end;
		if (inode)
			ret = fn(m, start - lo, end - start, arg, e);
		else
			ret = pagemap_runs(pm, m, start - lo, end - start, fn, arg, e);
	}
out:
	if (maps)
		fclose(maps);
	if (pm >= 0)
		close(pm);
	return ret;
}

int mem_populated(const struct guest_mem *m, populated_fn *fn, void *arg, struct err *e)
{
	if (m->fd >= 0)
		return file_extents(m->fd, m->size, m, fn, arg, e);
	return anon_runs(m, fn, arg, e);
}

struct save_ctx {
	int fd;
	uint64_t bytes;
};

static int write_run(int fd, const uint8_t *p, uint64_t off, uint64_t len, struct err *e)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_set(e, "%s", n < 0 ? strerror(errno) : "short write");
		p += n, off += (uint64_t)n, len -= (uint64_t)n;
	}
	return 0;
}

/* Writes the non-zero pages of one populated run, coalesced. */
static int save_run(const struct guest_mem *m, uint64_t off, uint64_t len, void *arg, struct err *e)
{
	struct save_ctx *c = arg;
	uint64_t start = 0, n = 0;

	for (uint64_t at = off; at < off + len; at += PAGE_SIZE) {
		if (!mem_is_zero(m->host + at, PAGE_SIZE)) {
			if (!n)
				start = at;
			n += PAGE_SIZE;
			continue;
		}
		if (n && write_run(c->fd, m->host + start, start, n, e) < 0)
			return -1;
		c->bytes += n;
		n = 0;
	}
	if (n && write_run(c->fd, m->host + start, start, n, e) < 0)
		return -1;
	c->bytes += n;
	return 0;
}

/* Writes the pages of @bits (set bits; zero pages too) at their offsets. */
static int save_pages(const struct guest_mem *m, const uint64_t *bits, struct save_ctx *c,
                      struct err *e)
{
	uint64_t npages = m->size / PAGE_SIZE;

	for (uint64_t p = 0; p < npages;) {
		uint64_t q = p;

		while (q < npages && (bits[q / 64] >> (q % 64) & 1))
			q++;
		if (q == p) {
			p++;
			continue;
		}
		if (write_run(c->fd, m->host + p * PAGE_SIZE, p * PAGE_SIZE, (q - p) * PAGE_SIZE,
		              e) < 0)
			return -1;
		c->bytes += (q - p) * PAGE_SIZE;
		p = q;
	}
	return 0;
}

/* Bytes in @fd's data extents up to @size; -1 on error. */
static int64_t data_bytes(int fd, uint64_t size)
{
	int64_t total = 0;
	off_t at = 0;

	while ((uint64_t)at < size) {
		off_t data = lseek(fd, at, SEEK_DATA), hole;

		if (data < 0)
			return errno == ENXIO ? total : -1;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			return -1;
		if ((uint64_t)hole > size)
			hole = (off_t)size;
		total += hole - data;
		at = hole;
	}
	return total;
}

/* Makes @path through @path.tmp: sized to @m, the pages written (those of
 * @bits, or the populated non-zero ones if NULL), synced, renamed. */
static int save_to(const struct guest_mem *m, const uint64_t *bits, const char *path,
                   uint64_t *bytes, struct err *e)
{
	char tmp[PATH_MAX];
	struct save_ctx c = {.fd = -1};
	struct err why;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return err_set(e, "%s: path too long", path);
	c.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (c.fd < 0)
		return err_set(e, "%s: %s", tmp, strerror(errno));
	if (ftruncate(c.fd, (off_t)m->size) < 0) {
		err_set(&why, "%s", strerror(errno));
		goto fail;
	}
	if (bits ? save_pages(m, bits, &c, &why) < 0 : mem_populated(m, save_run, &c, &why) < 0)
		goto fail;
	if (fsync(c.fd) < 0) {
		err_set(&why, "fsync: %s", strerror(errno));
		goto fail;
	}
	/* a Diff's holes mean "as in the base": its file system must report
	 * exactly the pages written as data (not a whole file, a 2 MiB folio or
	 * a 64 KiB block around a page; not a zero page stored as a hole) */
	if (bits && data_bytes(c.fd, m->size) != (int64_t)c.bytes) {
		err_set(&why,
		        "its file system reports %lld bytes of data where %llu were written: a "
		        "Diff memory file needs one that reports holes page by page (ext4, xfs, "
		        "btrfs, tmpfs without huge pages)",
		        (long long)data_bytes(c.fd, m->size), (unsigned long long)c.bytes);
		goto fail;
	}
	close(c.fd);
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		return err_set(e, "%s: %s", path, strerror(errno));
	}
	if (bytes)
		*bytes = c.bytes;
	return 0;
fail:
	close(c.fd);
	unlink(tmp);
	return err_set(e, "%s: %s", path, why.msg);
}

int mem_save_file(const struct guest_mem *m, const char *path, uint64_t *bytes, struct err *e)
{
	return save_to(m, NULL, path, bytes, e);
}

int mem_save_diff(const struct guest_mem *m, const uint64_t *bits, const char *path,
                  uint64_t *bytes, struct err *e)
{
	return save_to(m, bits, path, bytes, e);
}

int mem_merge_diff(const char *base, const char *diff, uint64_t *bytes, struct err *e)
{
	int bfd = -1, dfd = -1, ret = -1;
	uint8_t *buf = malloc(COPY_CHUNK);
	struct stat bs, ds;
	struct err why;
	uint64_t copied = 0;
	off_t at = 0;

	if (!buf)
		return err_set(e, "out of memory");
	if ((dfd = open(diff, O_RDONLY | O_CLOEXEC)) < 0 || fstat(dfd, &ds) < 0) {
		err_set(e, "%s: %s", diff, strerror(errno));
		goto out;
	}
	if ((bfd = open(base, O_RDWR | O_CLOEXEC)) < 0 || fstat(bfd, &bs) < 0) {
		err_set(e, "%s: %s", base, strerror(errno));
		goto out;
	}
	if (!S_ISREG(bs.st_mode) || !S_ISREG(ds.st_mode) || bs.st_size != ds.st_size) {
		err_set(e, "%s (%lld bytes) and %s (%lld bytes): not two memory files of one VM",
		        base, (long long)bs.st_size, diff, (long long)ds.st_size);
		goto out;
	}
	while (at < ds.st_size) {
		off_t data = lseek(dfd, at, SEEK_DATA), hole;

		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0 || (hole = lseek(dfd, data, SEEK_HOLE)) < 0) {
			err_set(e, "%s: SEEK_DATA: %s", diff, strerror(errno));
			goto out;
		}
		for (off_t o = data; o < hole;) {
			size_t n = (size_t)(hole - o < COPY_CHUNK ? hole - o : COPY_CHUNK);
			ssize_t r = pread(dfd, buf, n, o);

			if (r <= 0) {
				err_set(e, "%s: %s", diff,
				        r < 0 ? strerror(errno) : "shorter than it was");
				goto out;
			}
			if (write_run(bfd, buf, (uint64_t)o, (uint64_t)r, &why) < 0) {
				err_set(e, "%s: %s", base, why.msg);
				goto out;
			}
			o += r, copied += (uint64_t)r;
		}
		at = hole;
	}
	if (fsync(bfd) < 0) {
		err_set(e, "%s: fsync: %s", base, strerror(errno));
		goto out;
	}
	if (bytes)
		*bytes = copied;
	ret = 0;
out:
	if (bfd >= 0)
		close(bfd);
	if (dfd >= 0)
		close(dfd);
	free(buf);
	return ret;
}

struct load_ctx {
	int fd;
	int maps;        /* extents mapped so far */
	uint8_t *bounce; /* COPY_CHUNK bytes, for copies */
};

static int count_extent(const struct guest_mem *m, uint64_t off, uint64_t len, void *arg,
                        struct err *e)
{
	(void)m, (void)off, (void)len, (void)e;
	++*(int *)arg;
	return 0;
}

static int map_extent(const struct guest_mem *m, uint64_t off, uint64_t len, void *arg,
                      struct err *e)
{
	struct load_ctx *c = arg;

	len = (len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (len > m->size - off)
		len = m->size - off;
	if (mmap(m->host + off, len, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, c->fd, (off_t)off) == MAP_FAILED)
		return err_set(e, "mmap at %llu: %s", (unsigned long long)off, strerror(errno));
	c->maps++;
	return 0;
}

/* Copies one data extent into RAM through a bounce buffer, page by page,
 * leaving out zero pages: a file system may report zeros as data (ext4
 * zeroes small gaps between extents), and a memfd page written with zeros
 * is a page the host holds for nothing. */
static int copy_extent(const struct guest_mem *m, uint64_t off, uint64_t len, void *arg,
                       struct err *e)
{
	struct load_ctx *c = arg;

	if (len > m->size - off)
		len = m->size - off;
	while (len) {
		size_t want = len < COPY_CHUNK ? (size_t)len : COPY_CHUNK;
		ssize_t n = pread(c->fd, c->bounce, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_set(e, "read at %llu: %s", (unsigned long long)off,
			               n < 0 ? strerror(errno) : "short read");
		for (size_t at = 0; at < (size_t)n; at += PAGE_SIZE) {
			size_t part = (size_t)n - at < PAGE_SIZE ? (size_t)n - at : PAGE_SIZE;

			if (!mem_is_zero(c->bounce + at, part))
				memcpy(m->host + off + at, c->bounce + at, part);
		}
		off += (uint64_t)n, len -= (uint64_t)n;
	}
	return 0;
}

int mem_load_file(struct guest_mem *m, const char *path, struct err *e)
{
	struct load_ctx c = {.fd = open(path, O_RDONLY | O_CLOEXEC)};
	struct err why;
	struct stat st;
	int extents = 0, ret;

	if (c.fd < 0)
		return err_set(e, "memory file %s: %s", path, strerror(errno));
	if (fstat(c.fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != m->size) {
		close(c.fd);
		return err_set(e, "memory file %s: %lld bytes, the VM has %llu", path,
		               (long long)st.st_size, (unsigned long long)m->size);
	}
	if (m->fd >= 0) {
		c.bounce = malloc(COPY_CHUNK);
		ret = c.bounce ? file_extents(c.fd, m->size, m, copy_extent, &c, &why)
		               : err_set(&why, "out of memory");
		free(c.bounce);
	} else if ((ret = file_extents(c.fd, m->size, m, count_extent, &extents, &why)) == 0) {
		if (extents > MAX_EXTENT_MAPS)
			ret = map_extent(m, 0, m->size, &c, &why);
		else
			ret = file_extents(c.fd, m->size, m, map_extent, &c, &why);
	}
	close(c.fd);
	return ret < 0 ? err_set(e, "memory file %s: %s", path, why.msg) : 0;
}
