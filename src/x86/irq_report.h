/* SPDX-License-Identifier: MIT */
/* Where each vCPU and the IOAPIC stand, in words: for a VM that stopped
 * making progress (mote -v, stopped by a signal), to tell a guest that
 * waits for an interrupt that never came from one that spins or hung. */
#ifndef MOTE_X86_IRQ_REPORT_H
#define MOTE_X86_IRQ_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct vm;

/* Writes into @out (@n bytes) the vectors whose bits are set in the
 * LAPIC's 256-bit register at @off of @regs (ISR 0x100, TMR 0x180, IRR
 * 0x200: 8 dwords 16 bytes apart), as "0x31 0xec", or "-" for none;
 * returns @out. */
char *irq_report_vectors(const uint8_t *regs, size_t off, char *out, size_t n);

/* Prints lines per vCPU of @vm (run state, rip, interrupt flag and
 * shadow, an interrupt being injected, the LAPIC's TPR, IRR and ISR; the
 * general registers, the qword at rdi and the top of the stack) and
 * one for the IOAPIC (each unmasked pin: vector, trigger, remote IRR,
 * IRR). The vCPU threads must have stopped. What KVM refuses is skipped. */
void irq_report(FILE *out, struct vm *vm);

#endif
