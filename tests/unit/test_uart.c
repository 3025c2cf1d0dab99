// SPDX-License-Identifier: MIT
/* The 16550A register model, with recording tx and irq callbacks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hw/uart16550.h"
#include "metrics.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

static struct uart u;
static uint8_t sent[2 * UART_RX_SIZE];
static size_t nr_sent;
static int nr_irqs;
static int cookie;

static void record_tx(struct uart *uart, uint8_t byte)
{
	assert_ptr_equal(uart, &u);
	assert_ptr_equal(uart->opaque, &cookie);
	assert_true(nr_sent < sizeof(sent));
	sent[nr_sent++] = byte;
}

static void record_irq(struct uart *uart)
{
	assert_ptr_equal(uart, &u);
	nr_irqs++;
}

static int setup(void **state)
{
	(void)state;
	memset(&u, 0x5a, sizeof(u)); /* uart_init must not rely on zeroed memory */
	uart_init(&u, record_tx, record_irq, &cookie);
	nr_sent = 0;
	nr_irqs = 0;
	return 0;
}

static void receive(const char *s)
{
	assert_int_equal(uart_receive(&u, (const uint8_t *)s, strlen(s)), strlen(s));
}

static void test_power_on(void **state)
{
	(void)state;
	assert_int_equal(uart_read(&u, UART_IER), 0);
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(uart_read(&u, UART_LCR), 0);
	assert_int_equal(uart_read(&u, UART_MCR), 0);
	assert_int_equal(uart_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(uart_read(&u, UART_SCR), 0);
	assert_int_equal(uart_read(&u, UART_RBR), 0);
	assert_int_equal(nr_irqs, 0);
}

static void test_dlab_divisor(void **state)
{
	(void)state;
	uart_write(&u, UART_IER, UART_IER_RDI);
	uart_write(&u, UART_LCR, UART_LCR_DLAB | 0x03);
	uart_write(&u, UART_RBR, 0x01); /* DLL: 115200 baud */
	uart_write(&u, UART_IER, 0x80); /* DLM */
	assert_int_equal(uart_read(&u, UART_RBR), 0x01);
	assert_int_equal(uart_read(&u, UART_IER), 0x80);
	assert_int_equal(nr_sent, 0); /* DLL is not THR */
	uart_write(&u, UART_LCR, 0x03);
	/* With DLAB off again, IER kept its value and RBR is the receiver. */
	assert_int_equal(uart_read(&u, UART_IER), UART_IER_RDI);
	assert_int_equal(uart_read(&u, UART_LCR), 0x03);
	uart_write(&u, UART_LCR, UART_LCR_DLAB);
	assert_int_equal(uart_read(&u, UART_RBR), 0x01);
	assert_int_equal(uart_read(&u, UART_IER), 0x80);
}

static void test_dlab_does_not_consume_rx(void **state)
{
	(void)state;
	receive("x");
	uart_write(&u, UART_LCR, UART_LCR_DLAB);
	assert_int_equal(uart_read(&u, UART_RBR), 0); /* DLL */
	uart_write(&u, UART_LCR, 0);
	assert_int_equal(uart_read(&u, UART_RBR), 'x');
}

static void test_ier_low_bits(void **state)
{
	(void)state;
	uart_write(&u, UART_IER, 0xff);
	assert_int_equal(uart_read(&u, UART_IER), 0x0f);
}

static void test_thri_enable_raises(void **state)
{
	(void)state;
	uart_write(&u, UART_IER, UART_IER_THRI);
	assert_int_equal(nr_irqs, 1);
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_THRI);
	/* Reading IIR acknowledged the THRE interrupt. */
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_NO_INT);
}

static void test_thri_fifo_bits(void **state)
{
	(void)state;
	uart_write(&u, UART_IIR, UART_FCR_ENABLE);
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
	uart_write(&u, UART_IER, UART_IER_THRI);
	assert_int_equal(uart_read(&u, UART_IIR), 0xc2);
	assert_int_equal(uart_read(&u, UART_IIR), 0xc1);
	/* FCR bit 0 clear turns the FIFO off again. */
	uart_write(&u, UART_IIR, 0);
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_NO_INT);
}

static void test_thri_rewrite_no_new_interrupt(void **state)
{
	(void)state;
	uart_write(&u, UART_IER, UART_IER_THRI);
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_THRI);
	/* Writing IER with THRI already on is not a 0->1 edge. */
	uart_write(&u, UART_IER, UART_IER_THRI);
	assert_int_equal(nr_irqs, 1);
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_NO_INT);
	/* Off and on again is. */
	uart_write(&u, UART_IER, 0);
	uart_write(&u, UART_IER, UART_IER_THRI);
	assert_int_equal(nr_irqs, 2);
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_THRI);
}

static void test_thr_transmits(void **state)
{
	(void)state;
	uart_write(&u, UART_RBR, 'h');
	uart_write(&u, UART_RBR, 'i');
	uart_write(&u, UART_RBR, 0);
	assert_int_equal(nr_sent, 3);
	assert_memory_equal(sent, "hi", 3);
	assert_int_equal(nr_irqs, 0); /* THRI is off */
	assert_int_equal(uart_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
}

static void test_thr_with_thri_raises(void **state)
{
	(void)state;
	uart_write(&u, UART_IER, UART_IER_THRI);
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_THRI);
	uart_write(&u, UART_RBR, 'a');
	assert_int_equal(nr_irqs, 2);
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_THRI);
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_NO_INT);
}

static void test_lsr_data_ready(void **state)
{
	(void)state;
	assert_false(uart_read(&u, UART_LSR) & UART_LSR_DR);
	receive("ab");
	assert_int_equal(uart_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT | UART_LSR_DR);
	assert_int_equal(uart_read(&u, UART_RBR), 'a');
	assert_true(uart_read(&u, UART_LSR) & UART_LSR_DR);
	assert_int_equal(uart_read(&u, UART_RBR), 'b');
	assert_int_equal(uart_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
}

static void test_rbr_order(void **state)
{
	const char *msg = "hello, mote";

	(void)state;
	receive("hello, ");
	receive("mote");
	for (size_t i = 0; i < strlen(msg); i++)
		assert_int_equal(uart_read(&u, UART_RBR), (uint8_t)msg[i]);
	assert_int_equal(uart_read(&u, UART_RBR), 0); /* empty reads 0 */
}

static void test_receive_irq_only_with_rdi(void **state)
{
	(void)state;
	receive("a");
	assert_int_equal(nr_irqs, 0);
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_NO_INT);
	/* Enabling RDI with data waiting raises at once. */
	uart_write(&u, UART_IER, UART_IER_RDI);
	assert_int_equal(nr_irqs, 1);
	receive("b");
	assert_int_equal(nr_irqs, 2);
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_RDI);
	/* RDI stays pending until the data is read, then clears. */
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_RDI);
	uart_read(&u, UART_RBR);
	uart_read(&u, UART_RBR);
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_NO_INT);
}

static void test_receive_nothing_no_irq(void **state)
{
	(void)state;
	uart_write(&u, UART_IER, UART_IER_RDI);
	assert_int_equal(uart_receive(&u, (const uint8_t *)"", 0), 0);
	assert_int_equal(nr_irqs, 0);
}

static void test_rdi_before_thri(void **state)
{
	(void)state;
	uart_write(&u, UART_IER, UART_IER_RDI | UART_IER_THRI);
	receive("z");
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_RDI);
	/* The RDI read did not acknowledge THRE: it shows once RX drains. */
	assert_int_equal(uart_read(&u, UART_RBR), 'z');
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_THRI);
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_NO_INT);
}

static void test_fcr_clear_rx(void **state)
{
	(void)state;
	receive("stale");
	uart_write(&u, UART_IIR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	assert_false(uart_read(&u, UART_LSR) & UART_LSR_DR);
	receive("new");
	assert_int_equal(uart_read(&u, UART_RBR), 'n');
}

static void test_msr_normal(void **state)
{
	(void)state;
	assert_int_equal(uart_read(&u, UART_MSR), UART_MSR_NORMAL);
	uart_write(&u, UART_MCR, 0x0f); /* DTR, RTS, OUT1, OUT2 but no loop */
	assert_int_equal(uart_read(&u, UART_MSR), 0xb0);
}

static void test_msr_loopback(void **state)
{
	(void)state;
	/* The 8250 driver's probe: RTS|OUT2|LOOP must show CTS|DCD. */
	uart_write(&u, UART_MCR, 0x1a);
	assert_int_equal(uart_read(&u, UART_MSR) & 0xf0, 0x90);
	uart_write(&u, UART_MCR, UART_MCR_LOOP | 0x01); /* DTR -> DSR */
	assert_int_equal(uart_read(&u, UART_MSR) & 0xf0, 0x20);
	uart_write(&u, UART_MCR, UART_MCR_LOOP | 0x04); /* OUT1 -> RI */
	assert_int_equal(uart_read(&u, UART_MSR) & 0xf0, 0x40);
	uart_write(&u, UART_MCR, UART_MCR_LOOP | 0x0f);
	assert_int_equal(uart_read(&u, UART_MSR) & 0xf0, 0xf0);
	uart_write(&u, UART_MCR, UART_MCR_LOOP);
	assert_int_equal(uart_read(&u, UART_MSR) & 0xf0, 0);
}

static void test_mcr_masked(void **state)
{
	(void)state;
	uart_write(&u, UART_MCR, 0xff);
	assert_int_equal(uart_read(&u, UART_MCR), 0x1f);
}

static void test_loopback_no_tx(void **state)
{
	(void)state;
	uart_write(&u, UART_MCR, UART_MCR_LOOP);
	uart_write(&u, UART_RBR, 'x');
	assert_int_equal(nr_sent, 0);
	uart_write(&u, UART_MCR, 0);
	uart_write(&u, UART_RBR, 'y');
	assert_int_equal(nr_sent, 1);
	assert_int_equal(sent[0], 'y');
}

static void test_scr(void **state)
{
	(void)state;
	uart_write(&u, UART_SCR, 0xa5);
	assert_int_equal(uart_read(&u, UART_SCR), 0xa5);
	uart_write(&u, UART_SCR, 0x5a);
	assert_int_equal(uart_read(&u, UART_SCR), 0x5a);
}

static void test_bad_register(void **state)
{
	(void)state;
	assert_int_equal(uart_read(&u, UART_NR_REGS), 0xff);
	uart_write(&u, UART_NR_REGS, 0x12); /* ignored */
	assert_int_equal(uart_read(&u, UART_SCR), 0);
	assert_int_equal(nr_sent, 0);
}

static void test_rx_ring_full(void **state)
{
	static uint8_t buf[UART_RX_SIZE + 100];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	assert_int_equal(uart_receive(&u, buf, sizeof(buf)), UART_RX_SIZE);
	assert_int_equal(uart_receive(&u, buf, 1), 0);
	for (size_t i = 0; i < UART_RX_SIZE; i++)
		assert_int_equal(uart_read(&u, UART_RBR), buf[i]);
	assert_false(uart_read(&u, UART_LSR) & UART_LSR_DR);
}

static void test_rx_ring_partial_space(void **state)
{
	static uint8_t buf[UART_RX_SIZE];

	(void)state;
	memset(buf, 'q', sizeof(buf));
	assert_int_equal(uart_receive(&u, buf, UART_RX_SIZE - 10), UART_RX_SIZE - 10);
	assert_int_equal(uart_receive(&u, buf, 50), 10);
	uart_read(&u, UART_RBR);
	assert_int_equal(uart_receive(&u, buf, 50), 1);
}

static void test_rx_ring_wraps(void **state)
{
	static uint8_t buf[UART_RX_SIZE - 1];

	(void)state;
	/* Three passes move head and tail around the ring. */
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)(i + (size_t)pass);
		assert_int_equal(uart_receive(&u, buf, sizeof(buf)), sizeof(buf));
		for (size_t i = 0; i < sizeof(buf); i++)
			assert_int_equal(uart_read(&u, UART_RBR), buf[i]);
	}
	assert_false(uart_read(&u, UART_LSR) & UART_LSR_DR);
}

static void test_no_callbacks(void **state)
{
	(void)state;
	/* A UART without tx or irq callbacks must not call through NULL. */
	uart_init(&u, NULL, NULL, NULL);
	uart_write(&u, UART_IER, UART_IER_THRI | UART_IER_RDI);
	uart_write(&u, UART_RBR, 'x');
	receive("y");
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_RDI);
	assert_int_equal(nr_irqs, 0);
	assert_int_equal(nr_sent, 0);
}

/* Two threads: stdin's (uart_receive) and the vCPU's (the registers). */
#define SPSC_BYTES 100000

static atomic_int spsc_irqs;
static atomic_bool spsc_done, spsc_abort;

/* The stream: no period of 256 or of the ring's size, so a lost or
 * repeated stretch of either length shows. */
static uint8_t spsc_byte(size_t i)
{
	return (uint8_t)((i * 2654435761U) >> 11);
}

static void count_irq(struct uart *uart)
{
	(void)uart;
	atomic_fetch_add(&spsc_irqs, 1);
}

/* Feeds the stream in chunks of 1 to 97 bytes; a short count means the
 * ring is full (UART_RX_SIZE bytes), and the rest is offered again. */
static void *spsc_producer(void *arg)
{
	uint8_t chunk[97];
	size_t fed = 0, len = 1;

	(void)arg;
	while (fed < SPSC_BYTES && !atomic_load(&spsc_abort)) {
		size_t n = SPSC_BYTES - fed < len ? SPSC_BYTES - fed : len, took;

		for (size_t i = 0; i < n; i++)
			chunk[i] = spsc_byte(fed + i);
		took = uart_receive(&u, chunk, n);
		fed += took;
		if (took < n)
			sched_yield(); /* full: let the guest read */
		len = len % sizeof(chunk) + 1;
	}
	atomic_store(&spsc_done, true);
	return NULL;
}

/* Reads what LSR says is ready, checking each byte against the stream. */
static void spsc_drain(size_t *got, size_t *first_bad)
{
	while (*got < SPSC_BYTES && (uart_read(&u, UART_LSR) & UART_LSR_DR)) {
		uint8_t b = uart_read(&u, UART_RBR);

		if (b != spsc_byte(*got) && *first_bad == SIZE_MAX)
			*first_bad = *got;
		(*got)++;
	}
}

static void spsc_start(pthread_t *t, uart_irq_fn *irq)
{
	uart_init(&u, NULL, irq, NULL); /* record_irq is not thread-safe */
	atomic_store(&spsc_irqs, 0);
	atomic_store(&spsc_done, false);
	atomic_store(&spsc_abort, false);
	assert_int_equal(pthread_create(t, NULL, spsc_producer, NULL), 0);
}

static void spsc_check(pthread_t t, size_t got, size_t first_bad)
{
	atomic_store(&spsc_abort, true); /* if it still has bytes, they are extra */
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(got, SPSC_BYTES);     /* nothing lost */
	assert_int_equal(first_bad, SIZE_MAX); /* in order, each once */
	/* Nothing left over or repeated. */
	assert_false(uart_read(&u, UART_LSR) & UART_LSR_DR);
	assert_int_equal(uart_read(&u, UART_RBR), 0);
}

static void test_rx_two_threads_polled(void **state)
{
	pthread_t t;
	size_t got = 0, first_bad = SIZE_MAX;

	(void)state;
	/* No interrupt: the ring's own head and tail are all that orders the
	 * two threads (what a race detector should look at). */
	spsc_start(&t, NULL);
	while (got < SPSC_BYTES) {
		bool done = atomic_load(&spsc_done);

		spsc_drain(&got, &first_bad);
		if (done && !(uart_read(&u, UART_LSR) & UART_LSR_DR))
			break; /* all fed, nothing more to come */
		sched_yield();
	}
	spsc_check(t, got, first_bad);
}

static void test_rx_two_threads_interrupts(void **state)
{
	pthread_t t;
	size_t got = 0, first_bad = SIZE_MAX;
	bool lost_irq = false;
	time_t deadline;

	(void)state;
	spsc_start(&t, count_irq);
	uart_write(&u, UART_IER, UART_IER_RDI);
	/* The driver: drain while LSR says data ready, then wait for the
	 * interrupt; data pushed after the drain must raise one. */
	while (got < SPSC_BYTES) {
		int seen = atomic_load(&spsc_irqs);

		spsc_drain(&got, &first_bad);
		if (got >= SPSC_BYTES)
			break;
		deadline = time(NULL) + 2;
		while (atomic_load(&spsc_irqs) == seen && !atomic_load(&spsc_done) &&
		       time(NULL) < deadline)
			sched_yield();
		if (atomic_load(&spsc_irqs) == seen) {
			/* No interrupt although the producer finished, or is
			 * stuck on a full ring: data waiting now was never
			 * signalled; none waiting: bytes were lost. */
			lost_irq = uart_read(&u, UART_LSR) & UART_LSR_DR;
			break;
		}
	}
	spsc_check(t, got, first_bad);
	assert_false(lost_irq);
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_NO_INT);
}

/* uart.write_count: bytes sent (not looped back); read_count: bytes the
 * guest took from RBR (not reads of an empty RBR, not DLL). */
static void test_metrics(void **state)
{
	(void)state;
	metrics_reset();
	uart_write(&u, UART_RBR, 'a');
	uart_write(&u, UART_RBR, 'b');
	uart_write(&u, UART_MCR, UART_MCR_LOOP);
	uart_write(&u, UART_RBR, 'c');
	assert_int_equal(metrics_get(METRIC_uart_write_count), 2);
	receive("xy");
	assert_int_equal(uart_read(&u, UART_RBR), 'x');
	assert_int_equal(uart_read(&u, UART_RBR), 'y');
	uart_read(&u, UART_RBR);
	uart_write(&u, UART_LCR, UART_LCR_DLAB);
	uart_read(&u, UART_RBR);
	assert_int_equal(metrics_get(METRIC_uart_read_count), 2);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_power_on),
	    T(test_metrics),
	    T(test_dlab_divisor),
	    T(test_dlab_does_not_consume_rx),
	    T(test_ier_low_bits),
	    T(test_thri_enable_raises),
	    T(test_thri_fifo_bits),
	    T(test_thri_rewrite_no_new_interrupt),
	    T(test_thr_transmits),
	    T(test_thr_with_thri_raises),
	    T(test_lsr_data_ready),
	    T(test_rbr_order),
	    T(test_receive_irq_only_with_rdi),
	    T(test_receive_nothing_no_irq),
	    T(test_rdi_before_thri),
	    T(test_fcr_clear_rx),
	    T(test_msr_normal),
	    T(test_msr_loopback),
	    T(test_mcr_masked),
	    T(test_loopback_no_tx),
	    T(test_scr),
	    T(test_bad_register),
	    T(test_rx_ring_full),
	    T(test_rx_ring_partial_space),
	    T(test_rx_ring_wraps),
	    T(test_no_callbacks),
	    T(test_rx_two_threads_polled),
	    T(test_rx_two_threads_interrupts),
	};

	return cmocka_run_group_tests_name("uart", tests, NULL, NULL);
}
