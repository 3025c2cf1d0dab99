// SPDX-License-Identifier: MIT
/* mkcorpus DIR: writes the seed corpus of every fuzz target into
 * DIR/NAME/ (make fuzz-corpus rewrites tests/fuzz/corpus with it). Each
 * seed is a small valid input, so that the fuzzer starts past the magic
 * numbers and handshakes and mutates from there. */
#include "boot/bzimage.h"
#include "virtio_stream.h"

#include <elf.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *root;

static void put(const char *target, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, target);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* ELF: a PVH kernel as tests/integration/mkpvh.c writes it, then one with a
 * symbol table, then one with a bss segment and a note before Xen's. */
#define LOAD_ADDR 0x100000

struct note {
	Elf64_Nhdr h;
	char name[4];
	uint32_t desc;
};

struct pvh {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[3];
	struct note notes[2];
	uint8_t code[16];
	Elf64_Sym syms[3];
	char strtab[32];
	Elf64_Shdr sh[3];
};

static void pvh_header(struct pvh *im, int nr_ph)
{
	static const uint8_t code[] = {0xb8, 0x00, 0x00, 0x00, 0xe0, /* mov $0xe0000000, %eax */
	                               0xd9, 0x00,                   /* flds (%eax) */
	                               0xf4, 0xeb, 0xfd};            /* hlt; jmp */

	memset(im, 0, sizeof(*im));
	memcpy(im->eh.e_ident, ELFMAG, SELFMAG);
	im->eh.e_ident[EI_CLASS] = ELFCLASS64;
	im->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	im->eh.e_ident[EI_VERSION] = EV_CURRENT;
	im->eh.e_type = ET_EXEC;
	im->eh.e_machine = EM_X86_64;
	im->eh.e_version = EV_CURRENT;
	im->eh.e_entry = LOAD_ADDR;
	im->eh.e_phoff = offsetof(struct pvh, ph);
	im->eh.e_ehsize = sizeof(Elf64_Ehdr);
	im->eh.e_phentsize = sizeof(Elf64_Phdr);
	im->eh.e_phnum = (Elf64_Half)nr_ph;
	im->ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
	                         .p_flags = PF_R | PF_X,
	                         .p_offset = offsetof(struct pvh, code),
	                         .p_vaddr = LOAD_ADDR,
	                         .p_paddr = LOAD_ADDR,
	                         .p_filesz = sizeof(code),
	                         .p_memsz = sizeof(code),
	                         .p_align = 16};
	im->ph[1] = (Elf64_Phdr){.p_type = PT_NOTE,
	                         .p_offset = offsetof(struct pvh, notes[1]),
	                         .p_filesz = sizeof(struct note),
	                         .p_align = 4};
	im->notes[1].h = (Elf64_Nhdr){.n_namesz = 4, .n_descsz = 4, .n_type = 18};
	memcpy(im->notes[1].name, "Xen", 4);
	im->notes[1].desc = LOAD_ADDR;
	memcpy(im->code, code, sizeof(code));
}

static void elf_seeds(void)
{
	struct pvh im;

	pvh_header(&im, 2);
	put("elf", "pvh-minimal", &im, offsetof(struct pvh, syms));

	/* .symtab and .strtab with run_init_process, what boot_find_init_exec seeks. */
	pvh_header(&im, 2);
	im.syms[1] = (Elf64_Sym){.st_name = 1,
	                         .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
	                         .st_shndx = 1,
	                         .st_value = LOAD_ADDR + 7};
	im.syms[2] = (Elf64_Sym){.st_name = 18,
	                         .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT),
	                         .st_shndx = 1,
	                         .st_value = LOAD_ADDR + 8};
	memcpy(im.strtab, "\0run_init_process\0data", 23);
	im.sh[1] = (Elf64_Shdr){.sh_type = SHT_SYMTAB,
	                        .sh_offset = offsetof(struct pvh, syms),
	                        .sh_size = sizeof(im.syms),
	                        .sh_link = 2,
	                        .sh_entsize = sizeof(Elf64_Sym)};
	im.sh[2] = (Elf64_Shdr){.sh_type = SHT_STRTAB,
	                        .sh_offset = offsetof(struct pvh, strtab),
	                        .sh_size = sizeof(im.strtab)};
	im.eh.e_shoff = offsetof(struct pvh, sh);
	im.eh.e_shentsize = sizeof(Elf64_Shdr);
	im.eh.e_shnum = 3;
	put("elf", "pvh-symtab", &im, sizeof(im));

	/* A second, bss-only segment, and a GNU note ahead of Xen's. */
	pvh_header(&im, 3);
	im.ph[1].p_offset = offsetof(struct pvh, notes);
	im.ph[1].p_filesz = sizeof(im.notes);
	im.notes[0].h = (Elf64_Nhdr){.n_namesz = 4, .n_descsz = 4, .n_type = NT_GNU_BUILD_ID};
	memcpy(im.notes[0].name, "GNU", 4);
	im.ph[2] = (Elf64_Phdr){.p_type = PT_LOAD,
	                        .p_flags = PF_R | PF_W,
	                        .p_offset = offsetof(struct pvh, code),
	                        .p_paddr = 2 * LOAD_ADDR,
	                        .p_filesz = 0,
	                        .p_memsz = 0x3000};
	put("elf", "pvh-bss-notes", &im, offsetof(struct pvh, syms));
}

/* bzImage: heads of files (fuzz_bzimage.c pads them), protocol 2.15 and
 * 2.12, and one whole small file. */
#define BZ_HEAD (BZ_SETUP_HEADER_OFFSET + sizeof(struct setup_header))

static void bz_header(struct boot_params *bp, uint16_t file_extra)
{
	struct setup_header *h = &bp->hdr;
	uint64_t file_len = sizeof(*bp) + file_extra;

	memset(bp, 0, sizeof(*bp));
	memcpy(bp, &file_extra, 2); /* the padding fuzz_bzimage.c adds to a head */
	h->setup_sects = 4;
	h->syssize = (uint32_t)((file_len - 5 * 512) / 16);
	h->boot_flag = BZ_BOOT_FLAG;
	h->jump = 0x6aeb; /* jmp short over the header, which ends at 0x26c */
	h->header = BZ_HDRS_MAGIC;
	h->version = 0x020f;
	h->loadflags = BZ_LOADED_HIGH;
	h->initrd_addr_max = 0x7fffffff;
	h->kernel_alignment = 0x200000;
	h->relocatable_kernel = 1;
	h->xloadflags = BZ_XLF_KERNEL_64 | 0x2;
	h->cmdline_size = 2047;
	h->pref_address = 0x1000000;
	h->init_size = 0x2000000;
}

static void bzimage_seeds(void)
{
	static uint8_t file[sizeof(struct boot_params) + 2560];
	struct boot_params *bp = (struct boot_params *)file;

	bz_header(bp, 2560);
	put("bzimage", "head-2.15", bp, BZ_HEAD);

	bz_header(bp, 512);
	bp->hdr.setup_sects = 0; /* means 4 */
	bp->hdr.version = BZ_MIN_VERSION;
	bp->hdr.jump = 0x62eb; /* the 2.12 header ends at 0x264 */
	bp->hdr.syssize = 0;
	put("bzimage", "head-2.12", bp, BZ_HEAD);

	bz_header(bp, 2560);
	memset(bp, 0, 2); /* a whole file: taken as it is */
	memset(file + 5 * 512, 0x90, sizeof(file) - 5 * 512);
	put("bzimage", "whole-file", file, sizeof(file));
}

/* initrd: size, kernel_end, ram_top, max_addr. */
static void initrd_seed(const char *name, uint64_t size, uint64_t kernel_end, uint64_t ram_top,
                        uint64_t max_addr)
{
	uint64_t v[4] = {size, kernel_end, ram_top, max_addr};

	put("initrd", name, v, sizeof(v));
}

static void initrd_seeds(void)
{
	initrd_seed("bzimage-128m", 8 << 20, 0x3000000, 128 << 20, 0x7fffffff);
	initrd_seed("pvh-3g", (1 << 20) + 123, 0x1a00000, 3ULL << 30, (3ULL << 30) - 1);
	initrd_seed("limit-inside-page", 4096, 16 << 20, 128 << 20, (64 << 20) + 100);
	initrd_seed("exact-fit", 112 << 20, 16 << 20, 128 << 20, UINT64_MAX);
	initrd_seed("too-big", 113 << 20, 16 << 20, 128 << 20, UINT64_MAX);
}

static void cmdline_seed(const char *name, const char *user, const char *devices, int k)
{
	char buf[512];
	size_t n = strlen(user) + 1, d = strlen(devices);

	memcpy(buf, user, n);
	memcpy(buf + n, devices, d);
	n += d;
	if (k >= 0) {
		buf[n++] = '\0';
		buf[n++] = (char)k;
	}
	put("cmdline", name, buf, n);
}

static void cmdline_seeds(void)
{
	static const char dev[] = "virtio_mmio.device=4K@0xd0000000:5";

	cmdline_seed("plain", "console=ttyS0 quiet", dev, -1);
	cmdline_seed("init-args", "console=ttyS0 -- hold=3", dev, -1);
	cmdline_seed("quoted", "quiet \"--\" init=/bin/sh \"a b\" x=\"y z\"", "dev=1 dev=2", -1);
	cmdline_seed("spaces-tight", "root=/dev/vda rw \t --  a -- b", "x=1", 4);
	cmdline_seed("empty", "", "", -1);
}

/* virtio: the balloon driver's handshake, then chains on its queues. */
struct stream {
	uint8_t b[4096];
	size_t n;
};

static void u8(struct stream *s, uint8_t v)
{
	s->b[s->n++] = v;
}

static void le(struct stream *s, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		u8(s, (uint8_t)(v >> (8 * i)));
}

static void wr(struct stream *s, uint16_t off, uint32_t v)
{
	u8(s, VS_WRITE);
	le(s, off, 2);
	le(s, v, 4);
}

static void rd(struct stream *s, uint16_t off)
{
	u8(s, VS_READ);
	le(s, off, 2);
}

static void ram(struct stream *s, uint16_t gpa, const void *data, uint8_t len)
{
	u8(s, VS_RAM);
	le(s, gpa, 2);
	u8(s, len);
	memcpy(s->b + s->n, data, len);
	s->n += len;
}

#define QSIZE     8
#define QDESC(q)  (0x1000 + 0x1000 * (q))
#define QAVAIL(q) (QDESC(q) + 0x100)
#define QUSED(q)  (QDESC(q) + 0x200)

static void handshake_f(struct stream *s, uint32_t features, int nq)
{
	wr(s, VS_REG_STATUS, 0);
	wr(s, VS_REG_STATUS, 1);     /* ACKNOWLEDGE */
	wr(s, VS_REG_STATUS, 1 | 2); /* DRIVER */
	wr(s, VS_REG_DEVICE_FEATURES_SEL, 0);
	rd(s, VS_REG_DEVICE_FEATURES);
	wr(s, VS_REG_DEVICE_FEATURES_SEL, 1);
	rd(s, VS_REG_DEVICE_FEATURES);
	wr(s, VS_REG_DRIVER_FEATURES_SEL, 0);
	wr(s, VS_REG_DRIVER_FEATURES, features);
	wr(s, VS_REG_DRIVER_FEATURES_SEL, 1);
	wr(s, VS_REG_DRIVER_FEATURES, 1); /* VERSION_1 */
	wr(s, VS_REG_STATUS, 1 | 2 | 8);  /* FEATURES_OK */
	rd(s, VS_REG_STATUS);
	for (int q = 0; q < nq; q++) {
		wr(s, VS_REG_QUEUE_SEL, (uint32_t)q);
		rd(s, VS_REG_QUEUE_NUM_MAX);
		wr(s, VS_REG_QUEUE_NUM, QSIZE);
		wr(s, VS_REG_QUEUE_DESC_LOW, QDESC(q));
		wr(s, VS_REG_QUEUE_DESC_HIGH, 0);
		wr(s, VS_REG_QUEUE_DRIVER_LOW, QAVAIL(q));
		wr(s, VS_REG_QUEUE_DRIVER_HIGH, 0);
		wr(s, VS_REG_QUEUE_DEVICE_LOW, QUSED(q));
		wr(s, VS_REG_QUEUE_DEVICE_HIGH, 0);
		wr(s, VS_REG_QUEUE_READY, 1);
	}
	wr(s, VS_REG_STATUS, 1 | 2 | 8 | 4); /* DRIVER_OK */
	rd(s, 0x104);                        /* config: actual */
}

/* The balloon's: free page reporting, three queues. */
static void handshake(struct stream *s)
{
	handshake_f(s, 1 << 5, 3);
}

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* Offers chain @head on queue @q as avail entry @idx - 1, then notifies. */
static void offer(struct stream *s, int q, uint16_t head, uint16_t idx)
{
	uint16_t entry[1] = {head};

	ram(s, (uint16_t)(QAVAIL(q) + 4 + 2 * ((idx - 1) % QSIZE)), entry, 2);
	ram(s, (uint16_t)(QAVAIL(q) + 2), &idx, 2);
	u8(s, (uint8_t)(VS_NOTIFY | q << 2));
	rd(s, VS_REG_INTERRUPT_STATUS);
	wr(s, VS_REG_INTERRUPT_ACK, 1);
}

/* The balloon with every queue: statistics (2) and reporting (3) too. */
static void handshake_all(struct stream *s)
{
	handshake_f(s, 1 << 1 | 1 << 2 | 1 << 5, 4);
}

/* A control plane call (virtio_stream.h): @what, then @arg bytes of @v. */
static void control(struct stream *s, int what, uint32_t v, int arg)
{
	u8(s, (uint8_t)(VS_NOTIFY | 0x10 | what << 2));
	le(s, v, arg);
}

/* Statistics entries (le16 tag, le64 value) at 0x8000, offered on queue 2
 * as avail entry @idx - 1: @len bytes of them. */
static void stats_buffer(struct stream *s, uint16_t idx, uint32_t len, uint64_t memfree)
{
	uint8_t raw[30];
	struct desc d = {0x8000, len, 0, 0};
	const uint16_t tags[3] = {4 /* MEMFREE */, 5 /* MEMTOT */, 12 /* a newer driver's */};

	for (int i = 0; i < 3; i++) {
		uint64_t v = i ? 64 << 20 : memfree;

		memcpy(raw + 10 * i, &tags[i], 2);
		memcpy(raw + 10 * i + 2, &v, 8);
	}
	ram(s, 0x8000, raw, sizeof(raw));
	ram(s, (uint16_t)(QDESC(2) + 16 * ((idx - 1) % QSIZE)), &d, sizeof(d));
	offer(s, 2, (uint16_t)((idx - 1) % QSIZE), idx);
}

static void balloon_stats_seeds(void)
{
	struct stream s = {.n = 0};
	struct desc d[2];
	uint32_t pfns[2] = {8, 9};

	/* The statistics cycle: buffer, interval, refill, read; target, interval. */
	handshake_all(&s);
	stats_buffer(&s, 1, 30, 1 << 20);
	control(&s, 0, 0, 0);
	stats_buffer(&s, 2, 30, 2 << 20);
	control(&s, 3, 0, 0);
	control(&s, 2, 5, 1);
	control(&s, 1, 0, 1);
	put("virtio", "stats", s.b, s.n);

	/* Statistics not whole entries, then too many of them. */
	s.n = 0;
	handshake_all(&s);
	stats_buffer(&s, 1, 13, 1);
	control(&s, 0, 0, 0);
	stats_buffer(&s, 2, 4000, 1);
	control(&s, 3, 0, 0);
	put("virtio", "stats-hostile", s.b, s.n);

	/* Inflate, deflate and a report with every queue. */
	s.n = 0;
	handshake_all(&s);
	ram(&s, 0x8000, pfns, sizeof(pfns));
	d[0] = (struct desc){0x8000, sizeof(pfns), 0, 0};
	ram(&s, QDESC(0), d, sizeof(d[0]));
	offer(&s, 0, 0, 1);
	ram(&s, QDESC(1), d, sizeof(d[0]));
	offer(&s, 1, 0, 1);
	d[0] = (struct desc){0x9000, 0x2000, 0, 0};
	ram(&s, QDESC(3), d, sizeof(d[0]));
	offer(&s, 3, 0, 1);
	put("virtio", "all-queues", s.b, s.n);
}

static void virtio_seeds(void)
{
	struct stream s = {.n = 0};
	struct desc d[2];
	uint32_t pfns[4] = {8, 9, (uint32_t)(FUZZ_RAM_HIGH_GPA >> 12) + 1, 10};

	handshake(&s);
	put("virtio", "handshake", s.b, s.n);

	/* Inflate: a buffer of page frame numbers, one in the RAM at 4 GiB. */
	s.n = 0;
	handshake(&s);
	ram(&s, 0x8000, pfns, sizeof(pfns));
	d[0] = (struct desc){0x8000, sizeof(pfns), 0, 0};
	ram(&s, QDESC(0), d, sizeof(d[0]));
	offer(&s, 0, 0, 1);
	put("virtio", "inflate", s.b, s.n);

	/* Free page reporting: a chain of two blocks; a deflate. */
	s.n = 0;
	handshake(&s);
	d[0] = (struct desc){0x9000, 0x2000, 1 /* NEXT */, 1};
	d[1] = (struct desc){0xc000, 0x1000, 0, 0};
	ram(&s, QDESC(2), d, sizeof(d));
	offer(&s, 2, 0, 1);
	d[0] = (struct desc){0xe000, 8, 0, 0};
	ram(&s, QDESC(1), d, sizeof(d[0]));
	offer(&s, 1, 0, 1);
	put("virtio", "report-deflate", s.b, s.n);

	/* A looping chain: the device stops, the driver resets and starts over. */
	s.n = 0;
	handshake(&s);
	d[0] = (struct desc){0x9000, 16, 1, 1};
	d[1] = (struct desc){0x9000, 16, 1, 0};
	ram(&s, QDESC(0), d, sizeof(d));
	offer(&s, 0, 0, 1);
	rd(&s, VS_REG_STATUS);
	handshake(&s);
	put("virtio", "loop-reset", s.b, s.n);
	balloon_stats_seeds();
}

/* virtio_blk: a request of header, data and status on queue 0. */
static void blk_request(struct stream *s, uint32_t type, uint64_t sector, uint32_t len, bool write,
                        uint16_t idx)
{
	uint8_t hdr[16] = {0};
	struct desc d[3] = {{0x8000, 16, 1, 1},
	                    {0x9000, len, (uint16_t)(1 | (write ? 2 : 0)), 2},
	                    {0x8100, 1, 2, 0}};

	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	ram(s, 0x8000, hdr, sizeof(hdr));
	ram(s, QDESC(0), d, sizeof(d));
	offer(s, 0, 0, idx);
}

static void virtio_blk_seeds(void)
{
	/* SEG_MAX, BLK_SIZE, FLUSH, DISCARD, WRITE_ZEROES; one queue */
	const uint32_t f = 1 << 2 | 1 << 6 | 1 << 9 | 1 << 13 | 1 << 14;
	struct stream s = {.n = 0};
	uint8_t seg[16] = {0};

	handshake_f(&s, f, 1);
	blk_request(&s, 1, 4, 512, false, 1); /* write sector 4 */
	blk_request(&s, 0, 4, 512, true, 2);  /* read it back */
	blk_request(&s, 8, 0, 20, true, 3);   /* GET_ID */
	blk_request(&s, 4, 0, 0, false, 4);   /* FLUSH */
	put("virtio_blk", "rw-id-flush", s.b, s.n);

	s.n = 0;
	handshake_f(&s, f, 1);
	seg[0] = 8;  /* sector 8 */
	seg[8] = 16; /* 16 sectors */
	ram(&s, 0x9000, seg, sizeof(seg));
	blk_request(&s, 11, 0, 16, false, 1);  /* DISCARD */
	blk_request(&s, 13, 0, 16, false, 2);  /* WRITE_ZEROES */
	blk_request(&s, 0, 200, 512, true, 3); /* past the end: IOERR */
	put("virtio_blk", "discard-zeroes-range", s.b, s.n);
}

/* net: rings at 0 (receive) and 0x3000 (transmit), as fuzz_net.c reads them;
 * a flags byte, then RAM writes (0), transmit turns (1), frames (2), publish (3). */
#define NET_RXQ 0x0000
#define NET_TXQ 0x3000

static void net_ram(struct stream *s, uint16_t gpa, const void *data, uint8_t len)
{
	u8(s, 0);
	le(s, gpa, 2);
	u8(s, len);
	memcpy(s->b + s->n, data, len);
	s->n += len;
}

/* Makes descriptor @i of the queue at @base chain @d, offered as avail
 * entry @idx - 1 (queues of 8). */
static void net_offer(struct stream *s, uint16_t base, uint16_t i, const struct desc *d,
                      uint16_t idx)
{
	net_ram(s, (uint16_t)(base + 16 * i), d, sizeof(*d));
	net_ram(s, (uint16_t)(base + 0x1000 + 4 + 2 * ((idx - 1) % 8)), &i, 2);
	net_ram(s, (uint16_t)(base + 0x1000 + 2), &idx, 2);
}

static void net_frame(struct stream *s, uint16_t len)
{
	u8(s, 2);
	le(s, len, 2);
}

static void net_seeds(void)
{
	struct stream s = {.n = 0};
	struct desc d[2];

	/* Mergeable buffers: three of 1500 bytes for a 4000-byte packet. */
	u8(&s, 1 | 3 << 4); /* MRG_RXBUF, queues of 8 */
	for (uint16_t i = 0; i < 3; i++) {
		d[0] = (struct desc){0x8000 + 0x800 * i, 1500, 2 /* WRITE */, 0};
		net_offer(&s, NET_RXQ, i, d, (uint16_t)(i + 1));
	}
	net_frame(&s, 4000 - 12);
	u8(&s, 3);
	put("net", "rx-mergeable", s.b, s.n);

	/* One big buffer without MRG_RXBUF; a frame too big for the next. */
	s.n = 0;
	u8(&s, 3 << 4);
	d[0] = (struct desc){0x8000, 0x2000, 2, 0};
	net_offer(&s, NET_RXQ, 0, d, 1);
	net_frame(&s, 1514);
	d[0] = (struct desc){0xa000, 100, 2, 0};
	net_offer(&s, NET_RXQ, 1, d, 2);
	net_frame(&s, 1514);
	u8(&s, 3);
	put("net", "rx-single", s.b, s.n);

	/* Transmit: a header and a frame in two buffers; a device-writable
	 * one, dropped; an indirect table of both. */
	s.n = 0;
	u8(&s, 1 | 2 | 4 | 3 << 4); /* MRG_RXBUF, EVENT_IDX, indirect */
	d[0] = (struct desc){0x8000, 12, 1 /* NEXT */, 1};
	d[1] = (struct desc){0x9000, 60, 0, 0};
	net_ram(&s, NET_TXQ + 16, &d[1], sizeof(d[1]));
	net_offer(&s, NET_TXQ, 0, d, 1);
	u8(&s, 1);
	d[0] = (struct desc){0x8000, 72, 2, 0};
	net_offer(&s, NET_TXQ, 2, d, 2);
	u8(&s, 1);
	d[0] = (struct desc){0x8000, 12, 1, 1};
	d[1] = (struct desc){0x9000, 60, 0, 0};
	net_ram(&s, 0xb000, d, sizeof(d));
	d[0] = (struct desc){0xb000, sizeof(d), 4 /* INDIRECT */, 0};
	net_offer(&s, NET_TXQ, 3, d, 3);
	u8(&s, 1);
	u8(&s, 3);
	put("net", "tx-chains", s.b, s.n);
}

/* insn: a 32-byte header and the kvm_run's exit union (fuzz_insn.c). */
static void insn_seed(const char *name, uint8_t flags, uint8_t n, const uint8_t *caller,
                      uint8_t caller_len, uint64_t rip, const struct kvm_run *run)
{
	uint8_t buf[32 + 64] = {flags, n, caller_len};

	memcpy(buf + 4, &rip, 8);
	if (caller_len)
		memcpy(buf + 12, caller, caller_len);
	memcpy(buf + 32, (const uint8_t *)run + 32, 64);
	put("insn", name, buf, sizeof(buf));
}

static void insn_seeds(void)
{
	static const uint8_t xrstor[] = {0x48, 0x0f, 0xae, 0x2f};
	static const uint8_t xsetbv[] = {0x0f, 0x01, 0xd1};
	static const uint8_t vex32[] = {0xc4, 0xe2, 0x79, 0x18, 0x00};
	static const uint8_t flds[] = {0xd9, 0x00};
	struct kvm_run run;

	memset(&run, 0, sizeof(run));
	run.emulation_failure.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run.emulation_failure.ndata = 8;
	run.emulation_failure.flags = KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
	run.emulation_failure.insn_size = sizeof(xrstor);
	memcpy(run.emulation_failure.insn_bytes, xrstor, sizeof(xrstor));
	insn_seed("xrstor-64", 1 | 2 | 4, 0, NULL, 0, 0xffffffff81ae6633ULL, &run);

	memset(&run, 0, sizeof(run));
	run.internal.suberror = KVM_INTERNAL_ERROR_EMULATION; /* ndata 0: before Linux 5.14 */
	insn_seed("xsetbv-old-kvm", 1, 60, xsetbv, sizeof(xsetbv), 0x1000, &run);

	memset(&run, 0, sizeof(run));
	run.internal.suberror = KVM_INTERNAL_ERROR_DELIVERY_EV;
	run.internal.ndata = 2;
	insn_seed("vex-32", 4, 200, vex32, sizeof(vex32), 0x100005, &run);

	memset(&run, 0, sizeof(run));
	run.emulation_failure.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run.emulation_failure.ndata = 3;
	run.emulation_failure.flags = KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
	run.emulation_failure.insn_size = sizeof(flds);
	memcpy(run.emulation_failure.insn_bytes, flds, sizeof(flds));
	insn_seed("flds-no-room", 0, 0, flds, sizeof(flds), 0x100005, &run);
}

/* i8042: Linux's probe (self-test, CTR read and write, aux loop and test,
 * keyboard port on), atkbd's identify and enable, then Ctrl-Alt-Del. */
static void i8042_seeds(void)
{
	static const uint8_t probe[] = {
	    1, 0xaa, 3, 0, 2, 0,    1, 0x20, 2,    0,    1, 0x60, 0, 0x74, 1, 0xd3, 0, 0x5a, 2, 0,
	    1, 0xa9, 2, 0, 1, 0xab, 2, 0,    1,    0x60, 0, 0x65, 0, 0xf2, 2, 0,    2, 0,    2, 0,
	    0, 0xf4, 2, 0, 3, 0,    2, 0,    0x82, 0,    2, 0,    2, 0,    2, 0,    1, 0xfe,
	};

	put("i8042", "linux-probe", probe, sizeof(probe));
}

/* rtc: Linux's rtc_cmos probe and read of the time (register D, then B, A
 * waiting for UIP, the time registers), an update-ended interrupt enabled
 * and register C read after a second, the time set under SET. */
static void rtc_seeds(void)
{
	static const uint8_t probe[] = {
	    0x00, 0x10, 0x5e, 0x6b, 0x5e, 0x64, 0x00, 0x00, /* 2024-01-01-ish clock */
	    1,    0x0d, 0,    2,    0,    0,    1,    0x0b, 0, 2, 0,    0, 1, 0x0a, 0, 2, 0,    0,
	    1,    0x00, 0,    2,    0,    0,    1,    0x02, 0, 2, 0,    0, 1, 0x04, 0, 2, 0,    0,
	    1,    0x07, 0,    2,    0,    0,    1,    0x08, 0, 2, 0,    0, 1, 0x09, 0, 2, 0,    0,
	    1,    0x0b, 0,    0,    0x12, 0,    4,    0,    1, 1, 0x0c, 0, 2, 0,    0, 6, 0,    0,
	    1,    0x0b, 0,    0,    0x82, 0,    1,    0x00, 0, 0, 0x30, 0, 1, 0x0b, 0, 0, 0x02, 0,
	    1,    0x0a, 0,    0,    0x2f, 0,    1,    0x0b, 0, 0, 0x42, 0, 4, 0,    1, 1, 0x0c, 0,
	    2,    0,    0,
	};

	put("rtc", "linux-probe", probe, sizeof(probe));
}

/* blk_req: a chain (count, then address, length, flags per buffer) and
 * guest RAM from 0, for fuzz_blk_req. */
static void blk_req_seed(const char *name, uint32_t type, uint64_t sector, uint16_t data_len,
                         uint8_t data_flags)
{
	uint8_t b[1 + 3 * 5 + 0x110] = {0};
	uint8_t *p = b + 1, *ram;
	const uint16_t bufs[3][3] = {{0x100, 16, 0}, {0x1000, data_len, data_flags}, {0x200, 1, 1}};

	b[0] = 3;
	for (int i = 0; i < 3; i++, p += 5) {
		memcpy(p, &bufs[i][0], 2);
		memcpy(p + 2, &bufs[i][1], 2);
		p[4] = (uint8_t)bufs[i][2];
	}
	ram = p;
	memcpy(ram + 0x100, &type, 4);
	memcpy(ram + 0x108, &sector, 8);
	put("blk_req", name, b, sizeof(b));
}

static void blk_req_seeds(void)
{
	blk_req_seed("read", 0, 3, 512, 1);
	blk_req_seed("write", 1, 60, 2048, 0);
	blk_req_seed("flush", 4, 0, 0, 0);
	blk_req_seed("get-id", 8, 0, 20, 1);
	blk_req_seed("discard", 11, 0, 16, 0);
	blk_req_seed("write-zeroes", 13, 0, 32, 0);
}

/* vsock: records of fuzz_vsock.c (a command byte, then its operands). */
struct vs_seed {
	uint8_t b[1024];
	size_t n;
};

static void vs_le(struct vs_seed *s, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		s->b[s->n++] = (uint8_t)(v >> (8 * i));
}

/* A guest packet from CID 3 port 1234 to the host's port 5000, whose chain
 * holds @len payload bytes. */
static void vs_pkt(struct vs_seed *s, uint16_t op, uint32_t len, uint32_t flags, uint32_t buf_alloc,
                   uint32_t fwd_cnt)
{
	s->b[s->n++] = 0;
	vs_le(s, 3, 8);    /* src_cid */
	vs_le(s, 2, 8);    /* dst_cid */
	vs_le(s, 1234, 4); /* src_port */
	vs_le(s, 5000, 4); /* dst_port */
	vs_le(s, len, 4);
	vs_le(s, 1, 2); /* type: STREAM */
	vs_le(s, op, 2);
	vs_le(s, flags, 4);
	vs_le(s, buf_alloc, 4);
	vs_le(s, fwd_cnt, 4);
	vs_le(s, len, 2); /* the chain's payload */
}

static void vs_cmd(struct vs_seed *s, uint8_t cmd, uint64_t arg, int bytes)
{
	s->b[s->n++] = cmd;
	vs_le(s, arg, bytes);
}

static void vsock_seeds(void)
{
	static const char line[] = "CONNECT 5000\n";
	struct vs_seed s = {.n = 0};

	/* guest-initiated: data both ways, credit, a full shutdown, an RST */
	vs_pkt(&s, 5, 100, 0, 65536, 0);  /* RW */
	vs_cmd(&s, 1, 100, 3);            /* forwarded */
	vs_cmd(&s, 2, 4096, 2);           /* host sends */
	vs_pkt(&s, 7, 0, 0, 65536, 4096); /* CREDIT_REQUEST */
	vs_cmd(&s, 3, 0, 0);              /* control */
	vs_pkt(&s, 4, 0, 3, 65536, 4096); /* SHUTDOWN RCV|SEND */
	vs_pkt(&s, 3, 0, 0, 0, 0);        /* RST */
	put("vsock", "guest-initiated", s.b, s.n);
	/* host-initiated: CONNECTING, the guest's RESPONSE, data, host EOF */
	s.n = 0;
	vs_cmd(&s, 6, 1, 1);
	vs_pkt(&s, 2, 0, 0, 262144, 0);
	vs_cmd(&s, 2, 65535, 2);
	vs_pkt(&s, 6, 0, 0, 262144, 65535); /* CREDIT_UPDATE */
	vs_cmd(&s, 4, 0, 0);
	vs_pkt(&s, 4, 0, 2, 262144, 65535); /* SHUTDOWN SEND */
	put("vsock", "host-initiated", s.b, s.n);
	/* the host's request line */
	s.n = 0;
	vs_cmd(&s, 5, sizeof(line) - 1, 1);
	memcpy(s.b + s.n, line, sizeof(line) - 1);
	s.n += sizeof(line) - 1;
	put("vsock", "connect-line", s.b, s.n);
}

/* config: a selector byte, then an option value (fuzz_config). */
static void config_seed(const char *name, char which, const char *value)
{
	char b[256];

	b[0] = which;
	snprintf(b + 1, sizeof(b) - 1, "%s", value);
	put("config", name, b, 1 + strlen(value));
}

static void config_seeds(void)
{
	config_seed("disk", 0, "/var/lib/img.raw,ro,id=root,io=sync,cache=none");
	config_seed("net", 1, "tap=tap0,mac=52:54:00:12:34:56");
	config_seed("vsock", 2, "cid=3,uds=/tmp/v.sock");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkcorpus DIR\n");
		return 2;
	}
	root = argv[1];
	if (mkdir(root, 0755) < 0 && errno != EEXIST) {
		perror(root);
		return 1;
	}
	elf_seeds();
	blk_req_seeds();
	bzimage_seeds();
	initrd_seeds();
	cmdline_seeds();
	virtio_seeds();
	virtio_blk_seeds();
	config_seeds();
	net_seeds();
	insn_seeds();
	i8042_seeds();
	rtc_seeds();
	vsock_seeds();
	return 0;
}
