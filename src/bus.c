// SPDX-License-Identifier: MIT
#include "bus.h"

#include <stdatomic.h>
#include <string.h>

#define BUS_MAX_RANGES 64

struct bus_range {
	uint64_t base;
	uint64_t len;
	io_handler_fn *fn;
	void *opaque;
};

/* Sorted by base; written only before vCPUs run, so lookups take no lock. */
static struct bus {
	struct bus_range ranges[BUS_MAX_RANGES];
	int nr;
	atomic_uint_fast64_t unhandled;
} buses[BUS_NR];

static bool overlaps(const struct bus_range *r, uint64_t base, uint64_t len)
{
	return base < r->base + r->len && r->base < base + len;
}

int bus_register(enum bus_space space, uint64_t base, uint64_t len, io_handler_fn *fn, void *opaque)
{
	struct bus *b = &buses[space];
	int i;

	if (!len || base + len < base || b->nr == BUS_MAX_RANGES)
		return -1;
	for (i = 0; i < b->nr; i++)
		if (overlaps(&b->ranges[i], base, len))
			return -1;
	for (i = b->nr; i > 0 && b->ranges[i - 1].base > base; i--)
		b->ranges[i] = b->ranges[i - 1];
	b->ranges[i] = (struct bus_range){base, len, fn, opaque};
	b->nr++;
	return 0;
}

static const struct bus_range *lookup(const struct bus *b, uint64_t addr)
{
	int lo = 0, hi = b->nr - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const struct bus_range *r = &b->ranges[mid];

		if (addr < r->base)
			hi = mid - 1;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

bool bus_dispatch(struct vcpu *vcpu, enum bus_space space, uint64_t addr, uint8_t *data,
                  uint32_t len, bool is_write)
{
	struct bus *b = &buses[space];
	const struct bus_range *r = lookup(b, addr);

	if (!r) {
		atomic_fetch_add_explicit(&b->unhandled, 1, memory_order_relaxed);
		if (!is_write)
			memset(data, 0xff, len);
		return false;
	}
	r->fn(vcpu, addr - r->base, data, len, is_write, r->opaque);
	return true;
}

uint64_t bus_unhandled(enum bus_space space)
{
	return atomic_load_explicit(&buses[space].unhandled, memory_order_relaxed);
}

void bus_reset(void)
{
	memset(buses, 0, sizeof(buses));
}
