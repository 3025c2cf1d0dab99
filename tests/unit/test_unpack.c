// SPDX-License-Identifier: MIT
/* A bzImage's payload decompressed on the host and cached: each format the
 * kernel's build writes (gzip; xz, zstd and the lz4 legacy frame with the
 * size appended), broken and lying payloads, the cache's name, write and pruning. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "boot/elf.h"
#include "boot/unpack.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <lz4.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define NAME "test.bzImage"

static uint8_t elf[100000]; /* an ELF-headed blob that compresses */
static uint8_t comp[200000];
static uint8_t out[sizeof(elf)];
static char dir[64];
static const enum unpack_format all[] = {UNPACK_GZIP, UNPACK_XZ, UNPACK_ZSTD, UNPACK_LZ4};
#define NR_FORMATS (sizeof(all) / sizeof(all[0]))

/* A vmlinux-like file in elf: header, a LOAD and a NOTE program header, the
 * Xen PVH entry note (of type @note_type), a segment of patterned bytes. */
static void make_elf(uint32_t note_type)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)elf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(elf + sizeof(*eh));
	Elf64_Nhdr *nh = (Elf64_Nhdr *)(ph + 2);
	uint32_t entry = 0x1000000;

	memset(elf, 0, sizeof(elf));
	for (size_t i = 4096; i < sizeof(elf); i++)
		elf[i] = (uint8_t)((i * 7) ^ (i >> 9));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 2;
	ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
	                     .p_flags = PF_R | PF_X,
	                     .p_offset = 4096,
	                     .p_vaddr = 0xffffffff81000000ULL,
	                     .p_paddr = 0x1000000,
	                     .p_filesz = sizeof(elf) - 4096,
	                     .p_memsz = sizeof(elf) - 4096,
	                     .p_align = 4096};
	ph[1] = (Elf64_Phdr){
	    .p_type = PT_NOTE, .p_offset = (uint8_t *)nh - elf, .p_filesz = 20, .p_align = 4};
	*nh = (Elf64_Nhdr){.n_namesz = 4, .n_descsz = 4, .n_type = note_type};
	memcpy(nh + 1, "Xen", 4);
	memcpy((uint8_t *)(nh + 1) + 4, &entry, 4);
}

static int setup(void **state)
{
	(void)state;
	make_elf(XEN_ELFNOTE_PHYS32_ENTRY);
	snprintf(dir, sizeof(dir), "/tmp/mote-unpack-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static size_t append_size(size_t n, uint32_t size)
{
	memcpy(comp + n, &size, 4);
	return n + 4;
}

/* @src[0..len) compressed as the kernel's build does it, in comp; its length. */
static size_t compress_as(enum unpack_format f, const uint8_t *src, size_t len)
{
	size_t n = 0;

	switch (f) {
	case UNPACK_GZIP: {
		z_stream z = {0};

		assert_int_equal(
		    deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
		z.next_in = (Bytef *)(uintptr_t)src;
		z.avail_in = (uInt)len;
		z.next_out = comp;
		z.avail_out = sizeof(comp);
		assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
		n = z.total_out;
		deflateEnd(&z);
		return n; /* gzip's trailer ends with the size already */
	}
	case UNPACK_XZ:
		assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, src, len, comp,
		                                         &n, sizeof(comp)),
		                 LZMA_OK);
		break;
	case UNPACK_ZSTD: { /* with a checksum, as the zstd command writes by default */
		ZSTD_CCtx *c = ZSTD_createCCtx();

		ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 19);
		ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
		n = ZSTD_compress2(c, comp, sizeof(comp), src, len);
		ZSTD_freeCCtx(c);
		assert_false(ZSTD_isError(n));
		break;
	}
	case UNPACK_LZ4: {
		uint32_t magic = 0x184c2102, k;

		memcpy(comp, &magic, 4);
		k = (uint32_t)LZ4_compress_default((const char *)src, (char *)comp + 8, (int)len,
		                                   (int)sizeof(comp) - 16);
		assert_true(k > 0);
		memcpy(comp + 4, &k, 4);
		n = 8 + k;
		break;
	}
	}
	return append_size(n, (uint32_t)len);
}

/* A bzImage-shaped view of comp[0..n): the payload at the kernel's start. */
static int find(size_t n, struct unpack_payload *p, struct err *e)
{
	struct bzimage bz;

	memset(&bz, 0, sizeof(bz));
	bz.hdr.payload_length = (uint32_t)n;
	return unpack_find(comp, n, &bz, NAME, p, e);
}

static void test_every_format_round_trips(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_FORMATS; i++) {
		struct unpack_payload p;
		struct err e;
		size_t n = compress_as(all[i], elf, sizeof(elf));

		assert_int_equal(find(n, &p, &e), 1);
		assert_int_equal(p.format, all[i]);
		assert_int_equal(p.out_size, sizeof(elf));
		memset(out, 0, sizeof(out));
		assert_int_equal(unpack_decompress(&p, out, NAME, &e), 0);
		assert_memory_equal(out, elf, sizeof(elf));
	}
}

static void test_payload_outside_file(void **state)
{
	struct bzimage bz;
	struct unpack_payload p;
	struct err e;
	size_t n = compress_as(UNPACK_GZIP, elf, sizeof(elf));

	(void)state;
	memset(&bz, 0, sizeof(bz));
	bz.kernel_offset = 512;
	bz.hdr.payload_offset = (uint32_t)n;
	bz.hdr.payload_length = 16;
	assert_int_equal(unpack_find(comp, n, &bz, NAME, &p, &e), -1);
	assert_non_null(strstr(e.msg, NAME));
	assert_non_null(strstr(e.msg, "lies outside"));
}

static void test_unknown_format_left_to_guest(void **state)
{
	struct unpack_payload p;
	struct err e;

	(void)state;
	memcpy(comp, "BZh91AY&SY", 10); /* bzip2 */
	append_size(10, sizeof(elf));
	assert_int_equal(find(14, &p, &e), 0);
}

static void test_size_claims_checked(void **state)
{
	struct unpack_payload p;
	struct err e;
	size_t n = compress_as(UNPACK_XZ, elf, sizeof(elf));

	(void)state;
	memcpy(comp + n - 4, &(uint32_t){0xffffffffU}, 4);
	assert_int_equal(find(n, &p, &e), -1);
	assert_non_null(strstr(e.msg, "decompresses to 4294967295 bytes"));
	/* a smaller claim: the output does not fit; a larger one: it falls short */
	memcpy(comp + n - 4, &(uint32_t){sizeof(elf) - 1}, 4);
	assert_int_equal(find(n, &p, &e), 1);
	assert_int_equal(unpack_decompress(&p, out, NAME, &e), -1);
	memcpy(comp + n - 4, &(uint32_t){sizeof(elf) + 1}, 4);
	assert_int_equal(find(n, &p, &e), 1);
	{
		uint8_t *big = malloc(sizeof(elf) + 1);

		assert_int_equal(unpack_decompress(&p, big, NAME, &e), -1);
		assert_non_null(strstr(e.msg, "decompresses to 100000 bytes, not the 100001"));
		free(big);
	}
}

static void test_broken_streams(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_FORMATS; i++) {
		struct unpack_payload p;
		struct err e;
		size_t n = compress_as(all[i], elf, sizeof(elf));

		/* the middle of the stream flipped, the ends kept: found by the
		 * check every format but lz4's legacy frame carries */
		for (size_t k = n / 2; k < n / 2 + 8; k++)
			comp[k] ^= 0x5a;
		if (all[i] != UNPACK_LZ4 && find(n, &p, &e) == 1) {
			assert_int_equal(unpack_decompress(&p, out, NAME, &e), -1);
			assert_non_null(strstr(e.msg, NAME));
			assert_non_null(strstr(e.msg, unpack_format_name(all[i])));
		}
		/* cut short, its size kept */
		n = compress_as(all[i], elf, sizeof(elf));
		memmove(comp + n / 2, comp + n - 4, 4);
		assert_int_equal(find(n / 2 + 4, &p, &e), 1);
		assert_int_equal(unpack_decompress(&p, out, NAME, &e), -1);
	}
}

static void test_not_an_elf_file(void **state)
{
	static uint8_t text[4096];
	struct unpack_payload p;
	struct err e;

	(void)state;
	memset(text, 'x', sizeof(text));
	assert_int_equal(find(compress_as(UNPACK_ZSTD, text, sizeof(text)), &p, &e), 1);
	assert_int_equal(unpack_decompress(&p, out, NAME, &e), -1);
	assert_non_null(strstr(e.msg, "holds no ELF file"));
}

/* A bzImage file in dir (its content does not matter to the cache),
 * one at a time: @f keeps the path, which lives here until the next. */
static void open_file(const char *name, struct image_file *f)
{
	static char path[128];
	struct err e;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "bz", 2), 2);
	close(fd);
	assert_int_equal(image_open(f, path, "kernel", &e), 0);
}

static int count_entries(const char *d, bool hidden)
{
	DIR *dp = opendir(d);
	struct dirent *x;
	int n = 0;

	if (!dp)
		return 0;
	while ((x = readdir(dp)))
		if (strcmp(x->d_name, ".") && strcmp(x->d_name, "..") &&
		    (x->d_name[0] == '.') == hidden)
			n++;
	closedir(dp);
	return n;
}

/* The bzImage file @name in dir with the payload of @fmt in comp (found
 * into @p), and its cache path under dir/@sub in @path. */
static void entry(const char *name, const char *sub, enum unpack_format fmt, struct image_file *f,
                  struct unpack_payload *p, char *path, size_t n)
{
	char cache[128];
	struct err e;

	snprintf(cache, sizeof(cache), "%s/%s", dir, sub);
	open_file(name, f);
	assert_int_equal(find(compress_as(fmt, elf, sizeof(elf)), p, &e), 1);
	assert_int_equal(unpack_cache_path(f, p, cache, path, n), 0);
}

static void test_cache_made_once_then_reused(void **state)
{
	char path[4096], again[4096], folder[128];
	struct image_file f;
	struct unpack_payload p;
	struct err e;
	struct stat st, st2;
	FILE *in;

	(void)state;
	entry("vmlinuz-1", "cache/vmlinux", UNPACK_LZ4, &f, &p, path, sizeof(path));
	assert_non_null(strstr(path, "/cache/vmlinux/vmlinuz-1-"));
	assert_int_equal(unpack_to_cache(&f, &p, path, &e), 1); /* the folders made too */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0444);
	in = fopen(path, "rb");
	assert_non_null(in);
	assert_int_equal(fread(out, 1, sizeof(out), in), sizeof(elf));
	fclose(in);
	assert_memory_equal(out, elf, sizeof(elf));
	/* found again: its time set, so that pruning takes it last */
	assert_int_equal(utimensat(AT_FDCWD, path, (struct timespec[]){{5, 0}, {5, 0}}, 0), 0);
	assert_int_equal(unpack_to_cache(&f, &p, path, &e), 0);
	assert_int_equal(stat(path, &st2), 0);
	assert_true(st2.st_mtime > 5);
	snprintf(folder, sizeof(folder), "%s/cache/vmlinux", dir);
	assert_int_equal(count_entries(folder, true), 0); /* no temporary file left */
	/* the same file changed: another name */
	assert_int_equal(futimens(f.fd, (struct timespec[]){{1, 0}, {1, 0}}), 0);
	assert_int_equal(unpack_cache_path(&f, &p, folder, again, sizeof(again)), 0);
	assert_string_not_equal(path, again);
	image_close(&f);
}

static void test_no_pvh_noted_not_kept(void **state)
{
	char path[4096], mark[4200];
	struct image_file f;
	struct unpack_payload p;
	struct err e;

	(void)state;
	make_elf(NT_GNU_BUILD_ID); /* no PVH entry note */
	entry("vmlinuz-nopvh", "nopvh", UNPACK_GZIP, &f, &p, path, sizeof(path));
	make_elf(XEN_ELFNOTE_PHYS32_ENTRY);
	assert_int_equal(unpack_to_cache(&f, &p, path, &e), UNPACK_UNFIT);
	assert_non_null(strstr(e.msg, "PVH"));
	assert_int_equal(access(path, F_OK), -1);
	snprintf(mark, sizeof(mark), "%s.unfit", path);
	assert_int_equal(access(mark, F_OK), 0);
	/* the next time from the note, with the same reason */
	memset(comp, 0, sizeof(comp)); /* the payload is not read again */
	e.msg[0] = '\0';
	assert_int_equal(unpack_to_cache(&f, &p, path, &e), UNPACK_UNFIT);
	assert_non_null(strstr(e.msg, "PVH"));
	image_close(&f);
}

static void test_broken_payload_leaves_nothing(void **state)
{
	char path[4096], folder[128];
	struct image_file f;
	struct unpack_payload p;
	struct err e;

	(void)state;
	entry("vmlinuz-broken", "broken", UNPACK_GZIP, &f, &p, path, sizeof(path));
	comp[p.len / 2] ^= 0xff;
	comp[p.len / 2 + 1] ^= 0xff;
	assert_int_equal(unpack_to_cache(&f, &p, path, &e), UNPACK_BROKEN);
	assert_non_null(strstr(e.msg, "its gzip payload is broken"));
	snprintf(folder, sizeof(folder), "%s/broken", dir);
	assert_int_equal(count_entries(folder, true) + count_entries(folder, false), 0);
	image_close(&f);
}

static void test_cache_not_usable(void **state)
{
	char path[4096], folder[128];
	struct image_file f;
	struct unpack_payload p;
	struct err e;

	(void)state;
	/* the cache's folder is a file: nothing can go under it */
	entry("vmlinuz-1", "vmlinuz-1", UNPACK_GZIP, &f, &p, path, sizeof(path));
	assert_int_equal(unpack_to_cache(&f, &p, path, &e), UNPACK_CANNOT);
	assert_non_null(strstr(e.msg, "cannot open the cache folder"));
	image_close(&f);
	/* a folder others may write in: not trusted */
	entry("vmlinuz-2", "shared", UNPACK_GZIP, &f, &p, path, sizeof(path));
	snprintf(folder, sizeof(folder), "%s/shared", dir);
	assert_int_equal(mkdir(folder, 0777), 0);
	assert_int_equal(chmod(folder, 0777), 0);
	assert_int_equal(unpack_to_cache(&f, &p, path, &e), UNPACK_CANNOT);
	assert_non_null(strstr(e.msg, "is not this user's alone"));
	assert_int_equal(access(path, F_OK), -1);
	image_close(&f);
}

static void test_cache_keeps_the_newest(void **state)
{
	char path[4096], folder[128], old[4200];
	struct image_file f;
	struct unpack_payload p;
	struct err e;

	(void)state;
	snprintf(folder, sizeof(folder), "%s/prune", dir);
	assert_int_equal(mkdir(folder, 0755), 0);
	for (int i = 0; i < UNPACK_CACHE_KEEP + 3; i++) {
		int fd;

		snprintf(old, sizeof(old), "%s/old-%d", folder, i);
		fd = open(old, O_CREAT | O_WRONLY, 0644);
		assert_true(fd >= 0);
		/* old-0 the oldest */
		assert_int_equal(futimens(fd, (struct timespec[]){{1000 + i, 0}, {1000 + i, 0}}),
		                 0);
		close(fd);
	}
	entry("vmlinuz-new", "prune", UNPACK_ZSTD, &f, &p, path, sizeof(path));
	assert_int_equal(unpack_to_cache(&f, &p, path, &e), 1);
	assert_int_equal(count_entries(folder, false), UNPACK_CACHE_KEEP);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(old, sizeof(old), "%s/old-0", folder);
	assert_int_equal(access(old, F_OK), -1);
	snprintf(old, sizeof(old), "%s/old-%d", folder, UNPACK_CACHE_KEEP + 2);
	assert_int_equal(access(old, F_OK), 0);
	image_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_format_round_trips),
	    cmocka_unit_test(test_payload_outside_file),
	    cmocka_unit_test(test_unknown_format_left_to_guest),
	    cmocka_unit_test(test_size_claims_checked),
	    cmocka_unit_test(test_broken_streams),
	    cmocka_unit_test(test_not_an_elf_file),
	    cmocka_unit_test(test_cache_made_once_then_reused),
	    cmocka_unit_test(test_broken_payload_leaves_nothing),
	    cmocka_unit_test(test_no_pvh_noted_not_kept),
	    cmocka_unit_test(test_cache_not_usable),
	    cmocka_unit_test(test_cache_keeps_the_newest),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
