// SPDX-License-Identifier: MIT
/* elf_parse and elf_check_fit on synthetic ELF64 images built in memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "boot/elf.h"

#include <elf.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NR_PH      20
#define PVH_ENTRY  0x1000abcU
#define SEG0_PADDR 0x1000000ULL
#define SEG1_PADDR 0x1200000ULL

/* A vmlinux-like image: header, program headers, a PT_NOTE with a GNU
 * note followed by the Xen PVH note, then two loadable segments. */
struct note {
	Elf64_Nhdr n;
	char name[4];
	uint32_t desc;
};

struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[NR_PH];
	struct note gnu;
	struct note xen;
	uint8_t seg0[0x1000];
	uint8_t seg1[0x800];
};

static struct image img;

#define OFF(field) ((uint64_t)offsetof(struct image, field))

static void set_note(struct note *n, const char *name, uint32_t type, uint32_t desc)
{
	n->n.n_namesz = 4;
	n->n.n_descsz = 4;
	n->n.n_type = type;
	memcpy(n->name, name, 4);
	n->desc = desc;
}

static void set_load(Elf64_Phdr *ph, uint64_t off, uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	*ph = (Elf64_Phdr){.p_type = PT_LOAD,
	                   .p_flags = PF_R | PF_X,
	                   .p_offset = off,
	                   .p_vaddr = 0xffffffff80000000ULL + paddr,
	                   .p_paddr = paddr,
	                   .p_filesz = filesz,
	                   .p_memsz = memsz,
	                   .p_align = 0x1000};
}

/* Builds a valid image with 3 program headers: LOAD, NOTE, LOAD. */
static int setup(void **state)
{
	(void)state;
	memset(&img, 0, sizeof(img));
	memcpy(img.eh.e_ident, ELFMAG, SELFMAG);
	img.eh.e_ident[EI_CLASS] = ELFCLASS64;
	img.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	img.eh.e_ident[EI_VERSION] = EV_CURRENT;
	img.eh.e_type = ET_EXEC;
	img.eh.e_machine = EM_X86_64;
	img.eh.e_version = EV_CURRENT;
	img.eh.e_entry = 0xffffffff81000000ULL;
	img.eh.e_phoff = OFF(ph);
	img.eh.e_ehsize = sizeof(Elf64_Ehdr);
	img.eh.e_phentsize = sizeof(Elf64_Phdr);
	img.eh.e_phnum = 3;
	set_load(&img.ph[0], OFF(seg0), SEG0_PADDR, sizeof(img.seg0), 0x2000);
	img.ph[1] = (Elf64_Phdr){.p_type = PT_NOTE,
	                         .p_offset = OFF(gnu),
	                         .p_filesz = 2 * sizeof(struct note),
	                         .p_align = 4};
	set_load(&img.ph[2], OFF(seg1), SEG1_PADDR, sizeof(img.seg1), 0x1000);
	set_note(&img.gnu, "GNU", NT_GNU_BUILD_ID, 0xdeadbeef);
	set_note(&img.xen, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, PVH_ENTRY);
	return 0;
}

static int parse(size_t len, struct elf_image *out, struct err *e)
{
	memset(e->msg, 0, sizeof(e->msg));
	return elf_parse(&img, len, "vmlinux", out, e);
}

static void assert_parse_fails(size_t len, const char *needle)
{
	struct elf_image out;
	struct err e;

	assert_int_equal(parse(len, &out, &e), -1);
	if (!strstr(e.msg, needle))
		fail_msg("error '%s' does not mention '%s'", e.msg, needle);
	assert_non_null(strstr(e.msg, "vmlinux"));
}

static void test_valid_image(void **state)
{
	struct elf_image out;
	struct err e;

	(void)state;
	assert_int_equal(parse(sizeof(img), &out, &e), 0);
	assert_int_equal(out.pvh_entry, PVH_ENTRY);
	assert_int_equal(out.nr_segments, 2);
	assert_int_equal(out.segments[0].offset, OFF(seg0));
	assert_int_equal(out.segments[0].paddr, SEG0_PADDR);
	assert_int_equal(out.segments[0].filesz, 0x1000);
	assert_int_equal(out.segments[0].memsz, 0x2000);
	assert_int_equal(out.segments[1].offset, OFF(seg1));
	assert_int_equal(out.segments[1].paddr, SEG1_PADDR);
	assert_int_equal(out.segments[1].filesz, 0x800);
	assert_int_equal(out.segments[1].memsz, 0x1000);
}

static void test_is_elf(void **state)
{
	(void)state;
	assert_true(elf_is_elf(&img, sizeof(img)));
	assert_false(elf_is_elf(&img, SELFMAG - 1));
	img.eh.e_ident[EI_MAG1] = 'X';
	assert_false(elf_is_elf(&img, sizeof(img)));
}

static void test_not_elf(void **state)
{
	(void)state;
	img.eh.e_ident[EI_MAG0] = 0;
	assert_parse_fails(sizeof(img), "not an ELF");
}

static void test_truncated_header(void **state)
{
	(void)state;
	assert_parse_fails(sizeof(Elf64_Ehdr) - 1, "truncated");
	assert_parse_fails(32, "truncated");
}

static void test_class32(void **state)
{
	(void)state;
	img.eh.e_ident[EI_CLASS] = ELFCLASS32;
	assert_parse_fails(sizeof(img), "32-bit");
}

static void test_wrong_machine(void **state)
{
	(void)state;
	img.eh.e_machine = EM_AARCH64;
	assert_parse_fails(sizeof(img), "not x86-64");
}

static void test_big_endian(void **state)
{
	(void)state;
	img.eh.e_ident[EI_DATA] = ELFDATA2MSB;
	assert_parse_fails(sizeof(img), "not x86-64");
}

static void test_bad_phentsize(void **state)
{
	(void)state;
	img.eh.e_phentsize = sizeof(Elf32_Phdr);
	assert_parse_fails(sizeof(img), "program header size");
}

static void test_no_phdrs(void **state)
{
	(void)state;
	img.eh.e_phnum = 0;
	assert_parse_fails(sizeof(img), "no program headers");
}

static void test_phdrs_past_eof(void **state)
{
	(void)state;
	/* The file ends in the middle of the third program header. */
	assert_parse_fails(OFF(ph[2]) + 8, "truncated");
}

static void test_phoff_past_eof(void **state)
{
	(void)state;
	img.eh.e_phoff = sizeof(img) + 1;
	assert_parse_fails(sizeof(img), "truncated");
	img.eh.e_phoff = UINT64_MAX - 8;
	assert_parse_fails(sizeof(img), "truncated");
}

static void test_segment_past_eof(void **state)
{
	(void)state;
	/* The second segment's data is cut by one byte. */
	assert_parse_fails(sizeof(img) - 1, "truncated");
}

static void test_segment_offset_past_eof(void **state)
{
	(void)state;
	img.ph[0].p_offset = sizeof(img) + 0x1000;
	img.ph[0].p_filesz = 0;
	assert_parse_fails(sizeof(img), "truncated");
}

static void test_segment_filesz_wraps(void **state)
{
	(void)state;
	/* p_offset + p_filesz wraps to a small number. */
	img.ph[0].p_offset = 0x100;
	img.ph[0].p_filesz = UINT64_MAX - 0xff;
	img.ph[0].p_memsz = UINT64_MAX;
	assert_parse_fails(sizeof(img), "truncated");
}

static void test_filesz_above_memsz(void **state)
{
	(void)state;
	img.ph[2].p_memsz = img.ph[2].p_filesz - 1;
	assert_parse_fails(sizeof(img), "file size above memory size");
}

static void test_paddr_wraps(void **state)
{
	(void)state;
	img.ph[2].p_paddr = UINT64_MAX - 0x100;
	assert_parse_fails(sizeof(img), "wraps");
}

static void test_overlap(void **state)
{
	(void)state;
	/* seg0 is [16 MiB, 16 MiB + 8 KiB); seg1 starts in its last byte. */
	img.ph[2].p_paddr = SEG0_PADDR + 0x1fff;
	assert_parse_fails(sizeof(img), "overlap");
}

static void test_overlap_contained(void **state)
{
	(void)state;
	img.ph[0].p_memsz = 0x400000; /* seg0 now covers all of seg1 */
	assert_parse_fails(sizeof(img), "overlap");
}

static void test_adjacent_segments(void **state)
{
	struct elf_image out;
	struct err e;

	(void)state;
	/* seg1 right after seg0, then right before it: touching is not overlapping. */
	img.ph[2].p_paddr = SEG0_PADDR + 0x2000;
	assert_int_equal(parse(sizeof(img), &out, &e), 0);
	assert_int_equal(out.nr_segments, 2);
	img.ph[2].p_paddr = SEG0_PADDR - 0x1000;
	assert_int_equal(parse(sizeof(img), &out, &e), 0);
	assert_int_equal(out.nr_segments, 2);
}

static void test_empty_load_ignored(void **state)
{
	struct elf_image out;
	struct err e;

	(void)state;
	/* A PT_LOAD with no memory size (even past EOF) is not a segment. */
	set_load(&img.ph[3], sizeof(img) * 2, SEG0_PADDR, 0, 0);
	img.eh.e_phnum = 4;
	assert_int_equal(parse(sizeof(img), &out, &e), 0);
	assert_int_equal(out.nr_segments, 2);
}

static void test_no_load_segments(void **state)
{
	(void)state;
	img.ph[0].p_type = PT_NULL;
	img.ph[2].p_type = PT_NULL;
	assert_parse_fails(sizeof(img), "no loadable segments");
}

static void test_too_many_segments(void **state)
{
	(void)state;
	/* 17 more tiny non-overlapping segments sharing seg1's bytes: 19 in all. */
	for (int i = 3; i < NR_PH; i++)
		set_load(&img.ph[i], OFF(seg1), SEG1_PADDR + 0x100000 * (uint64_t)i, 0x10, 0x10);
	img.eh.e_phnum = NR_PH;
	assert_parse_fails(sizeof(img), "more than 16");
}

static void test_max_segments(void **state)
{
	struct elf_image out;
	struct err e;

	(void)state;
	for (int i = 3; i < ELF_MAX_SEGMENTS + 1; i++)
		set_load(&img.ph[i], OFF(seg1), SEG1_PADDR + 0x100000 * (uint64_t)i, 0x10, 0x10);
	img.eh.e_phnum = ELF_MAX_SEGMENTS + 1; /* 16 loads + the note */
	assert_int_equal(parse(sizeof(img), &out, &e), 0);
	assert_int_equal(out.nr_segments, ELF_MAX_SEGMENTS);
}

static void test_missing_pvh_note(void **state)
{
	(void)state;
	img.ph[1].p_type = PT_NULL;
	assert_parse_fails(sizeof(img), "PVH");
}

static void test_pvh_note_wrong_type(void **state)
{
	(void)state;
	img.xen.n.n_type = XEN_ELFNOTE_PHYS32_ENTRY + 1;
	assert_parse_fails(sizeof(img), "PVH");
}

static void test_pvh_note_wrong_name(void **state)
{
	(void)state;
	memcpy(img.xen.name, "Xe\0", 4);
	img.xen.n.n_namesz = 3;
	assert_parse_fails(sizeof(img), "PVH");
}

static void test_pvh_note_short_desc(void **state)
{
	(void)state;
	img.xen.n.n_descsz = 2;
	assert_parse_fails(sizeof(img), "PVH");
}

static void test_pvh_note_outside_segment(void **state)
{
	(void)state;
	/* The note segment ends one byte before the Xen note's descriptor. */
	img.ph[1].p_filesz = 2 * sizeof(struct note) - 1;
	assert_parse_fails(sizeof(img), "PVH");
}

static void test_note_segment_past_eof(void **state)
{
	(void)state;
	/* A PT_NOTE past EOF is skipped, not read: the note is then missing. */
	img.ph[1].p_filesz = sizeof(img);
	assert_parse_fails(sizeof(img), "PVH");
}

static void test_pvh_note_in_second_note_segment(void **state)
{
	struct elf_image out;
	struct err e;

	(void)state;
	/* First PT_NOTE holds only the GNU note, a second one the Xen note. */
	img.ph[1].p_filesz = sizeof(struct note);
	img.ph[3] =
	    (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = OFF(xen), .p_filesz = sizeof(struct note)};
	img.eh.e_phnum = 4;
	assert_int_equal(parse(sizeof(img), &out, &e), 0);
	assert_int_equal(out.pvh_entry, PVH_ENTRY);
}

/* Copies @img to the end of a mapping followed by an inaccessible page,
 * so any read past the end of the file faults. @len is a multiple of 8 to
 * keep the copy as aligned as a mapped file. */
static void *guarded_copy(size_t len, void **map, size_t *map_len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = (len + page - 1) / page * page;
	uint8_t *p =
	    mmap(NULL, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_int_equal(len % 8, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(mprotect(p + span, page, PROT_NONE), 0);
	memcpy(p + span - len, &img, len);
	*map = p;
	*map_len = span + page;
	return p + span - len;
}

static void parse_guarded(size_t len, int expect_ret, uint64_t expect_entry)
{
	struct elf_image out;
	struct err e;
	void *map;
	size_t map_len;
	void *buf = guarded_copy(len, &map, &map_len);

	assert_int_equal(elf_parse(buf, len, "vmlinux", &out, &e), expect_ret);
	if (expect_ret < 0)
		assert_non_null(strstr(e.msg, "PVH"));
	else
		assert_int_equal(out.pvh_entry, expect_entry);
	munmap(map, map_len);
}

/* Cuts the file right after the notes: seg0 now loads the ELF header
 * itself and seg1 is gone. */
static size_t note_at_end(void)
{
	img.ph[0].p_offset = 0;
	img.ph[0].p_filesz = sizeof(Elf64_Ehdr);
	img.ph[2].p_type = PT_NULL;
	return OFF(xen) + sizeof(struct note);
}

static void test_note_at_eof_guarded(void **state)
{
	(void)state;
	parse_guarded(note_at_end(), 0, PVH_ENTRY);
}

static void test_note_huge_namesz(void **state)
{
	(void)state;
	size_t len = note_at_end();

	img.xen.n.n_namesz = 0xfffffff0U;
	parse_guarded(len, -1, 0);
	img.xen.n.n_namesz = UINT32_MAX;
	parse_guarded(len, -1, 0);
}

static void test_note_huge_descsz(void **state)
{
	(void)state;
	size_t len = note_at_end();

	img.xen.n.n_descsz = UINT32_MAX;
	parse_guarded(len, -1, 0);
	img.gnu.n.n_descsz = 0x7ffffffcU; /* skipping it would jump past the end */
	img.xen.n.n_descsz = 4;
	parse_guarded(len, -1, 0);
}

static void test_note_partial_header(void **state)
{
	(void)state;
	/* The segment and the file end 4 bytes into the Xen note's header. */
	size_t len = note_at_end();

	img.ph[1].p_filesz = sizeof(struct note) + 4;
	parse_guarded(len - sizeof(struct note) + 4, -1, 0);
}

static void parse_ok(struct elf_image *out)
{
	struct err e;

	assert_int_equal(parse(sizeof(img), out, &e), 0);
}

static void assert_fit_fails(const struct elf_image *out, uint64_t start, uint64_t end,
                             const char *needle)
{
	struct err e;

	memset(e.msg, 0, sizeof(e.msg));
	assert_int_equal(elf_check_fit(out, start, end, "vmlinux", &e), -1);
	if (!strstr(e.msg, needle))
		fail_msg("error '%s' does not mention '%s'", e.msg, needle);
}

static void test_fit_ok(void **state)
{
	struct elf_image out;
	struct err e;

	(void)state;
	parse_ok(&out);
	assert_int_equal(elf_check_fit(&out, 0x100000, 128ULL << 20, "vmlinux", &e), 0);
	/* seg1 ends exactly at RAM end. */
	assert_int_equal(elf_check_fit(&out, 0x100000, SEG1_PADDR + 0x1000, "vmlinux", &e), 0);
}

static void test_fit_segment_above_ram(void **state)
{
	struct elf_image out;

	(void)state;
	parse_ok(&out);
	assert_fit_fails(&out, 0x100000, SEG1_PADDR + 0xfff, "does not fit");
	assert_fit_fails(&out, 0x100000, SEG1_PADDR + 0xfff, "segment 1");
}

static void test_fit_segment_below_start(void **state)
{
	struct elf_image out;

	(void)state;
	parse_ok(&out);
	assert_fit_fails(&out, SEG0_PADDR + 1, 128ULL << 20, "does not fit");
	assert_fit_fails(&out, SEG0_PADDR + 1, 128ULL << 20, "segment 0");
}

static void test_fit_entry_outside(void **state)
{
	struct elf_image out;

	(void)state;
	img.xen.desc = 0x80000000U;
	parse_ok(&out);
	assert_fit_fails(&out, 0x100000, 128ULL << 20, "PVH entry");
	out.pvh_entry = 128ULL << 20; /* one past the end */
	assert_fit_fails(&out, 0x100000, 128ULL << 20, "PVH entry");
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_valid_image),
	    T(test_is_elf),
	    T(test_not_elf),
	    T(test_truncated_header),
	    T(test_class32),
	    T(test_wrong_machine),
	    T(test_big_endian),
	    T(test_bad_phentsize),
	    T(test_no_phdrs),
	    T(test_phdrs_past_eof),
	    T(test_phoff_past_eof),
	    T(test_segment_past_eof),
	    T(test_segment_offset_past_eof),
	    T(test_segment_filesz_wraps),
	    T(test_filesz_above_memsz),
	    T(test_paddr_wraps),
	    T(test_overlap),
	    T(test_overlap_contained),
	    T(test_adjacent_segments),
	    T(test_empty_load_ignored),
	    T(test_no_load_segments),
	    T(test_too_many_segments),
	    T(test_max_segments),
	    T(test_missing_pvh_note),
	    T(test_pvh_note_wrong_type),
	    T(test_pvh_note_wrong_name),
	    T(test_pvh_note_short_desc),
	    T(test_pvh_note_outside_segment),
	    T(test_note_segment_past_eof),
	    T(test_pvh_note_in_second_note_segment),
	    T(test_note_at_eof_guarded),
	    T(test_note_huge_namesz),
	    T(test_note_huge_descsz),
	    T(test_note_partial_header),
	    T(test_fit_ok),
	    T(test_fit_segment_above_ram),
	    T(test_fit_segment_below_start),
	    T(test_fit_entry_outside),
	};

	return cmocka_run_group_tests_name("elf", tests, NULL, NULL);
}
