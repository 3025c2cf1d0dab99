/* SPDX-License-Identifier: MIT */
/* Port I/O and MMIO dispatch: devices claim ranges with one handler signature. */
#ifndef MOTE_BUS_H
#define MOTE_BUS_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

enum bus_space { BUS_PIO, BUS_MMIO, BUS_NR };

/* Handles an access at @offset from the start of the claimed range. On a
 * read the handler fills @data[0..len). */
typedef void io_handler_fn(struct vcpu *vcpu, uint64_t offset, uint8_t *data, uint32_t len,
                           bool is_write, void *opaque);

/* Claims [base, base+len) in @space; -1 if it overlaps a claimed range or
 * the table is full. Call before any vCPU runs. */
int bus_register(enum bus_space space, uint64_t base, uint64_t len, io_handler_fn *fn,
                 void *opaque);

/* Routes an access to its device; an unclaimed one is counted, reads
 * return all ones. Returns false if nothing claimed it. */
bool bus_dispatch(struct vcpu *vcpu, enum bus_space space, uint64_t addr, uint8_t *data,
                  uint32_t len, bool is_write);

/* Number of accesses nobody claimed in @space so far. */
uint64_t bus_unhandled(enum bus_space space);

/* Forgets every claimed range (tests). */
void bus_reset(void);

#endif
