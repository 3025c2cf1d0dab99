// SPDX-License-Identifier: MIT
/* elf_find_function on synthetic ELF64 files with a symbol table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "boot/elf.h"

#include <elf.h>
#include <string.h>

#define FUNC_ADDR 0xffffffff812b3b9aULL
#define DATA_ADDR 0xffffffff81c00000ULL

/* Header, section headers (null, .symtab, .strtab), symbols, strings. */
struct file {
	Elf64_Ehdr eh;
	Elf64_Shdr sh[3];
	Elf64_Sym sym[4];
	char str[64];
};

static struct file f;

#define OFF(field) ((uint64_t)offsetof(struct file, field))

/* Appends @name to the string table at *@at and returns its offset. */
static uint32_t add_str(const char *name, size_t *at)
{
	uint32_t off = (uint32_t)*at;

	memcpy(f.str + *at, name, strlen(name) + 1);
	*at += strlen(name) + 1;
	return off;
}

static void set_sym(int i, const char *name, int type, uint64_t value, size_t *at)
{
	f.sym[i] = (Elf64_Sym){.st_name = add_str(name, at),
	                       .st_info = ELF64_ST_INFO(STB_LOCAL, type),
	                       .st_value = value};
}

static int setup(void **state)
{
	size_t at = 1;

	(void)state;
	memset(&f, 0, sizeof(f));
	memcpy(f.eh.e_ident, ELFMAG, SELFMAG);
	f.eh.e_ident[EI_CLASS] = ELFCLASS64;
	f.eh.e_shoff = OFF(sh);
	f.eh.e_shentsize = sizeof(Elf64_Shdr);
	f.eh.e_shnum = 3;
	f.sh[1] = (Elf64_Shdr){.sh_type = SHT_SYMTAB,
	                       .sh_offset = OFF(sym),
	                       .sh_size = sizeof(f.sym),
	                       .sh_link = 2,
	                       .sh_entsize = sizeof(Elf64_Sym)};
	f.sh[2] =
	    (Elf64_Shdr){.sh_type = SHT_STRTAB, .sh_offset = OFF(str), .sh_size = sizeof(f.str)};
	set_sym(1, "run_init_process_x", STT_FUNC, 1, &at);
	set_sym(2, "data_sym", STT_OBJECT, DATA_ADDR, &at);
	set_sym(3, "run_init_process", STT_FUNC, FUNC_ADDR, &at);
	return 0;
}

static int find(const char *name, uint64_t *value)
{
	*value = 0;
	return elf_find_function(&f, sizeof(f), name, value);
}

static void test_finds_function(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(find("run_init_process", &v), 1);
	assert_int_equal(v, FUNC_ADDR);
}

static void test_missing_name(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(find("kernel_execve", &v), 0);
	assert_int_equal(find("run_init", &v), 0); /* a prefix is not a match */
}

static void test_object_is_not_function(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(find("data_sym", &v), 0);
}

static void test_no_symtab(void **state)
{
	uint64_t v;

	(void)state;
	f.sh[1].sh_type = SHT_PROGBITS;
	assert_int_equal(find("run_init_process", &v), 0);
	f.eh.e_shnum = 0;
	assert_int_equal(find("run_init_process", &v), 0);
}

static void test_not_elf(void **state)
{
	uint64_t v;

	(void)state;
	f.eh.e_ident[0] = 0;
	assert_int_equal(find("run_init_process", &v), 0);
}

static void test_symtab_past_eof(void **state)
{
	uint64_t v;

	(void)state;
	f.sh[1].sh_size = sizeof(f) * 2;
	assert_int_equal(find("run_init_process", &v), 0);
	f.sh[1].sh_size = sizeof(f.sym);
	f.sh[1].sh_offset = UINT64_MAX - 8;
	assert_int_equal(find("run_init_process", &v), 0);
}

static void test_section_headers_past_eof(void **state)
{
	uint64_t v;

	(void)state;
	f.eh.e_shoff = sizeof(f) - sizeof(Elf64_Shdr);
	assert_int_equal(find("run_init_process", &v), 0);
	f.eh.e_shoff = UINT64_MAX - 16;
	assert_int_equal(find("run_init_process", &v), 0);
}

static void test_bad_strtab_link(void **state)
{
	uint64_t v;

	(void)state;
	f.sh[1].sh_link = 7; /* no such section */
	assert_int_equal(find("run_init_process", &v), 0);
	f.sh[1].sh_link = 1; /* not a string table */
	assert_int_equal(find("run_init_process", &v), 0);
}

static void test_name_past_strtab(void **state)
{
	uint64_t v;

	(void)state;
	f.sym[3].st_name = 0xfffffff0U;
	assert_int_equal(find("run_init_process", &v), 0);
	/* The string table ends inside the name: no match, no read past it. */
	f.sym[3].st_name = (uint32_t)sizeof(f.str) - 4;
	memcpy(f.str + sizeof(f.str) - 4, "run", 4);
	assert_int_equal(find("run_init_process", &v), 0);
}

static void test_truncated_file(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(elf_find_function(&f, OFF(str) + 8, "run_init_process", &v), 0);
	assert_int_equal(elf_find_function(&f, 10, "run_init_process", &v), 0);
}

#define T(t) cmocka_unit_test_setup(t, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_finds_function),
	    T(test_missing_name),
	    T(test_object_is_not_function),
	    T(test_no_symtab),
	    T(test_not_elf),
	    T(test_symtab_past_eof),
	    T(test_section_headers_past_eof),
	    T(test_bad_strtab_link),
	    T(test_name_past_strtab),
	    T(test_truncated_file),
	};

	return cmocka_run_group_tests_name("elf symbols", tests, NULL, NULL);
}
