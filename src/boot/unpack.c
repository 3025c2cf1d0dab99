// SPDX-License-Identifier: MIT
/* The compressed payload of a bzImage (boot protocol 2.08+: payload_offset and payload_length
 * in the setup header) is the kernel's ELF file (vmlinux, stripped), compressed as the
 * kernel's build chose, with the decompressed size in its last 4 bytes (gzip's own trailer;
 * appended by the build for the others). Decompressed by Debian's zlib, liblzma, libzstd and
 * liblz4; the kernel's lz4 is the legacy frame format, read here. */
#include "unpack.h"

#include "../cachedir.h"
#include "elf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lz4.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* The lz4 legacy frame: this magic, then blocks of a 4-byte size and that
 * many bytes, each decompressing to at most 8 MiB. */
#define LZ4_LEGACY_MAGIC 0x184c2102U
#define LZ4_LEGACY_BLOCK (8U << 20)

static const struct {
	uint8_t magic[6];
	size_t len;
	enum unpack_format format;
	const char *name;
} formats[] = {
    {{0x1f, 0x8b}, 2, UNPACK_GZIP, "gzip"},
    {{0xfd, '7', 'z', 'X', 'Z', 0}, 6, UNPACK_XZ, "xz"},
    {{0x28, 0xb5, 0x2f, 0xfd}, 4, UNPACK_ZSTD, "zstd"},
    {{0x02, 0x21, 0x4c, 0x18}, 4, UNPACK_LZ4, "lz4"},
};

const char *unpack_format_name(enum unpack_format f)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (formats[i].format == f)
			return formats[i].name;
	return "?";
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int unpack_find(const uint8_t *file, uint64_t size, const struct bzimage *bz, const char *name,
                struct unpack_payload *p, struct err *e)
{
	uint64_t off = bz->kernel_offset + bz->hdr.payload_offset, len = bz->hdr.payload_length;

	if (off > size || len > size - off || len < 8)
		return err_set(e,
		               "kernel '%s': its compressed payload [0x%llx, +0x%llx) lies "
		               "outside the %llu-byte file",
		               name, (unsigned long long)off, (unsigned long long)len,
		               (unsigned long long)size);
	memset(p, 0, sizeof(*p));
	p->data = file + off;
	p->len = len;
	p->out_size = le32(p->data + len - 4);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (memcmp(p->data, formats[i].magic, formats[i].len))
			continue;
		p->format = formats[i].format;
		if (p->out_size < 64 || p->out_size > UNPACK_MAX_SIZE)
			return err_set(e,
			               "kernel '%s': its %s payload says it decompresses to %llu "
			               "bytes (mote takes 64 to %llu)",
			               name, formats[i].name, (unsigned long long)p->out_size,
			               UNPACK_MAX_SIZE);
		return 1;
	}
	return 0;
}

static int gunzip(const struct unpack_payload *p, uint8_t *out, uint64_t *got)
{
	z_stream z;
	int r;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -1;
	z.next_in = (Bytef *)(uintptr_t)p->data;
	z.avail_in = (uInt)p->len;
	z.next_out = out;
	z.avail_out = (uInt)p->out_size;
	r = inflate(&z, Z_FINISH);
	*got = z.total_out;
	inflateEnd(&z);
	return r == Z_STREAM_END ? 0 : -1;
}

static int unxz(const struct unpack_payload *p, uint8_t *out, uint64_t *got)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret r;

	/* The kernel's build uses a 32 MiB dictionary at most. */
	if (lzma_stream_decoder(&s, 256ULL << 20, 0) != LZMA_OK)
		return -1;
	s.next_in = p->data;
	s.avail_in = p->len - 4;
	s.next_out = out;
	s.avail_out = p->out_size;
	r = lzma_code(&s, LZMA_FINISH);
	*got = s.total_out;
	lzma_end(&s);
	return r == LZMA_STREAM_END ? 0 : -1;
}

static int unzstd(const struct unpack_payload *p, uint8_t *out, uint64_t *got)
{
	size_t frame = ZSTD_findFrameCompressedSize(p->data, p->len - 4), n;

	if (ZSTD_isError(frame))
		return -1;
	n = ZSTD_decompress(out, p->out_size, p->data, frame);
	if (ZSTD_isError(n))
		return -1;
	*got = n;
	return 0;
}

static int unlz4(const struct unpack_payload *p, uint8_t *out, uint64_t *got)
{
	const uint8_t *in = p->data + 4, *end = p->data + p->len - 4;

	*got = 0;
	while (in < end) {
		uint32_t n;
		int k;

		if (end - in < 4)
			return -1;
		n = le32(in);
		in += 4;
		if (n == LZ4_LEGACY_MAGIC) /* a second frame, concatenated */
			continue;
		if (n > (uint64_t)(end - in) || n > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK))
			return -1;
		k = LZ4_decompress_safe((const char *)in, (char *)out + *got, (int)n,
		                        (int)(p->out_size - *got < LZ4_LEGACY_BLOCK
		                                  ? p->out_size - *got
		                                  : LZ4_LEGACY_BLOCK));
		if (k < 0)
			return -1;
		*got += (uint64_t)k;
		in += n;
	}
	return 0;
}

int unpack_decompress(const struct unpack_payload *p, uint8_t *out, const char *name, struct err *e)
{
	static int (*const fn[])(const struct unpack_payload *, uint8_t *,
	                         uint64_t *) = {[UNPACK_GZIP] = gunzip,
	                                        [UNPACK_XZ] = unxz,
	                                        [UNPACK_ZSTD] = unzstd,
	                                        [UNPACK_LZ4] = unlz4};
	uint64_t got = 0;

	if (fn[p->format](p, out, &got) < 0)
		return err_set(e, "kernel '%s': its %s payload is broken (decompression failed)",
		               name, unpack_format_name(p->format));
	if (got != p->out_size)
		return err_set(e,
		               "kernel '%s': its %s payload decompresses to %llu bytes, not the "
		               "%llu its end says",
		               name, unpack_format_name(p->format), (unsigned long long)got,
		               (unsigned long long)p->out_size);
	if (memcmp(out, "\177ELF", 4))
		return err_set(e, "kernel '%s': its %s payload holds no ELF file", name,
		               unpack_format_name(p->format));
	return 0;
}

int unpack_cache_path(const struct image_file *f, const struct unpack_payload *p,
                      const char *cache_dir, char *path, size_t n)
{
	const char *base = strrchr(f->path, '/');
	uint64_t id[8], h = 0xcbf29ce484222325ULL; /* FNV-1a */
	struct stat st;
	int w;

	if (fstat(f->fd, &st) < 0)
		return -1;
	id[0] = st.st_dev;
	id[1] = st.st_ino;
	id[2] = (uint64_t)st.st_size;
	id[3] = (uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec;
	id[4] = (uint64_t)st.st_ctim.tv_sec * 1000000000ULL + (uint64_t)st.st_ctim.tv_nsec;
	id[5] = p->len;
	id[6] = p->out_size;
	id[7] = 2; /* the layout of this name; bump to leave old entries behind */
	for (size_t i = 0; i < sizeof(id); i++)
		h = (h ^ ((const uint8_t *)id)[i]) * 0x100000001b3ULL;
	base = base ? base + 1 : f->path;
	base += strspn(base, "."); /* a name of its own never hides as a temporary file */
	w = snprintf(path, n, "%s/%.64s-%016llx", cache_dir, base, (unsigned long long)h);
	return w > 0 && (size_t)w < n ? 0 : -1;
}

struct entry {
	struct timespec mtime;
	char name[NAME_MAX + 1];
};

static int by_mtime(const void *a, const void *b)
{
	const struct timespec *x = &((const struct entry *)a)->mtime;
	const struct timespec *y = &((const struct entry *)b)->mtime;

	if (x->tv_sec != y->tv_sec)
		return x->tv_sec < y->tv_sec ? -1 : 1;
	return (x->tv_nsec > y->tv_nsec) - (x->tv_nsec < y->tv_nsec);
}

/* Removes the oldest entries of the folder of @path past UNPACK_CACHE_KEEP,
 * never @path, and temporary files a day old (a mote that died writing). */
static void prune(const char *path)
{
	const char *slash = strrchr(path, '/');
	struct entry old[64];
	char dir[PATH_MAX];
	struct dirent *d;
	struct stat st;
	int n = 0;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	dp = opendir(dir);
	if (!dp)
		return;
	while ((d = readdir(dp)) && n < 64) {
		if (fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || !strcmp(d->d_name, slash + 1))
			continue;
		if (d->d_name[0] != '.') {
			old[n].mtime = st.st_mtim;
			snprintf(old[n++].name, sizeof(old[0].name), "%s", d->d_name);
		} else if (st.st_mtime < time(NULL) - 24 * 3600) {
			unlinkat(dirfd(dp), d->d_name, 0);
		}
	}
	qsort(old, (size_t)n, sizeof(old[0]), by_mtime);
	for (int i = 0; i <= n - UNPACK_CACHE_KEEP; i++)
		unlinkat(dirfd(dp), old[i].name, 0);
	closedir(dp);
}

static int write_all(int fd, const uint8_t *buf, uint64_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len > (1U << 30) ? (1U << 30) : len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (uint64_t)w;
	}
	return 0;
}

/* Sets "kernel '@name': cannot @what @file: <errno>" in @e; UNPACK_CANNOT. */
static int cannot(struct err *e, const char *name, const char *what, const char *file)
{
	err_set(e, "kernel '%s': cannot %s %s: %s", name, what, file, strerror(errno));
	return UNPACK_CANNOT;
}

/* Keeps why @path's kernel cannot boot unpacked, in @path.unfit, so that
 * the next boot of the same file need not decompress it to learn it. */
static void mark_unfit(const char *path, const char *why)
{
	char mark[PATH_MAX];
	int fd;

	if (snprintf(mark, sizeof(mark), "%s.unfit", path) >= (int)sizeof(mark))
		return;
	fd = open(mark, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0444);
	if (fd < 0)
		return;
	if (write_all(fd, (const uint8_t *)why, strlen(why)) < 0)
		unlink(mark);
	close(fd);
}

/* UNPACK_UNFIT with the reason @path.unfit holds, or 0 if there is none. */
static int read_unfit(const char *path, struct err *e)
{
	char mark[PATH_MAX];
	ssize_t n;
	int fd;

	if (snprintf(mark, sizeof(mark), "%s.unfit", path) >= (int)sizeof(mark))
		return 0;
	fd = open(mark, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	n = read(fd, e->msg, sizeof(e->msg) - 1);
	close(fd);
	e->msg[n > 0 ? n : 0] = '\0';
	return UNPACK_UNFIT;
}

/* Decompresses @p and writes it to the new file @fd: 0, UNPACK_BROKEN,
 * UNPACK_UNFIT (an ELF file without the PVH entry: nothing written) or
 * UNPACK_CANNOT. The file is made read-only and synced before its rename. */
static int fill(int fd, const struct unpack_payload *p, const char *name, const char *tmp,
                struct err *e)
{
	uint8_t *buf = mmap(NULL, p->out_size, PROT_READ | PROT_WRITE,
	                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct elf_image img;
	int ret;

	if (buf == MAP_FAILED)
		return cannot(e, name, "map memory for its unpacked copy", tmp);
	ret = unpack_decompress(p, buf, name, e);
	if (!ret && elf_parse(buf, p->out_size, name, &img, e) < 0)
		ret = UNPACK_UNFIT;
	if (!ret && (write_all(fd, buf, p->out_size) < 0 || fchmod(fd, 0444) < 0 || fsync(fd) < 0))
		ret = cannot(e, name, "write its unpacked copy", tmp);
	munmap(buf, p->out_size);
	return ret;
}

/* Opens the cache's folder @dir (made if missing) when it is this user's
 * alone: another user who could write in it could plant a kernel. */
static int open_dir(const char *dir, const char *name, struct err *e)
{
	struct stat st;
	int fd;

	cache_make_parents(dir);
	mkdir(dir, 0755);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return cannot(e, name, "open the cache folder", dir);
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		return err_set(e,
		               "kernel '%s': the cache folder %s is not this user's alone (owner "
		               "%u, mode %03o): not trusted with kernels",
		               name, dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777)),
		       UNPACK_CANNOT;
	}
	return fd;
}

/* Fills the cache entry @path from @p while holding the folder's lock: a
 * mote that waited finds the entry another one made. */
static int fill_entry(const char *name, const struct unpack_payload *p, const char *path,
                      struct err *e)
{
	int cut = (int)(strrchr(path, '/') - path), fd, ret;
	char tmp[PATH_MAX];
	struct stat st;

	if (read_unfit(path, e))
		return UNPACK_UNFIT;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == p->out_size) {
		utimensat(AT_FDCWD, path, NULL, 0); /* recently used: pruned last */
		return 0;
	}
	if (snprintf(tmp, sizeof(tmp), "%.*s/.tmp-XXXXXX", cut, path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return cannot(e, name, "write its unpacked copy in", path);
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return cannot(e, name, "write its unpacked copy in", tmp);
	ret = fill(fd, p, name, tmp, e);
	if (close(fd) < 0 && !ret)
		ret = cannot(e, name, "write its unpacked copy", tmp);
	if (!ret && rename(tmp, path) < 0)
		ret = cannot(e, name, "name its unpacked copy", path);
	if (ret)
		unlink(tmp);
	if (ret == UNPACK_UNFIT)
		mark_unfit(path, e->msg);
	if (ret && ret != UNPACK_CANNOT)
		return ret;
	prune(path);
	return ret ? ret : 1;
}

int unpack_to_cache(const struct image_file *f, const struct unpack_payload *p, const char *path,
                    struct err *e)
{
	char dir[PATH_MAX];
	int fd, ret;

	snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(path, '/') - path), path);
	fd = open_dir(dir, f->path, e);
	if (fd < 0)
		return fd;
	flock(fd, LOCK_EX); /* where the file system has no locks, each mote fills alone */
	ret = fill_entry(f->path, p, path, e);
	close(fd);
	return ret;
}
