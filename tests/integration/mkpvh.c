// SPDX-License-Identifier: MIT
/* mkpvh FILE: writes a tiny PVH kernel (an ELF64 with one loadable segment
 * at 1 MiB and the Xen PHYS32_ENTRY note) whose code runs an x87 load from
 * an address that is not RAM. KVM must emulate that load and cannot: the
 * KVM selftests' way to an emulation failure on any real KVM. The tests
 * boot it to see mote name the failure, its instruction and its cause. */
#include <elf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define LOAD_ADDR  0x100000
#define XEN_PHYS32 18
#define NOT_RAM    0xe0000000U /* in the 32-bit hole, claimed by no device */

struct note {
	Elf64_Nhdr h;
	char name[4];
	uint32_t entry;
};

struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	struct note note;
	uint8_t code[16];
};

int main(int argc, char **argv)
{
	static const uint8_t code[] = {
	    0xb8,          NOT_RAM & 0xff, (NOT_RAM >> 8) & 0xff, (NOT_RAM >> 16) & 0xff,
	    NOT_RAM >> 24,       /* mov $NOT_RAM, %eax */
	    0xd9,          0x00, /* flds (%eax) */
	    0xf4,                /* hlt */
	    0xeb,          0xfd, /* jmp to the hlt */
	};
	struct image im;
	size_t code_off = offsetof(struct image, code);
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: mkpvh FILE\n");
		return 2;
	}
	memset(&im, 0, sizeof(im));
	memcpy(im.eh.e_ident, ELFMAG, SELFMAG);
	im.eh.e_ident[EI_CLASS] = ELFCLASS64;
	im.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	im.eh.e_ident[EI_VERSION] = EV_CURRENT;
	im.eh.e_type = ET_EXEC;
	im.eh.e_machine = EM_X86_64;
	im.eh.e_version = EV_CURRENT;
	im.eh.e_entry = LOAD_ADDR;
	im.eh.e_phoff = offsetof(struct image, ph);
	im.eh.e_ehsize = sizeof(Elf64_Ehdr);
	im.eh.e_phentsize = sizeof(Elf64_Phdr);
	im.eh.e_phnum = 2;
	im.ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
	                        .p_flags = PF_R | PF_X,
	                        .p_offset = code_off,
	                        .p_vaddr = LOAD_ADDR,
	                        .p_paddr = LOAD_ADDR,
	                        .p_filesz = sizeof(code),
	                        .p_memsz = sizeof(code),
	                        .p_align = 16};
	im.ph[1] = (Elf64_Phdr){.p_type = PT_NOTE,
	                        .p_offset = offsetof(struct image, note),
	                        .p_filesz = sizeof(im.note),
	                        .p_align = 4};
	im.note.h = (Elf64_Nhdr){.n_namesz = 4, .n_descsz = 4, .n_type = XEN_PHYS32};
	memcpy(im.note.name, "Xen", 4);
	im.note.entry = LOAD_ADDR;
	memcpy(im.code, code, sizeof(code));
	f = fopen(argv[1], "wb");
	if (!f || fwrite(&im, sizeof(im), 1, f) != 1 || fclose(f) != 0) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
