// SPDX-License-Identifier: MIT
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int image_open(struct image_file *f, const char *path, const char *what, struct err *e)
{
	struct stat st;
	void *p;

	memset(f, 0, sizeof(*f));
	f->path = path;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return err_set(e, "%s '%s': %s", what, path, strerror(errno));
	if (fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(f->fd);
		return err_set(e, "%s '%s': not a regular file", what, path);
	}
	if (st.st_size == 0) {
		close(f->fd);
		return err_set(e, "%s '%s' is empty", what, path);
	}
	f->size = (uint64_t)st.st_size;
	p = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, f->fd, 0);
	if (p == MAP_FAILED) {
		close(f->fd);
		return err_set(e, "%s '%s': cannot map it: %s", what, path, strerror(errno));
	}
	f->data = p;
	return 0;
}

void image_close(struct image_file *f)
{
	if (f->data)
		munmap((void *)(uintptr_t)f->data, f->size);
	if (f->fd >= 0)
		close(f->fd);
	f->data = NULL;
	f->fd = -1;
}

static void copy(uint8_t *dst, const uint8_t *src, uint64_t len, struct image_stats *st)
{
	memcpy(dst, src, len);
	if (st)
		st->copied += len;
}

static int map_pages(uint8_t *dst, const struct image_file *f, uint64_t off, uint64_t len,
                     struct image_stats *st, struct err *e)
{
	uint64_t span = (len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	void *p =
	    mmap(dst, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, f->fd, (off_t)off);

	if (p == MAP_FAILED)
		return err_set(e, "'%s': cannot map it into guest memory: %s", f->path,
		               strerror(errno));
	if (st)
		st->mapped += len;
	return 0;
}

int image_place(const struct guest_mem *m, const struct image_file *f, uint64_t off, uint64_t len,
                uint64_t gpa, struct image_stats *st, struct err *e)
{
	uint8_t *dst = guest_ptr(m, gpa, len);
	uint64_t head, body, tail;

	if (!dst || off > f->size || len > f->size - off)
		return err_set(e, "'%s': bytes [%llu, +%llu) do not fit at guest 0x%llx", f->path,
		               (unsigned long long)off, (unsigned long long)len,
		               (unsigned long long)gpa);
	if (off % PAGE_SIZE != gpa % PAGE_SIZE || !mem_can_map_files(m)) {
		copy(dst, f->data + off, len, st);
		return 0;
	}
	head = (PAGE_SIZE - gpa % PAGE_SIZE) % PAGE_SIZE;
	head = head < len ? head : len;
	body = (len - head) & ~(PAGE_SIZE - 1);
	tail = len - head - body;
	/* A last partial page that ends the file reads as zeros past EOF. */
	if (off + len == f->size &&
	    guest_ptr(m, gpa + head, (body + tail + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))) {
		body += tail;
		tail = 0;
	}
	copy(dst, f->data + off, head, st);
	if (body && map_pages(dst + head, f, off + head, body, st, e) < 0)
		return -1;
	copy(dst + head + body, f->data + off + head + body, tail, st);
	return 0;
}
