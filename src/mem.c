// SPDX-License-Identifier: MIT
#include "mem.h"

#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/memfd.h>
#include <sys/mman.h>
#include <unistd.h>

int mem_check_size(uint64_t size, struct err *e)
{
	if (size < MEM_MIN_SIZE)
		return err_set(e, "memory size %llu MiB is too small: mote needs at least %llu MiB",
		               (unsigned long long)(size / MiB),
		               (unsigned long long)(MEM_MIN_SIZE / MiB));
	if (size > MEM_MAX_SIZE)
		return err_set(e, "memory size %llu GiB is too large (at most %llu GiB)",
		               (unsigned long long)(size / GiB),
		               (unsigned long long)(MEM_MAX_SIZE / GiB));
	if (size % PAGE_SIZE)
		return err_set(e, "memory size %llu is not a multiple of 4 KiB",
		               (unsigned long long)size);
	return 0;
}

int mem_layout(struct guest_mem *m, uint64_t size, struct err *e)
{
	memset(m, 0, sizeof(*m));
	if (mem_check_size(size, e) < 0)
		return -1;
	m->size = size;
	m->fd = -1;
	m->slots[0].gpa = 0;
	m->slots[0].size = size < MEM_HOLE_START ? size : MEM_HOLE_START;
	m->nr_slots = 1;
	if (size > MEM_HOLE_START) {
		m->slots[1].gpa = MEM_HOLE_END;
		m->slots[1].size = size - MEM_HOLE_START;
		m->nr_slots = 2;
	}
	return 0;
}

int mem_parse_backend(const char *s, enum mem_backend *out)
{
	static const char *const names[] = {"anon", "memfd", "hugetlb"};

	for (int i = 0; i < 3; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum mem_backend)i;
			return 0;
		}
	return -1;
}

bool mem_can_map_files(const struct guest_mem *m)
{
	/* A file mapped over a shared backend would hide the guest's writes
	 * there from the memfd, which must hold all of guest RAM. */
	return m->opts.backend == MEM_ANON && !m->opts.private_images;
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

#define HUGEPAGES_DIR "/sys/kernel/mm/hugepages/hugepages-2048kB/"

/* Checks that the host has enough free 2 MiB pages for @size bytes. */
static int check_huge_pages(uint64_t size, struct err *e)
{
	long need = (long)(size / HUGE_PAGE_SIZE);
	long total = read_long(HUGEPAGES_DIR "nr_hugepages");
	long free_pages = read_long(HUGEPAGES_DIR "free_hugepages");

	if (size % HUGE_PAGE_SIZE)
		return err_set(e, "--memory-backend hugetlb: the memory size must be a multiple "
		                  "of 2 MiB");
	if (total < 0 || free_pages < 0)
		return err_set(e, "--memory-backend hugetlb: this host kernel offers no 2 MiB "
		                  "huge pages (" HUGEPAGES_DIR " is missing)");
	if (free_pages < need)
		return err_set(e,
		               "--memory-backend hugetlb: %llu MiB of guest memory needs %ld "
		               "free 2 MiB huge pages, the host has %ld free; reserve them as root "
		               "with: echo %ld > " HUGEPAGES_DIR "nr_hugepages",
		               (unsigned long long)(size / MiB), need, free_pages,
		               total + need - free_pages);
	return 0;
}

/* Opens the memfd behind a shared backend; -1 and a message on failure. */
static int open_backing(struct guest_mem *m, struct err *e)
{
	unsigned flags = MFD_CLOEXEC;

	if (m->opts.backend == MEM_HUGETLB) {
		if (check_huge_pages(m->size, e) < 0)
			return -1;
		flags |= MFD_HUGETLB | MFD_HUGE_2MB;
	}
	m->fd = memfd_create("mote-guest-ram", flags);
	if (m->fd < 0)
		return err_set(e, "cannot create guest memory (memfd): %s", strerror(errno));
	if (ftruncate(m->fd, (off_t)m->size) < 0)
		return err_set(e, "cannot size guest memory to %llu MiB: %s",
		               (unsigned long long)(m->size / MiB), strerror(errno));
	return 0;
}

/* The default: a small guest's first touch costs 4 KiB, not 2 MiB, even where
 * the host's THP is "always" (idle guests touch memory sparsely); a large one
 * asks for THP. A host without THP refuses both: no error then. */
static void set_auto_thp(const struct guest_mem *m, void *p)
{
	bool big = m->size >= MEM_THP_AUTO_MIN && m->opts.backend == MEM_ANON;

	if (m->opts.backend == MEM_HUGETLB || m->opts.thp == MEM_THP_ON)
		return;
	if (m->opts.thp == MEM_THP_AUTO && big)
		madvise(p, m->size, MADV_HUGEPAGE);
	else
		madvise(p, m->size, MADV_NOHUGEPAGE);
}

void mem_want_huge(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t start = gpa & ~(HUGE_PAGE_SIZE - 1), end, low_end = mem_low_end(m);
	void *p;

	if (m->opts.backend != MEM_ANON || m->opts.thp == MEM_THP_OFF ||
	    __builtin_add_overflow(gpa, len, &end) || end > low_end)
		return;
	end = (end + HUGE_PAGE_SIZE - 1) & ~(HUGE_PAGE_SIZE - 1);
	if (end > low_end)
		end = low_end;
	p = end > start ? guest_ptr(m, start, end - start) : NULL;
	if (p)
		madvise(p, end - start, MADV_HUGEPAGE);
}

/* A 2 MiB-aligned stretch of @size bytes of address space, reserved (no
 * access, no memory) for guest RAM to be mapped over; NULL on failure. KVM
 * maps guest pages with 2 MiB (and 1 GiB) page-table entries only where the
 * host address and the guest address agree modulo that size, and the host
 * backs only aligned 2 MiB ranges with huge pages: a RAM mapping that starts
 * off a 2 MiB boundary gets 4 KiB entries everywhere, and the guest pays in
 * TLB misses (its own time to init grew with its memory). */
static void *reserve_aligned(uint64_t size)
{
	uint64_t align = HUGE_PAGE_SIZE, start, end;
	void *p =
	    mmap(NULL, size + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	start = ((uintptr_t)p + align - 1) & ~(align - 1);
	end = start + size;
	if (start > (uintptr_t)p)
		munmap(p, start - (uintptr_t)p);
	if ((uintptr_t)p + size + align > end)
		munmap((void *)(uintptr_t)end, (uintptr_t)p + size + align - end);
	return (void *)(uintptr_t)start;
}

int mem_map(struct guest_mem *m, struct err *e)
{
	int flags = MAP_FIXED | MAP_NORESERVE | (m->opts.prefault ? MAP_POPULATE : 0);
	void *p;

	m->fd = -1;
	if (m->opts.backend != MEM_ANON && open_backing(m, e) < 0)
		return -1;
	if (m->opts.backend == MEM_ANON)
		flags |= MAP_PRIVATE | MAP_ANONYMOUS;
	else
		flags = (flags & ~MAP_NORESERVE) | MAP_SHARED;
	p = reserve_aligned(m->size);
	if (p && mmap(p, m->size, PROT_READ | PROT_WRITE, flags, m->fd, 0) == MAP_FAILED) {
		munmap(p, m->size);
		p = NULL;
	}
	if (!p)
		return err_set(e, "cannot map %llu MiB of guest memory: %s",
		               (unsigned long long)(m->size / MiB), strerror(errno));
	if (m->opts.thp == MEM_THP_ON && madvise(p, m->size, MADV_HUGEPAGE) < 0)
		return err_set(e,
		               "--thp: madvise(MADV_HUGEPAGE) failed: %s (is "
		               "/sys/kernel/mm/transparent_hugepage/enabled 'never'?)",
		               strerror(errno));
	set_auto_thp(m, p);
	m->host = p;
	m->slots[0].host = m->host;
	if (m->nr_slots > 1)
		m->slots[1].host = m->host + m->slots[0].size;
	return 0;
}

void mem_unmap(struct guest_mem *m)
{
	if (m->host)
		munmap(m->host, m->size);
	m->host = NULL;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	for (int i = 0; i < m->nr_slots; i++)
		m->slots[i].host = NULL;
	free(__atomic_exchange_n(&m->dirty, NULL, __ATOMIC_ACQ_REL));
}

void *guest_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < m->nr_slots; i++) {
		const struct mem_slot *s = &m->slots[i];

		if (gpa < s->gpa || gpa - s->gpa >= s->size)
			continue;
		if (len > s->size - (gpa - s->gpa))
			return NULL;
		return s->host ? s->host + (gpa - s->gpa) : NULL;
	}
	return NULL;
}

int64_t mem_discard(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	static bool warned;
	uint64_t start = (gpa + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	uint64_t end = (gpa + len) & ~(PAGE_SIZE - 1);
	uint8_t *host;

	if (!len || gpa + len < gpa || !guest_ptr(m, gpa, len))
		return -1;
	/* Punching hugetlb pages out would give up their reservation: another
	 * process could take them, and the guest die on its next touch. */
	if (end <= start || m->opts.backend == MEM_HUGETLB)
		return 0;
	host = guest_ptr(m, start, end - start);
	/* Drops private pages: anonymous ones and copies of mapped files. */
	if (madvise(host, end - start, MADV_DONTNEED) < 0 ||
	    (m->fd >= 0 && fallocate(m->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	                             (off_t)(host - m->host), (off_t)(end - start)) < 0)) {
		if (!warned)
			warnx_("cannot give guest RAM back to the host: %s", strerror(errno));
		warned = true;
		return 0;
	}
	/* the page reads zero now (or, over a file, its old bytes): a
	 * migration or a Diff snapshot must carry that */
	mem_mark_dirty_host(m, host, end - start);
	return (int64_t)(end - start);
}

uint64_t mem_low_end(const struct guest_mem *m)
{
	return m->slots[0].size;
}

int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v, mult = 1;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		mult = KiB;
		end++;
		break;
	case 'M':
		mult = MiB;
		end++;
		break;
	case 'G':
		mult = GiB;
		end++;
		break;
	case 'T':
		mult = 1024 * GiB;
		end++;
		break;
	case '\0': break;
	default: return -1;
	}
	if (mult != 1 && (!strcmp(end, "iB") || !strcmp(end, "B")))
		end += strlen(end);
	if (*end || (v && mult > ~0ULL / v))
		return -1;
	*out = v * mult;
	return 0;
}

int64_t mem_offset(const struct guest_mem *m, uint64_t gpa)
{
	const uint8_t *p = guest_ptr(m, gpa, 1);

	return p ? (int64_t)(p - m->host) : -1;
}

void mem_mark_dirty_host(const struct guest_mem *m, const void *p, uint64_t len)
{
	uint64_t *bits = __atomic_load_n(&m->dirty, __ATOMIC_ACQUIRE);
	const uint8_t *b = p;
	uint64_t off;

	if (!bits || !len || !m->host || b < m->host || b >= m->host + m->size ||
	    len > m->size - (uint64_t)(b - m->host))
		return;
	off = (uint64_t)(b - m->host);
	for (uint64_t i = off / PAGE_SIZE; i <= (off + len - 1) / PAGE_SIZE; i++)
		__atomic_fetch_or(&bits[i / 64], 1ULL << (i % 64), __ATOMIC_RELAXED);
}

void mem_mark_dirty(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	const uint8_t *p;

	if (!__atomic_load_n(&m->dirty, __ATOMIC_ACQUIRE) || !len || !(p = guest_ptr(m, gpa, len)))
		return;
	mem_mark_dirty_host(m, p, len);
}
