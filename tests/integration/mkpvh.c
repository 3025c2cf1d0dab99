// SPDX-License-Identifier: MIT
/* mkpvh FILE [CASE]: writes a tiny PVH kernel (an ELF64 with one loadable
 * segment at 1 MiB and the Xen PHYS32_ENTRY note) that fails on purpose:
 *   flds (default)     the boot vCPU runs an x87 load from an address that is
 *                      not RAM. KVM must emulate that load and cannot: the KVM
 *                      selftests' way to an emulation failure on any real KVM.
 *   ap-flds            the boot vCPU starts vCPU 1 (INIT, SIPI) and halts;
 *                      vCPU 1 enters protected mode and runs that load.
 *   ap-triple-fault    vCPU 1 loads an empty IDT and runs int3: a triple
 *                      fault on an application processor.
 * The tests boot them to see mote name the failure, its vCPU, its
 * instruction and its cause, and end the whole VM. */
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
	uint8_t code[128];
};

#define TRAMPOLINE 0x10000 /* free low RAM; SIPI vector 0x10 */
#define AP_GDTR    0x20    /* offsets in the trampoline's page */
#define AP_DS      0x26
#define AP_IDTR    0x28 /* stays zero: an IDT with limit 0 */

/* The boot vCPU: save its GDTR and data selector for vCPU 1, copy the
 * trampoline (@len bytes after this code) to TRAMPOLINE, enable the LAPIC,
 * send INIT and SIPI to APIC ID 1, halt. */
static size_t bsp_code(uint8_t *c, size_t tramp_len)
{
	static const uint8_t head[] = {
	    0x0f, 0x01, 0x05, AP_GDTR, 0x00, 0x01, 0x00, /* sgdt 0x10020 */
	    0x8c, 0x1d, AP_DS, 0x00, 0x01, 0x00,         /* mov %ds, 0x10026 */
	    0xbe, 0, 0, 0, 0,                            /* mov $tramp, %esi */
	    0xbf, 0x00, 0x00, 0x01, 0x00,                /* mov $0x10000, %edi */
	    0xb9, 0, 0, 0, 0,                            /* mov $len, %ecx */
	    0xf3, 0xa4,                                  /* rep movsb */
	    /* movl $0x1ff, 0xfee000f0: the LAPIC on (spurious vector register) */
	    0xc7, 0x05, 0xf0, 0x00, 0xe0, 0xfe, 0xff, 0x01, 0x00, 0x00,
	    /* movl $0x01000000, 0xfee00310: destination APIC ID 1 */
	    0xc7, 0x05, 0x10, 0x03, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x01,
	    /* movl $0x4500, 0xfee00300: INIT */
	    0xc7, 0x05, 0x00, 0x03, 0xe0, 0xfe, 0x00, 0x45, 0x00, 0x00,
	    /* movl $0x4610, 0xfee00300: SIPI, vector 0x10 */
	    0xc7, 0x05, 0x00, 0x03, 0xe0, 0xfe, 0x10, 0x46, 0x00, 0x00, 0xf4, /* hlt */
	    0xeb, 0xfd,                                                       /* jmp to the hlt */
	};
	uint32_t tramp = (uint32_t)(LOAD_ADDR + sizeof(head));

	memcpy(c, head, sizeof(head));
	memcpy(c + 14, &tramp, 4);
	memcpy(c + 24, &(uint32_t){(uint32_t)tramp_len}, 4);
	return sizeof(head);
}

int main(int argc, char **argv)
{
	/* vCPU 1 in real mode at 0x1000:0: the boot vCPU's GDT, protected mode,
	 * its data selector, then the x87 load from NOT_RAM. */
	static const uint8_t ap_flds[] = {
	    0x2e,
	    0x0f,
	    0x01,
	    0x16,
	    AP_GDTR,
	    0x00, /* lgdt %cs:0x20 */
	    0x0f,
	    0x20,
	    0xc0, /* mov %cr0, %eax */
	    0x0c,
	    0x01, /* or $1, %al */
	    0x0f,
	    0x22,
	    0xc0, /* mov %eax, %cr0 */
	    0x2e,
	    0x8e,
	    0x1e,
	    AP_DS,
	    0x00, /* mov %cs:0x26, %ds */
	    0x67,
	    0xd9,
	    0x05,
	    NOT_RAM & 0xff,
	    (NOT_RAM >> 8) & 0xff,
	    (NOT_RAM >> 16) & 0xff,
	    NOT_RAM >> 24, /* flds NOT_RAM */
	    0xf4,
	    0xeb,
	    0xfd,
	};
	/* vCPU 1: an IDT with limit 0, then int3: #GP, #DF, shutdown. */
	static const uint8_t ap_triple[] = {
	    0x2e, 0x0f, 0x01, 0x1e, AP_IDTR, 0x00, /* lidt %cs:0x28 */
	    0xcc,                                  /* int3 */
	    0xf4, 0xeb, 0xfd,
	};
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

	const char *what = argc == 3 ? argv[2] : "flds";
	const uint8_t *tramp = NULL;
	size_t len = sizeof(code), tramp_len = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: mkpvh FILE [flds|ap-flds|ap-triple-fault]\n");
		return 2;
	}
	if (!strcmp(what, "ap-flds"))
		tramp = ap_flds, tramp_len = sizeof(ap_flds);
	else if (!strcmp(what, "ap-triple-fault"))
		tramp = ap_triple, tramp_len = sizeof(ap_triple);
	else if (strcmp(what, "flds")) {
		fprintf(stderr, "mkpvh: unknown case '%s'\n", what);
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
	                        .p_filesz = sizeof(im.code),
	                        .p_memsz = sizeof(im.code),
	                        .p_align = 16};
	im.ph[1] = (Elf64_Phdr){.p_type = PT_NOTE,
	                        .p_offset = offsetof(struct image, note),
	                        .p_filesz = sizeof(im.note),
	                        .p_align = 4};
	im.note.h = (Elf64_Nhdr){.n_namesz = 4, .n_descsz = 4, .n_type = XEN_PHYS32};
	memcpy(im.note.name, "Xen", 4);
	im.note.entry = LOAD_ADDR;
	if (tramp) {
		len = bsp_code(im.code, tramp_len);
		memcpy(im.code + len, tramp, tramp_len);
	} else {
		memcpy(im.code, code, len);
	}
	f = fopen(argv[1], "wb");
	if (!f || fwrite(&im, sizeof(im), 1, f) != 1 || fclose(f) != 0) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
