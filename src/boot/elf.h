/* SPDX-License-Identifier: MIT */
/* ELF64 vmlinux parsing: PT_LOAD segments and the PVH entry note. */
#ifndef MOTE_BOOT_ELF_H
#define MOTE_BOOT_ELF_H

#include "../err.h"

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS         16
#define XEN_ELFNOTE_PHYS32_ENTRY 18

struct elf_segment {
	uint64_t offset; /* in the file */
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
};

struct elf_image {
	uint64_t pvh_entry; /* 32-bit physical entry point */
	int nr_segments;
	struct elf_segment segments[ELF_MAX_SEGMENTS];
};

/* True if @buf starts with the ELF magic. */
int elf_is_elf(const void *buf, size_t len);

/* Parses the x86-64 ELF vmlinux in @buf[0..len): its loadable segments
 * (checked against the file and each other) and its PVH entry; @name is
 * used in error messages. */
int elf_parse(const void *buf, size_t len, const char *name, struct elf_image *out, struct err *e);

/* Checks that every segment of @img lies in RAM below @ram_end and above
 * @ram_start (the boot structures); -1 with a message if one does not. */
int elf_check_fit(const struct elf_image *img, uint64_t ram_start, uint64_t ram_end,
                  const char *name, struct err *e);

/* Finds function symbol @name in the symbol table of the ELF file in
 * @buf[0..len) and stores its address in @value; 0 if the file has no
 * symbol table, no such function, or a table that lies outside the file. */
int elf_find_function(const void *buf, size_t len, const char *name, uint64_t *value);

#endif
