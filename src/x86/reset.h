/* SPDX-License-Identifier: MIT */
/* The reset vector: what a guest finds at 0xffff0 when it restarts the
 * machine through the BIOS (Linux does when no other way is known to work:
 * with a hardware-reduced FADT and no EFI, its default "reboot=efi" falls
 * back to it). mote has no BIOS; a few instructions there ask for a reset. */
#ifndef MOTE_X86_RESET_H
#define MOTE_X86_RESET_H

#include "../mem.h"

#define RESET_VECTOR_ADDR 0xffff0ULL

/* Writes the reset stub at the reset vector in guest RAM @m: it writes the
 * reset register (0xcf9), then the i8042's reset command, then halts.
 * Returns -1 if guest RAM does not reach there. */
int reset_vector_write(const struct guest_mem *m);

#endif
