/* SPDX-License-Identifier: MIT */
/* The probe guest (see probe.h). mote copies the bytes between
 * probe_guest_start and probe_guest_end to PROBE_CODE_ADDR and enters them
 * in 32-bit flat protected mode, paging off, as it enters a PVH kernel.
 * Each step announces itself on PROBE_PORT before it runs, so the last code
 * mote saw names the step that failed. The code is copied, never run in
 * mote's own process: it lives in a read-only data section. */
#include "probe.h"

#ifdef __CET__
#include <cet.h> /* marks the object IBT and SHSTK compatible, as the C ones */
#endif

#define MSR_EFER           0xc0000080
#define MSR_KERNEL_GS_BASE 0xc0000102
#define EFER_LME_BIT       8
#define EFER_LMA_BIT       10
#define CR0_PG             0x80000000
#define CR4_PAE            0x20
#define CR4_OSFXSR         0x200
#define CR4_OSXMMEXCPT     0x400
#define CR4_OSXSAVE        0x40000
#define CPUID1_ECX_XSAVE   26
#define CPUID_EXT_EDX_LM   29

/* Writes @code to the probe port. */
.macro report code
	mov $(\code), %al
	out %al, $PROBE_PORT
.endm

/* Reports a wrong result in step @step and halts for good. */
.macro wrong step
	report (PROBE_WRONG | \step)
99:	hlt
	jmp 99b
.endm

	.section .rodata.probe_guest, "a"
	.globl probe_guest_start
	.globl probe_guest_size

	.code32
probe_guest_start:
	report PROBE_STEP_PROTECTED

	report PROBE_STEP_CPUID
	xor %eax, %eax
	cpuid
	test %eax, %eax			/* the highest basic leaf: at least 1 */
	jnz 1f
	wrong PROBE_STEP_CPUID
1:	mov $1, %eax
	xor %ecx, %ecx
	cpuid
	mov %ecx, %esi			/* leaf 1 ECX, for the XSAVE bit */
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax		/* the highest extended leaf */
	jae 1f
	wrong PROBE_STEP_CPUID
1:	mov $0x80000001, %eax
	xor %ecx, %ecx
	cpuid
	bt $CPUID_EXT_EDX_LM, %edx	/* long mode offered */
	jc 1f
	wrong PROBE_STEP_CPUID

	/* Into long mode as a kernel goes there: its own GDT first. */
1:	report PROBE_STEP_LONG_MODE
	movl $0, PROBE_GDT_ADDR
	movl $0, PROBE_GDT_ADDR + 4
	movl $0, PROBE_GDT_ADDR + 8
	movl $0, PROBE_GDT_ADDR + 12
	movl $0x0000ffff, PROBE_GDT_ADDR + PROBE_SEL_CODE64	/* 64-bit code, DPL 0 */
	movl $0x00af9b00, PROBE_GDT_ADDR + PROBE_SEL_CODE64 + 4
	movl $0x0000ffff, PROBE_GDT_ADDR + PROBE_SEL_DATA	/* flat data */
	movl $0x00cf9300, PROBE_GDT_ADDR + PROBE_SEL_DATA + 4
	movw $31, PROBE_GDTR_ADDR
	movl $PROBE_GDT_ADDR, PROBE_GDTR_ADDR + 2
	lgdt PROBE_GDTR_ADDR
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $PROBE_PML4_ADDR, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	bts $EFER_LME_BIT, %eax
	wrmsr
	mov %cr0, %eax
	or $CR0_PG, %eax
	mov %eax, %cr0
	ljmp $PROBE_SEL_CODE64, $(PROBE_CODE_ADDR + (long64 - probe_guest_start))

	.code64
long64:
	mov $PROBE_SEL_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov $MSR_EFER, %ecx
	rdmsr
	bt $EFER_LMA_BIT, %eax		/* the CPU says it is in long mode */
	jc 1f
	wrong PROBE_STEP_LONG_MODE

	/* A privileged MSR, written and read back. */
1:	report PROBE_STEP_MSR
	mov $MSR_KERNEL_GS_BASE, %ecx
	mov $0x12345000, %eax
	mov $0xffff8000, %edx
	wrmsr
	xor %eax, %eax
	xor %edx, %edx
	rdmsr
	cmp $0x12345000, %eax
	jne 2f
	cmp $0xffff8000, %edx
	je 1f
2:	wrong PROBE_STEP_MSR

	/* The FPU set-up of fpu__init: SSE on, XCR0 set, an xsave and the
	 * xrstor that stops kernels on hosts that cannot run them. */
1:	report PROBE_STEP_XSAVE
	bt $CPUID1_ECX_XSAVE, %esi
	jc 1f
	report (PROBE_SKIP | PROBE_STEP_XSAVE)
	jmp 3f
1:	mov %cr4, %rax
	or $(CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE), %rax
	mov %rax, %cr4
	fninit
	xorps %xmm0, %xmm0
	xor %ecx, %ecx
	mov $3, %eax			/* x87 and SSE state */
	xor %edx, %edx
	xsetbv
	xor %ecx, %ecx
	xgetbv
	cmp $3, %eax
	je 1f
	wrong PROBE_STEP_XSAVE
1:	mov $PROBE_XSAVE_ADDR, %edi
	mov $3, %eax
	xor %edx, %edx
	xsave (%rdi)
	xrstor (%rdi)

	/* An IDT of its own, and an int3 that must come back through it. */
3:	report PROBE_STEP_IDT
	lea int3_handler(%rip), %rax
	mov $(PROBE_IDT_ADDR + 3 * 16), %edi
	mov %ax, (%rdi)			/* offset 15:0 */
	movw $PROBE_SEL_CODE64, 2(%rdi)
	movw $0x8e00, 4(%rdi)		/* present, DPL 0, 64-bit interrupt gate */
	shr $16, %rax
	mov %ax, 6(%rdi)		/* offset 31:16 */
	shr $16, %rax
	mov %eax, 8(%rdi)		/* offset 63:32 */
	movl $0, 12(%rdi)
	movw $(4 * 16 - 1), PROBE_IDTR_ADDR
	movq $PROBE_IDT_ADDR, PROBE_IDTR_ADDR + 2
	lidt PROBE_IDTR_ADDR
	xor %r8d, %r8d
	int3
	cmp $PROBE_INT3_SEEN, %r8d
	je 1f
	wrong PROBE_STEP_IDT

1:	report PROBE_STEP_DONE
2:	hlt
	jmp 2b

int3_handler:
	mov $PROBE_INT3_SEEN, %r8d
	iretq
probe_guest_end:

	.balign 8
probe_guest_size:
	.quad probe_guest_end - probe_guest_start

	.section .note.GNU-stack, "", @progbits
