/* SPDX-License-Identifier: MIT */
/* The 16550A UART register model: what the Linux 8250 driver reads and writes. */
#ifndef MOTE_HW_UART16550_H
#define MOTE_HW_UART16550_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_RBR     0 /* read; THR on write, DLL with DLAB */
#define UART_IER     1 /* DLM with DLAB */
#define UART_IIR     2 /* read; FCR on write */
#define UART_LCR     3
#define UART_MCR     4
#define UART_LSR     5
#define UART_MSR     6
#define UART_SCR     7
#define UART_NR_REGS 8

#define UART_IER_RDI      0x01
#define UART_IER_THRI     0x02
#define UART_IIR_NO_INT   0x01
#define UART_IIR_THRI     0x02
#define UART_IIR_RDI      0x04
#define UART_IIR_FIFO     0xc0
#define UART_FCR_ENABLE   0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_LCR_DLAB     0x80
#define UART_MCR_LOOP     0x10
#define UART_LSR_DR       0x01
#define UART_LSR_THRE     0x20
#define UART_LSR_TEMT     0x40
#define UART_MSR_NORMAL   0xb0 /* DCD, DSR, CTS */
#define UART_RX_SIZE      1024 /* power of two */

struct uart;

/* Called for each byte the guest transmits. */
typedef void uart_tx_fn(struct uart *u, uint8_t byte);
/* Called when an interrupt condition arises (an edge on the IRQ line). */
typedef void uart_irq_fn(struct uart *u);

struct uart {
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	bool fifo;
	bool thre_pending;
	/* Receive ring: one producer (stdin), one consumer (the vCPU). */
	uint8_t rx[UART_RX_SIZE];
	atomic_uint rx_head, rx_tail;
	_Atomic uint8_t ier_shadow; /* IER as seen by the producer */
	uart_tx_fn *tx;
	uart_irq_fn *irq;
	void *opaque;
};

/* Resets @u to power-on state with the given callbacks. */
void uart_init(struct uart *u, uart_tx_fn *tx, uart_irq_fn *irq, void *opaque);

/* Guest read of register @reg (0-7). */
uint8_t uart_read(struct uart *u, unsigned reg);

/* Guest write of @val to register @reg (0-7). */
void uart_write(struct uart *u, unsigned reg, uint8_t val);

/* Queues received bytes (from the host side); returns how many fit. */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len);

#endif
