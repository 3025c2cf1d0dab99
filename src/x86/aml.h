/* SPDX-License-Identifier: MIT */
/* A small AML emitter (ACPI 6.x, chapter 20): the few terms mote's DSDT
 * needs, written into a growing buffer. Scopes and devices are opened and
 * closed around their contents; their package lengths are filled in at the
 * close. An error (out of room, a bad name, closes that do not match) sticks
 * and is reported by aml_finish. */
#ifndef MOTE_X86_AML_H
#define MOTE_X86_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 8

struct aml {
	uint8_t *buf;
	size_t len, cap;
	bool failed;
	int depth;
	size_t open[AML_MAX_DEPTH]; /* where each open package's contents start */
};

/* Starts an empty AML stream in @buf (@cap bytes). */
void aml_init(struct aml *a, uint8_t *buf, size_t cap);

/* The stream's length, or -1 if anything failed or a package is open. */
long aml_finish(const struct aml *a);

/* Scope(@path) { ... aml_close }: @path like "\\_SB_" or "_SB_". */
void aml_scope(struct aml *a, const char *path);

/* Device(@name) { ... aml_close }: @name one segment of up to 4 chars. */
void aml_device(struct aml *a, const char *name);

/* Closes the innermost Scope or Device, filling in its length. */
void aml_close(struct aml *a);

/* Name(@name, integer @v): the shortest integer encoding of @v. */
void aml_name_int(struct aml *a, const char *name, uint64_t v);

/* Name(@name, "@s"). */
void aml_name_string(struct aml *a, const char *name, const char *s);

/* Name(@name, EisaId("@id")): @id 3 letters and 4 hex digits, "PNP0501". */
void aml_name_eisaid(struct aml *a, const char *name, const char *id);

/* Name(@name, Package() { @n integers @v }). */
void aml_name_package(struct aml *a, const char *name, const uint64_t *v, int n);

/* Name(@name, ResourceTemplate() { @len bytes of descriptors @res }):
 * the end tag is added here. */
void aml_name_resources(struct aml *a, const char *name, const uint8_t *res, size_t len);

/* Resource descriptors, written into @out (returns the bytes written,
 * which the caller sizes: 8, 12, 3 and 9 bytes in order). */
size_t aml_res_io(uint8_t *out, uint16_t port, uint8_t len);      /* IO(Decode16) */
size_t aml_res_mem32(uint8_t *out, uint32_t base, uint32_t len);  /* Memory32Fixed(RW) */
size_t aml_res_irq(uint8_t *out, uint8_t irq);                    /* IRQNoFlags (edge) */
size_t aml_res_interrupt(uint8_t *out, uint32_t gsi, bool level); /* Interrupt(, , high, excl) */

/* The EISA id encoding of @id ("PNP0501"); 0 if @id is not one. */
uint32_t aml_eisaid(const char *id);

#endif
