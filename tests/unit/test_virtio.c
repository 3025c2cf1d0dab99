// SPDX-License-Identifier: MIT
/* The split virtqueue against hostile rings, the virtio-mmio registers, and mem_discard. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bus.h"
#include "evloop.h"
#include "mem.h"
#include "virtio/mmio.h"
#include "virtio/queue.h"
#include "vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DESC  0x1000ULL
#define AVAIL 0x2000ULL
#define USED  0x3000ULL
#define BUF   0x10000ULL
#define QSIZE 8

static struct vm vm;
static struct guest_mem *m = &vm.mem;
static struct virtq q;

static int setup_backend(enum mem_backend b)
{
	struct err e;

	memset(&vm, 0, sizeof(vm));
	vm.vm_fd = -1;
	if (evloop_init(&vm.io, &e) < 0)
		return -1;
	if (mem_layout(m, 16 * MiB, &e) < 0)
		return -1;
	m->opts.backend = b; /* after mem_layout, which starts from zero */
	if (mem_map(m, &e) < 0)
		return -1;
	q = (struct virtq){
	    .size = QSIZE, .ready = true, .desc = DESC, .avail = AVAIL, .used = USED};
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return setup_backend(MEM_ANON);
}

static long hp_before = -1; /* huge pages to restore at teardown */
static int write_pages(long n);

static void close_dev(void);

static int teardown(void **state)
{
	(void)state;
	close_dev();
	evloop_destroy(&vm.io);
	mem_unmap(m);
	if (hp_before >= 0)
		write_pages(hp_before);
	hp_before = -1;
	return 0;
}

static void set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = guest_ptr(m, DESC + 16ULL * i, 16);

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

/* Makes chain @head available as avail ring entry @slot, avail idx @idx. */
static void offer(uint16_t slot, uint16_t head, uint16_t idx)
{
	uint8_t *a = guest_ptr(m, AVAIL, 4 + 2 * QSIZE);

	memcpy(a + 4 + 2 * (slot % QSIZE), &head, 2);
	memcpy(a + 2, &idx, 2);
}

static void assert_pop_fails(int max, const char *needle)
{
	struct virtq_buf bufs[4];
	struct err e = {{0}};
	uint16_t head;

	assert_int_equal(virtq_pop(&q, m, bufs, max, &head, &e), -1);
	if (!strstr(e.msg, needle))
		fail_msg("error '%s' does not mention '%s'", e.msg, needle);
}

static void test_pop_empty(void **state)
{
	struct virtq_buf bufs[4];
	struct err e;
	uint16_t head;

	(void)state;
	assert_int_equal(virtq_pop(&q, m, bufs, 4, &head, &e), 0);
}

static void test_pop_chain_and_push(void **state)
{
	struct virtq_buf bufs[4];
	struct err e;
	uint16_t head, used_idx;
	uint32_t elem[2];

	(void)state;
	set_desc(3, BUF, 16, VIRTQ_DESC_F_NEXT, 5);
	set_desc(5, BUF + 0x1000, 4096, VIRTQ_DESC_F_WRITE, 0);
	offer(0, 3, 1);
	assert_int_equal(virtq_pop(&q, m, bufs, 4, &head, &e), 2);
	assert_int_equal(head, 3);
	assert_int_equal(bufs[0].addr, BUF);
	assert_int_equal(bufs[0].len, 16);
	assert_false(bufs[0].write);
	assert_int_equal(bufs[1].addr, BUF + 0x1000);
	assert_true(bufs[1].write);
	assert_int_equal(virtq_pop(&q, m, bufs, 4, &head, &e), 0); /* taken */
	assert_int_equal(virtq_push(&q, m, head, 77, &e), 0);
	memcpy(&used_idx, guest_ptr(m, USED + 2, 2), 2);
	memcpy(elem, guest_ptr(m, USED + 4, 8), 8);
	assert_int_equal(used_idx, 1);
	assert_int_equal(elem[0], 3);
	assert_int_equal(elem[1], 77);
}

static void test_avail_index_runs_ahead(void **state)
{
	(void)state;
	offer(0, 0, QSIZE + 1);
	assert_pop_fails(4, "ran 9 entries ahead");
}

static void test_head_out_of_range(void **state)
{
	(void)state;
	offer(0, QSIZE, 1);
	assert_pop_fails(4, "descriptor index 8 out of a queue of 8");
}

static void test_next_out_of_range(void **state)
{
	(void)state;
	set_desc(0, BUF, 8, VIRTQ_DESC_F_NEXT, 200);
	offer(0, 0, 1);
	assert_pop_fails(4, "descriptor index 200");
}

static void test_chain_loop(void **state)
{
	(void)state;
	set_desc(0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
	offer(0, 0, 1);
	assert_pop_fails(4, "chain of more than 4"); /* bounded by max first */
	q.last_avail = 0;
	{
		struct virtq_buf bufs[QSIZE + 1];
		struct err e = {{0}};
		uint16_t head;

		assert_int_equal(virtq_pop(&q, m, bufs, QSIZE + 1, &head, &e), -1);
		assert_non_null(strstr(e.msg, "loop"));
	}
}

static void test_indirect_refused(void **state)
{
	(void)state;
	set_desc(0, BUF, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0, 0, 1);
	assert_pop_fails(4, "indirect");
}

static void test_buffer_outside_ram(void **state)
{
	(void)state;
	set_desc(0, 15 * MiB, 2 * MiB, 0, 0);
	offer(0, 0, 1);
	assert_pop_fails(4, "outside guest RAM");
	q.last_avail = 0;
	set_desc(0, UINT64_MAX - 8, 64, 0, 0);
	assert_pop_fails(4, "outside guest RAM");
}

static void test_check(void **state)
{
	struct err e;

	(void)state;
	assert_int_equal(virtq_check(&q, m, &e), 0);
	q.size = 6;
	assert_int_equal(virtq_check(&q, m, &e), -1);
	assert_non_null(strstr(e.msg, "power of two"));
	q.size = VIRTQ_MAX_SIZE * 2;
	assert_int_equal(virtq_check(&q, m, &e), -1);
	q.size = QSIZE;
	q.used = 16 * MiB - 8;
	assert_int_equal(virtq_check(&q, m, &e), -1);
	assert_non_null(strstr(e.msg, "outside guest RAM"));
	q.used = USED + 2;
	assert_int_equal(virtq_check(&q, m, &e), -1);
	assert_non_null(strstr(e.msg, "misaligned"));
}

/* An indirect table at BUF + 0x8000 of @n descriptors. */
static void set_indirect(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = guest_ptr(m, BUF + 0x8000 + 16ULL * i, 16);

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void test_indirect_chain(void **state)
{
	struct virtq_buf bufs[4];
	struct err e;
	uint16_t head;

	(void)state;
	q.indirect = true;
	set_indirect(0, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
	set_indirect(2, BUF + 0x1000, 512, VIRTQ_DESC_F_WRITE, 0);
	set_desc(1, BUF + 0x8000, 48, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0, 1, 1);
	assert_int_equal(virtq_pop(&q, m, bufs, 4, &head, &e), 2);
	assert_int_equal(head, 1);
	assert_int_equal(bufs[1].addr, BUF + 0x1000);
	assert_true(bufs[1].write);
}

static void test_indirect_hostile(void **state)
{
	(void)state;
	q.indirect = true;
	/* a loop inside the table */
	set_indirect(0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_indirect(1, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	set_desc(1, BUF + 0x8000, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0, 1, 1);
	assert_pop_fails(64, "loop");
	/* an index past the table; a nested indirect; a misaligned table; NEXT */
	q.last_avail = 0;
	set_indirect(1, BUF, 16, VIRTQ_DESC_F_NEXT, 5);
	assert_pop_fails(64, "out of a table");
	q.last_avail = 0;
	set_indirect(1, BUF, 16, VIRTQ_DESC_F_INDIRECT, 0);
	assert_pop_fails(64, "indirect");
	q.last_avail = 0;
	set_desc(1, BUF + 0x8000, 20, VIRTQ_DESC_F_INDIRECT, 0);
	assert_pop_fails(64, "misaligned");
	q.last_avail = 0;
	set_desc(1, BUF + 0x8000, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 2);
	assert_pop_fails(64, "NEXT");
	/* a table outside guest RAM */
	q.last_avail = 0;
	set_desc(1, 16 * MiB - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	assert_pop_fails(64, "outside");
}

static void test_read_rings(void **state)
{
	struct virtq_buf bufs[4];
	struct virtq_rings r;
	struct err e;
	uint16_t head, ev = 7;
	struct virtq out = q;

	(void)state;
	q.event_idx = true;
	set_desc(0, BUF, 16, 0, 0);
	offer(0, 0, 1);
	memcpy((uint8_t *)guest_ptr(m, AVAIL, 6 + 2 * QSIZE) + 4 + 2 * QSIZE, &ev, 2);
	assert_int_equal(virtq_pop(&q, m, bufs, 4, &head, &e), 1);
	assert_int_equal(virtq_push(&q, m, head, 0, &e), 0);
	assert_int_equal(virtq_read_rings(&q, m, &r), 0);
	assert_int_equal(r.avail_idx, 1);
	assert_int_equal(r.used_idx, 1);
	assert_int_equal(r.used_event, 7);
	assert_int_equal(r.avail_event, 1);
	/* a used ring past the end of RAM: nothing read */
	out.used = 16 * MiB - 8;
	assert_int_equal(virtq_read_rings(&out, m, &r), -1);
}

static void test_event_idx(void **state)
{
	struct virtq_buf bufs[4];
	struct err e;
	uint16_t head, ev;
	uint8_t *avail = guest_ptr(m, AVAIL, 6 + 2 * QSIZE);
	uint8_t *used = guest_ptr(m, USED, 6 + 8 * QSIZE);

	(void)state;
	q.event_idx = true;
	set_desc(0, BUF, 16, 0, 0);
	offer(0, 0, 1);
	assert_int_equal(virtq_pop(&q, m, bufs, 4, &head, &e), 1);
	memcpy(&ev, used + 4 + 8 * QSIZE, 2); /* avail_event: kick me at entry 1 */
	assert_int_equal(ev, 1);
	/* used_event 0: the driver wants to hear of the first used entry */
	ev = 0;
	memcpy(avail + 4 + 2 * QSIZE, &ev, 2);
	assert_int_equal(virtq_push(&q, m, head, 0, &e), 0);
	assert_true(virtq_need_interrupt(&q, m, 0));
	/* used_event 5: not yet */
	ev = 5;
	memcpy(avail + 4 + 2 * QSIZE, &ev, 2);
	assert_false(virtq_need_interrupt(&q, m, 0));
	/* without EVENT_IDX, the NO_INTERRUPT flag decides */
	q.event_idx = false;
	assert_true(virtq_need_interrupt(&q, m, 0));
	ev = 1;
	memcpy(avail, &ev, 2);
	assert_false(virtq_need_interrupt(&q, m, 0));
}

/* virtio-mmio registers, through the MMIO handler. */
static struct virtio_mmio dev;
static int notified;

static void count_notify(struct virtio_mmio *d, int queue)
{
	(void)d;
	notified += queue + 1;
}

static const struct virtio_ops ops = {
    .name = "test",
    .device_id = 5,
    .features = 1ULL << 5,
    .nr_queues = 2,
    .config_size = 8,
    .notify = count_notify,
};

static uint32_t rd(uint64_t off)
{
	uint32_t v;

	virtio_mmio_access(NULL, off, (uint8_t *)&v, 4, false, &dev);
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	virtio_mmio_access(NULL, off, (uint8_t *)&v, 4, true, &dev);
	if (off == 0x050) /* a notify: the I/O thread's turn */
		evloop_run_once(&vm.io, 0);
}

static bool dev_open;

static void close_dev(void)
{
	if (dev_open)
		virtio_mmio_close(&dev);
	dev_open = false;
}

static void init_dev(void)
{
	struct err e;

	close_dev();
	bus_reset();
	if (virtio_mmio_init(&dev, &vm, 0, &ops, NULL, &e) < 0)
		fail_msg("virtio_mmio_init: %s", e.msg);
	dev_open = true;
	notified = 0;
}

static void test_mmio_identity(void **state)
{
	(void)state;
	init_dev();
	assert_int_equal(rd(0x000), 0x74726976);
	assert_int_equal(rd(0x004), 2);
	assert_int_equal(rd(0x008), 5);
	wr(0x014, 0);
	assert_int_equal(rd(0x010), 1U << 5);
	wr(0x014, 1);
	assert_int_equal(rd(0x010), 1); /* VIRTIO_F_VERSION_1 */
}

static void negotiate(uint32_t high)
{
	wr(0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(0x024, 0);
	wr(0x020, 1U << 5);
	wr(0x024, 1);
	wr(0x020, high);
	wr(0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
}

static void test_mmio_features(void **state)
{
	(void)state;
	init_dev();
	negotiate(0); /* no VERSION_1: a legacy driver, refused */
	assert_false(rd(0x070) & VIRTIO_STATUS_FEATURES_OK);
	wr(0x070, 0); /* reset */
	assert_int_equal(rd(0x070), 0);
	negotiate(1 | 2); /* a feature never offered */
	assert_false(rd(0x070) & VIRTIO_STATUS_FEATURES_OK);
	wr(0x070, 0);
	negotiate(1);
	assert_true(rd(0x070) & VIRTIO_STATUS_FEATURES_OK);
}

static void setup_queue(uint32_t sel, uint64_t desc)
{
	wr(0x030, sel);
	assert_int_equal(rd(0x034), VIRTQ_MAX_SIZE);
	wr(0x038, QSIZE);
	wr(0x080, (uint32_t)desc);
	wr(0x084, (uint32_t)(desc >> 32));
	wr(0x090, (uint32_t)AVAIL);
	wr(0x0a0, (uint32_t)USED);
	wr(0x044, 1);
}

static void test_mmio_queue_and_notify(void **state)
{
	(void)state;
	init_dev();
	negotiate(1);
	setup_queue(1, DESC);
	assert_int_equal(rd(0x044), 1);
	wr(0x050, 1); /* before DRIVER_OK: ignored */
	assert_int_equal(notified, 0);
	wr(0x070, rd(0x070) | VIRTIO_STATUS_DRIVER_OK);
	wr(0x050, 1);
	assert_int_equal(notified, 2);
	wr(0x050, 7); /* no such queue */
	wr(0x030, 9);
	assert_int_equal(rd(0x034), 0);
	assert_int_equal(notified, 2);
}

static void test_mmio_bad_ring_needs_reset(void **state)
{
	(void)state;
	init_dev();
	negotiate(1);
	setup_queue(0, 0x7fffffff000ULL); /* far outside 16 MiB of RAM */
	assert_int_equal(rd(0x044), 0);
	assert_true(rd(0x070) & VIRTIO_STATUS_NEEDS_RESET);
	wr(0x070, rd(0x070) | VIRTIO_STATUS_DRIVER_OK);
	wr(0x050, 0);
	assert_int_equal(notified, 0);
	wr(0x070, 0); /* the driver resets: usable again */
	assert_int_equal(rd(0x070), 0);
}

/* A driver that loops reset, bad ring, QueueReady: one message, not one a loop. */
static void bad_ring_loop(void)
{
	for (int i = 0; i < 500; i++) {
		wr(0x070, 0);
		negotiate(1);
		setup_queue(0, 0x7fffffff000ULL);
	}
}

static void test_mmio_bad_ring_loop_is_rate_limited(void **state)
{
	char path[] = "/tmp/mote-virtio-stderr-XXXXXX", line[512];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO), lines = 0;
	FILE *f;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	init_dev();
	usleep(1100000); /* past the second an earlier test's failure took */
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	bad_ring_loop();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	while (fgets(line, sizeof(line), f))
		lines += strstr(line, "device stopped until the driver resets it") != NULL;
	fclose(f);
	unlink(path);
	assert_true(rd(0x070) & VIRTIO_STATUS_NEEDS_RESET);
	assert_in_range(lines, 1, 2); /* 500 failures in well under 2 s */
}

static void test_mmio_odd_accesses(void **state)
{
	uint8_t b[2] = {0};
	uint8_t cfg[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[8];

	(void)state;
	init_dev();
	virtio_mmio_access(NULL, 0x000, b, 2, false, &dev); /* 16-bit register read */
	assert_int_equal(b[0], 0xff);
	virtio_mmio_access(NULL, 0x100, cfg, 8, true, &dev);
	virtio_mmio_access(NULL, 0x100, out, 8, false, &dev);
	assert_memory_equal(cfg, out, 8);
	virtio_mmio_access(NULL, 0x104, out, 8, false, &dev); /* past the config */
	assert_int_equal(out[0], 0);
}

static void test_cmdline_word(void **state)
{
	char buf[64];

	(void)state;
	virtio_mmio_cmdline(1, buf, sizeof(buf));
	assert_string_equal(buf, "virtio_mmio.device=4K@0xd0001000:6");
}

static void test_cmdline_words_joined(void **state)
{
	char buf[80];
	int n;

	(void)state;
	n = virtio_mmio_cmdline_add(1, buf, sizeof(buf), 0);
	n = virtio_mmio_cmdline_add(9, buf, sizeof(buf), n);
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf, "virtio_mmio.device=4K@0xd0001000:6 "
	                         "virtio_mmio.device=4K@0xd0009000:16");
	/* a third does not fit: refused, the buffer still ends in a NUL */
	assert_int_equal(virtio_mmio_cmdline_add(2, buf, sizeof(buf), n), -1);
	assert_int_equal(virtio_mmio_cmdline_add(2, buf, 40, 39), -1);
}

/* mem_discard: the guest's pages are given back and read as zeros. */
static void fill(uint64_t gpa, uint64_t len)
{
	memset(guest_ptr(m, gpa, len), 0xab, len);
}

static void assert_byte(uint64_t gpa, uint8_t v)
{
	assert_int_equal(*(uint8_t *)guest_ptr(m, gpa, 1), v);
}

static void discard_cases(void)
{
	fill(BUF, 4 * PAGE_SIZE);
	assert_int_equal(mem_discard(m, BUF + 100, 3 * PAGE_SIZE), 2 * PAGE_SIZE);
	assert_byte(BUF, 0xab); /* partial first page kept */
	assert_byte(BUF + PAGE_SIZE, 0);
	assert_byte(BUF + 2 * PAGE_SIZE, 0);
	assert_byte(BUF + 3 * PAGE_SIZE, 0xab); /* partial last page kept */
	assert_int_equal(mem_discard(m, BUF, 100), 0);
	assert_int_equal(mem_discard(m, 15 * MiB, 2 * MiB), -1);
	assert_int_equal(mem_discard(m, UINT64_MAX - PAGE_SIZE, 2 * PAGE_SIZE), -1);
	assert_int_equal(mem_discard(m, BUF, 0), -1);
}

static void test_discard_anon(void **state)
{
	(void)state;
	discard_cases();
}

static void test_discard_memfd(void **state)
{
	(void)state;
	mem_unmap(m);
	assert_int_equal(setup_backend(MEM_MEMFD), 0);
	discard_cases();
}

#define NR_HUGEPAGES "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"

static long read_pages(void)
{
	FILE *f = fopen(NR_HUGEPAGES, "r");
	long n = -1;

	if (f && fscanf(f, "%ld", &n) != 1)
		n = -1;
	if (f)
		fclose(f);
	return n;
}

static int write_pages(long n)
{
	FILE *f = fopen(NR_HUGEPAGES, "w");

	if (!f)
		return -1;
	fprintf(f, "%ld\n", n);
	return fclose(f);
}

/* Real 2 MiB pages: a discard keeps them and their contents (punching
 * them out would lose their reservation). Needs 8 pages reserved for the
 * test, which root can do; skipped, and said so, where it cannot. */
static void test_discard_keeps_hugetlb(void **state)
{
	long before = read_pages();
	int mapped;

	(void)state;
	hp_before = before;
	if (before < 0 || write_pages(before + 8) < 0) {
		print_message("skipped: cannot reserve 2 MiB huge pages here (%s)\n", NR_HUGEPAGES);
		skip();
	}
	mem_unmap(m);
	mapped = setup_backend(MEM_HUGETLB);
	if (mapped < 0) {
		print_message("skipped: the host gave no 8 free 2 MiB huge pages\n");
		skip();
	}
	assert_int_equal(m->opts.backend, MEM_HUGETLB);
	fill(BUF, 2 * MiB);
	assert_int_equal(mem_discard(m, BUF, 2 * MiB), 0);
	assert_byte(BUF + MiB, 0xab);
	assert_int_equal(mem_discard(m, 15 * MiB, 2 * MiB), -1);
}

/* Guest RAM starts on a 2 MiB boundary (KVM's and THP's huge pages need it). */
static void test_ram_is_2mib_aligned(void **state)
{
	(void)state;
	assert_int_equal((uintptr_t)m->host % (2 * MiB), 0);
	mem_unmap(m);
	assert_int_equal(setup_backend(MEM_MEMFD), 0);
	assert_int_equal((uintptr_t)m->host % (2 * MiB), 0);
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_pop_empty),
	    T(test_pop_chain_and_push),
	    T(test_avail_index_runs_ahead),
	    T(test_head_out_of_range),
	    T(test_next_out_of_range),
	    T(test_chain_loop),
	    T(test_indirect_refused),
	    T(test_indirect_chain),
	    T(test_indirect_hostile),
	    T(test_read_rings),
	    T(test_event_idx),
	    T(test_buffer_outside_ram),
	    T(test_check),
	    T(test_mmio_identity),
	    T(test_mmio_features),
	    T(test_mmio_queue_and_notify),
	    T(test_mmio_bad_ring_needs_reset),
	    T(test_mmio_bad_ring_loop_is_rate_limited),
	    T(test_mmio_odd_accesses),
	    T(test_cmdline_word),
	    T(test_cmdline_words_joined),
	    T(test_discard_anon),
	    T(test_discard_memfd),
	    T(test_discard_keeps_hugetlb),
	    T(test_ram_is_2mib_aligned),
	};

	return cmocka_run_group_tests_name("virtio", tests, NULL, NULL);
}
