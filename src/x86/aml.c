// SPDX-License-Identifier: MIT
#include "aml.h"

#include <ctype.h>
#include <string.h>

#define AML_ZERO    0x00
#define AML_ONE     0x01
#define AML_NAME    0x08
#define AML_BYTE    0x0a
#define AML_WORD    0x0b
#define AML_DWORD   0x0c
#define AML_STRING  0x0d
#define AML_QWORD   0x0e
#define AML_SCOPE   0x10
#define AML_BUFFER  0x11
#define AML_PACKAGE 0x12
#define AML_ONES    0xff
#define AML_EXT     0x5b
#define AML_DEVICE  0x82 /* after AML_EXT */
#define AML_ROOT    '\\'
#define AML_END_TAG 0x79

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	*a = (struct aml){.buf = buf, .cap = cap};
}

long aml_finish(const struct aml *a)
{
	return a->failed || a->depth ? -1 : (long)a->len;
}

static void put(struct aml *a, const void *p, size_t n)
{
	if (a->failed || n > a->cap - a->len) {
		a->failed = true;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void byte(struct aml *a, uint8_t b)
{
	put(a, &b, 1);
}

/* A name segment: 4 characters, A-Z, 0-9 and _, not starting with a digit,
 * padded with _. */
static void name_seg(struct aml *a, const char *s, size_t n)
{
	char seg[4] = {'_', '_', '_', '_'};

	if (!n || n > 4 || isdigit((unsigned char)s[0]))
		a->failed = true;
	for (size_t i = 0; i < n && i < 4; i++) {
		if (!isupper((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_')
			a->failed = true;
		seg[i] = s[i];
	}
	put(a, seg, 4);
}

/* A name string: an optional root prefix and one segment (mote's names
 * need no more). */
static void name_string(struct aml *a, const char *s)
{
	if (*s == AML_ROOT) {
		byte(a, AML_ROOT);
		s++;
	}
	name_seg(a, s, strlen(s));
}

static void integer(struct aml *a, uint64_t v)
{
	uint8_t b[8];

	if (v == 0 || v == 1) {
		byte(a, v ? AML_ONE : AML_ZERO);
		return;
	}
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	if (v <= 0xff) {
		byte(a, AML_BYTE);
		put(a, b, 1);
	} else if (v <= 0xffff) {
		byte(a, AML_WORD);
		put(a, b, 2);
	} else if (v <= 0xffffffffULL) {
		byte(a, AML_DWORD);
		put(a, b, 4);
	} else {
		byte(a, AML_QWORD);
		put(a, b, 8);
	}
}

/* Opens a package whose PkgLength comes before its contents. */
static void open_pkg(struct aml *a)
{
	if (a->depth == AML_MAX_DEPTH) {
		a->failed = true;
		return;
	}
	a->open[a->depth++] = a->len;
}

/* Bytes of a PkgLength that covers @n bytes of contents plus itself. */
static size_t pkg_length_size(size_t n)
{
	return n + 1 < 0x40 ? 1 : n + 2 < 0x1000 ? 2 : n + 3 < 0x100000 ? 3 : 4;
}

void aml_close(struct aml *a)
{
	size_t start, n, k, total;

	if (a->failed || !a->depth) {
		a->failed = true;
		return;
	}
	start = a->open[--a->depth];
	n = a->len - start;
	k = pkg_length_size(n);
	total = n + k;
	if (total >= 0x10000000 || k > a->cap - a->len) {
		a->failed = true;
		return;
	}
	memmove(a->buf + start + k, a->buf + start, n);
	a->len += k;
	if (k == 1) {
		a->buf[start] = (uint8_t)total;
		return;
	}
	a->buf[start] = (uint8_t)(((k - 1) << 6) | (total & 0xf));
	for (size_t i = 1; i < k; i++)
		a->buf[start + i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
}

void aml_scope(struct aml *a, const char *path)
{
	byte(a, AML_SCOPE);
	open_pkg(a);
	name_string(a, path);
}

void aml_device(struct aml *a, const char *name)
{
	byte(a, AML_EXT);
	byte(a, AML_DEVICE);
	open_pkg(a);
	name_string(a, name);
}

void aml_name_int(struct aml *a, const char *name, uint64_t v)
{
	byte(a, AML_NAME);
	name_string(a, name);
	integer(a, v);
}

void aml_name_string(struct aml *a, const char *name, const char *s)
{
	byte(a, AML_NAME);
	name_string(a, name);
	byte(a, AML_STRING);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x01 || (unsigned char)*p > 0x7f)
			a->failed = true;
	put(a, s, strlen(s) + 1);
}

uint32_t aml_eisaid(const char *id)
{
	uint32_t v = 0;

	if (strlen(id) != 7)
		return 0;
	for (int i = 0; i < 3; i++) {
		if (!isupper((unsigned char)id[i]))
			return 0;
		v = (v << 5) | (uint32_t)(id[i] - 'A' + 1);
	}
	for (int i = 3; i < 7; i++) {
		if (!isxdigit((unsigned char)id[i]))
			return 0;
		v = (v << 4) | (uint32_t)(isdigit((unsigned char)id[i])
		                              ? id[i] - '0'
		                              : toupper((unsigned char)id[i]) - 'A' + 10);
	}
	/* Stored big-endian: the compressed letters come first. */
	return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | (v >> 24);
}

void aml_name_eisaid(struct aml *a, const char *name, const char *id)
{
	uint32_t v = aml_eisaid(id);

	if (!v)
		a->failed = true;
	byte(a, AML_NAME);
	name_string(a, name);
	byte(a, AML_DWORD);
	for (int i = 0; i < 4; i++)
		byte(a, (uint8_t)(v >> (8 * i)));
}

void aml_name_package(struct aml *a, const char *name, const uint64_t *v, int n)
{
	if (n < 0 || n > 255) {
		a->failed = true;
		return;
	}
	byte(a, AML_NAME);
	name_string(a, name);
	byte(a, AML_PACKAGE);
	open_pkg(a);
	byte(a, (uint8_t)n);
	for (int i = 0; i < n; i++)
		integer(a, v[i]);
	aml_close(a);
}

void aml_name_resources(struct aml *a, const char *name, const uint8_t *res, size_t len)
{
	static const uint8_t end[2] = {AML_END_TAG, 0}; /* checksum 0: "treated as valid" */

	byte(a, AML_NAME);
	name_string(a, name);
	byte(a, AML_BUFFER);
	open_pkg(a);
	integer(a, len + sizeof(end));
	put(a, res, len);
	put(a, end, sizeof(end));
	aml_close(a);
}

size_t aml_res_io(uint8_t *out, uint16_t port, uint8_t len)
{
	const uint8_t d[8] = {
	    0x47, 0x01, (uint8_t)port, (uint8_t)(port >> 8), (uint8_t)port, (uint8_t)(port >> 8),
	    0x01, len};

	memcpy(out, d, sizeof(d));
	return sizeof(d);
}

size_t aml_res_mem32(uint8_t *out, uint32_t base, uint32_t len)
{
	const uint8_t d[12] = {0x86,
	                       0x09,
	                       0x00,
	                       0x01,
	                       (uint8_t)base,
	                       (uint8_t)(base >> 8),
	                       (uint8_t)(base >> 16),
	                       (uint8_t)(base >> 24),
	                       (uint8_t)len,
	                       (uint8_t)(len >> 8),
	                       (uint8_t)(len >> 16),
	                       (uint8_t)(len >> 24)};

	memcpy(out, d, sizeof(d));
	return sizeof(d);
}

size_t aml_res_irq(uint8_t *out, uint8_t irq)
{
	const uint16_t mask = irq < 16 ? (uint16_t)(1U << irq) : 0;
	const uint8_t d[3] = {0x22, (uint8_t)mask, (uint8_t)(mask >> 8)};

	memcpy(out, d, sizeof(d));
	return sizeof(d);
}

size_t aml_res_interrupt(uint8_t *out, uint32_t gsi, bool level)
{
	/* Consumer, edge or level, active high, exclusive; one interrupt. */
	const uint8_t d[9] = {0x89,
	                      0x06,
	                      0x00,
	                      (uint8_t)(0x01 | (level ? 0 : 0x02)),
	                      0x01,
	                      (uint8_t)gsi,
	                      (uint8_t)(gsi >> 8),
	                      (uint8_t)(gsi >> 16),
	                      (uint8_t)(gsi >> 24)};

	memcpy(out, d, sizeof(d));
	return sizeof(d);
}
