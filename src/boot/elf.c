// SPDX-License-Identifier: MIT
#include "elf.h"

#include <elf.h>
#include <string.h>

int elf_is_elf(const void *buf, size_t len)
{
	return len >= SELFMAG && !memcmp(buf, ELFMAG, SELFMAG);
}

static int check_header(const Elf64_Ehdr *h, size_t len, const char *name, struct err *e)
{
	if (len < sizeof(*h) || h->e_ident[EI_CLASS] != ELFCLASS64)
		return err_set(e, "kernel '%s': %s", name,
		               len < sizeof(*h) ? "ELF header is truncated"
		                                : "ELF is 32-bit, not x86-64");
	if (h->e_ident[EI_DATA] != ELFDATA2LSB || h->e_machine != EM_X86_64)
		return err_set(e, "kernel '%s': ELF for machine %u, not x86-64", name,
		               h->e_machine);
	if (h->e_phentsize != sizeof(Elf64_Phdr))
		return err_set(e, "kernel '%s': program header size %u, expected %zu", name,
		               h->e_phentsize, sizeof(Elf64_Phdr));
	if (!h->e_phnum)
		return err_set(e, "kernel '%s': ELF has no program headers", name);
	if (h->e_phoff > len || (uint64_t)h->e_phnum * sizeof(Elf64_Phdr) > len - h->e_phoff)
		return err_set(e,
		               "kernel '%s' is truncated: program headers end past the "
		               "end of the file (%zu bytes)",
		               name, len);
	return 0;
}

/* Scans one PT_NOTE for XEN_ELFNOTE_PHYS32_ENTRY; returns 1 if found. */
static int find_pvh_note(const uint8_t *p, uint64_t size, uint64_t *entry)
{
	uint64_t off = 0;

	while (size - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr n;
		uint64_t name_sz, desc_sz;

		memcpy(&n, p + off, sizeof(n));
		off += sizeof(n);
		name_sz = ((uint64_t)n.n_namesz + 3) & ~3ULL;
		desc_sz = ((uint64_t)n.n_descsz + 3) & ~3ULL;
		if (name_sz > size - off || desc_sz > size - off - name_sz)
			return 0;
		if (n.n_type == XEN_ELFNOTE_PHYS32_ENTRY && n.n_namesz == 4 &&
		    !memcmp(p + off, "Xen", 4) && n.n_descsz >= 4) {
			uint32_t v;

			memcpy(&v, p + off + name_sz, sizeof(v));
			*entry = v;
			return 1;
		}
		off += name_sz + desc_sz;
	}
	return 0;
}

static int add_segment(struct elf_image *out, const Elf64_Phdr *ph, int idx, size_t len,
                       const char *name, struct err *e)
{
	struct elf_segment *s;

	if (ph->p_offset > len || ph->p_filesz > len - ph->p_offset)
		return err_set(e,
		               "kernel '%s' is truncated: segment %d ends at byte %llu, "
		               "past the end of the file (%zu bytes)",
		               name, idx, (unsigned long long)(ph->p_offset + ph->p_filesz), len);
	if (ph->p_filesz > ph->p_memsz)
		return err_set(e, "kernel '%s': segment %d has file size above memory size", name,
		               idx);
	if (ph->p_paddr + ph->p_memsz < ph->p_paddr)
		return err_set(e, "kernel '%s': segment %d wraps around the address space", name,
		               idx);
	if (out->nr_segments == ELF_MAX_SEGMENTS)
		return err_set(e, "kernel '%s': more than %d loadable segments", name,
		               ELF_MAX_SEGMENTS);
	s = &out->segments[out->nr_segments++];
	*s = (struct elf_segment){ph->p_offset, ph->p_paddr, ph->p_filesz, ph->p_memsz};
	return 0;
}

static int check_overlaps(const struct elf_image *img, const char *name, struct err *e)
{
	for (int i = 0; i < img->nr_segments; i++)
		for (int j = i + 1; j < img->nr_segments; j++) {
			const struct elf_segment *a = &img->segments[i], *b = &img->segments[j];

			if (a->paddr < b->paddr + b->memsz && b->paddr < a->paddr + a->memsz)
				return err_set(e,
				               "kernel '%s': segments %d and %d overlap "
				               "in physical memory",
				               name, i, j);
		}
	return 0;
}

int elf_parse(const void *buf, size_t len, const char *name, struct elf_image *out, struct err *e)
{
	const uint8_t *base = buf;
	Elf64_Ehdr h = {0};
	int found = 0;

	memset(out, 0, sizeof(*out));
	if (!elf_is_elf(buf, len))
		return err_set(e, "kernel '%s' is not an ELF file", name);
	memcpy(&h, buf, len < sizeof(h) ? len : sizeof(h));
	if (check_header(&h, len, name, e) < 0)
		return -1;
	for (int i = 0; i < h.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, base + h.e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD && ph.p_memsz &&
		    add_segment(out, &ph, i, len, name, e) < 0)
			return -1;
		if (ph.p_type == PT_NOTE && !found && ph.p_offset <= len &&
		    ph.p_filesz <= len - ph.p_offset)
			found = find_pvh_note(base + ph.p_offset, ph.p_filesz, &out->pvh_entry);
	}
	if (!out->nr_segments)
		return err_set(e, "kernel '%s': ELF has no loadable segments", name);
	if (!found)
		return err_set(e,
		               "kernel '%s': ELF has no PVH entry note "
		               "(XEN_ELFNOTE_PHYS32_ENTRY); build it with CONFIG_PVH=y or "
		               "boot its bzImage",
		               name);
	return check_overlaps(out, name, e);
}

int elf_check_fit(const struct elf_image *img, uint64_t ram_start, uint64_t ram_end,
                  const char *name, struct err *e)
{
	for (int i = 0; i < img->nr_segments; i++) {
		const struct elf_segment *s = &img->segments[i];

		if (s->paddr < ram_start || s->paddr + s->memsz > ram_end)
			return err_set(e,
			               "kernel '%s': segment %d [0x%llx, 0x%llx) does not fit "
			               "in guest RAM [0x%llx, 0x%llx): give the VM more --memory",
			               name, i, (unsigned long long)s->paddr,
			               (unsigned long long)(s->paddr + s->memsz),
			               (unsigned long long)ram_start, (unsigned long long)ram_end);
	}
	if (img->pvh_entry < ram_start || img->pvh_entry >= ram_end)
		return err_set(e, "kernel '%s': PVH entry 0x%llx is outside guest RAM", name,
		               (unsigned long long)img->pvh_entry);
	return 0;
}

/* Copies section header @i of @h from @buf; 0 if it lies outside the file. */
static int get_shdr(const uint8_t *buf, size_t len, const Elf64_Ehdr *h, unsigned i,
                    Elf64_Shdr *out)
{
	uint64_t off = h->e_shoff + (uint64_t)i * sizeof(*out);

	if (h->e_shentsize != sizeof(*out) || i >= h->e_shnum || h->e_shoff > len ||
	    off > len - sizeof(*out))
		return 0;
	memcpy(out, buf + off, sizeof(*out));
	return 1;
}

/* True if section @s lies inside the file. */
static int in_file(const Elf64_Shdr *s, size_t len)
{
	return s->sh_offset <= len && s->sh_size <= len - s->sh_offset;
}

/* Looks @name up in symbol table @symtab with string table @strtab. */
static int lookup(const uint8_t *buf, const Elf64_Shdr *symtab, const Elf64_Shdr *strtab,
                  const char *name, uint64_t *value)
{
	size_t name_len = strlen(name) + 1;
	uint64_t n = symtab->sh_size / sizeof(Elf64_Sym);

	for (uint64_t i = 0; i < n; i++) {
		Elf64_Sym sym;

		memcpy(&sym, buf + symtab->sh_offset + i * sizeof(sym), sizeof(sym));
		if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_name >= strtab->sh_size ||
		    strtab->sh_size - sym.st_name < name_len)
			continue;
		if (!memcmp(buf + strtab->sh_offset + sym.st_name, name, name_len)) {
			*value = sym.st_value;
			return 1;
		}
	}
	return 0;
}

int elf_find_function(const void *buf, size_t len, const char *name, uint64_t *value)
{
	Elf64_Ehdr h;
	Elf64_Shdr symtab, strtab;

	if (!elf_is_elf(buf, len) || len < sizeof(h))
		return 0;
	memcpy(&h, buf, sizeof(h));
	for (unsigned i = 0; i < h.e_shnum; i++) {
		if (!get_shdr(buf, len, &h, i, &symtab) || symtab.sh_type != SHT_SYMTAB)
			continue;
		if (!in_file(&symtab, len) || !get_shdr(buf, len, &h, symtab.sh_link, &strtab) ||
		    strtab.sh_type != SHT_STRTAB || !in_file(&strtab, len))
			return 0;
		return lookup(buf, &symtab, &strtab, name, value);
	}
	return 0;
}
