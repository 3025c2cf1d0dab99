// SPDX-License-Identifier: MIT
#include "uart16550.h"

#include "../metrics.h"

#include <string.h>

void uart_init(struct uart *u, uart_tx_fn *tx, uart_irq_fn *irq, void *opaque)
{
	memset(u, 0, sizeof(*u));
	u->tx = tx;
	u->irq = irq;
	u->opaque = opaque;
	u->thre_pending = false;
}

static unsigned rx_count(const struct uart *u)
{
	return atomic_load_explicit(&u->rx_head, memory_order_acquire) -
	       atomic_load_explicit(&u->rx_tail, memory_order_relaxed);
}

static uint8_t rx_pop(struct uart *u)
{
	unsigned tail = atomic_load_explicit(&u->rx_tail, memory_order_relaxed);
	uint8_t b;

	if (!rx_count(u))
		return 0;
	b = u->rx[tail % UART_RX_SIZE];
	atomic_store_explicit(&u->rx_tail, tail + 1, memory_order_release);
	metrics_inc(METRIC_uart_read_count);
	return b;
}

static uint8_t iir(const struct uart *u)
{
	uint8_t fifo = u->fifo ? UART_IIR_FIFO : 0;

	if ((u->ier & UART_IER_RDI) && rx_count(u))
		return fifo | UART_IIR_RDI;
	if ((u->ier & UART_IER_THRI) && u->thre_pending)
		return fifo | UART_IIR_THRI;
	return fifo | UART_IIR_NO_INT;
}

static uint8_t msr(const struct uart *u)
{
	uint8_t m = u->mcr;

	if (!(m & UART_MCR_LOOP))
		return UART_MSR_NORMAL;
	/* Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
	return (uint8_t)(((m & 0x01) << 5) | ((m & 0x02) << 3) | ((m & 0x04) << 4) |
	                 ((m & 0x08) << 4));
}

static void raise_if_pending(struct uart *u)
{
	if (!(iir(u) & UART_IIR_NO_INT) && u->irq)
		u->irq(u);
}

uint8_t uart_read(struct uart *u, unsigned reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case UART_RBR: return dlab ? u->dll : rx_pop(u);
	case UART_IER: return dlab ? u->dlm : u->ier;
	case UART_IIR:
		v = iir(u);
		if ((v & 0x0f) == UART_IIR_THRI)
			u->thre_pending = false;
		return v;
	case UART_LCR: return u->lcr;
	case UART_MCR: return u->mcr;
	case UART_LSR:
		return (uint8_t)(UART_LSR_THRE | UART_LSR_TEMT | (rx_count(u) ? UART_LSR_DR : 0));
	case UART_MSR: return msr(u);
	case UART_SCR: return u->scr;
	default: return 0xff;
	}
}

static void write_ier(struct uart *u, uint8_t val)
{
	bool thri_on = (val & UART_IER_THRI) && !(u->ier & UART_IER_THRI);

	u->ier = val & 0x0f;
	atomic_store_explicit(&u->ier_shadow, u->ier, memory_order_release);
	/* Pairs with the fence in uart_receive: one side sees the other's store. */
	atomic_thread_fence(memory_order_seq_cst);
	if (thri_on)
		u->thre_pending = true; /* the holding register is already empty */
	raise_if_pending(u);
}

static void write_fcr(struct uart *u, uint8_t val)
{
	u->fifo = val & UART_FCR_ENABLE;
	if (val & UART_FCR_CLEAR_RX)
		atomic_store_explicit(&u->rx_tail,
		                      atomic_load_explicit(&u->rx_head, memory_order_acquire),
		                      memory_order_release);
}

static void write_thr(struct uart *u, uint8_t val)
{
	if (!(u->mcr & UART_MCR_LOOP) && u->tx) {
		u->tx(u, val);
		metrics_inc(METRIC_uart_write_count);
	}
	u->thre_pending = true; /* sent at once */
	raise_if_pending(u);
}

void uart_write(struct uart *u, unsigned reg, uint8_t val)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR:
		if (dlab)
			u->dll = val;
		else
			write_thr(u, val);
		break;
	case UART_IER:
		if (dlab)
			u->dlm = val;
		else
			write_ier(u, val);
		break;
	case UART_IIR: write_fcr(u, val); break;
	case UART_LCR: u->lcr = val; break;
	case UART_MCR: u->mcr = val & 0x1f; break;
	case UART_SCR: u->scr = val; break;
	default: break;
	}
}

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
	unsigned head = atomic_load_explicit(&u->rx_head, memory_order_relaxed);
	unsigned tail = atomic_load_explicit(&u->rx_tail, memory_order_acquire);
	size_t n = 0;

	while (n < len && head - tail < UART_RX_SIZE)
		u->rx[head++ % UART_RX_SIZE] = buf[n++];
	atomic_store_explicit(&u->rx_head, head, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	if (n && (atomic_load_explicit(&u->ier_shadow, memory_order_acquire) & UART_IER_RDI) &&
	    u->irq)
		u->irq(u);
	return n;
}
