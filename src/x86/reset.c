// SPDX-License-Identifier: MIT
#include "reset.h"

#include <string.h>

int reset_vector_write(const struct guest_mem *m)
{
	/* 16-bit real mode, at f000:fff0. */
	static const uint8_t stub[] = {
	    0xb0, 0x06,       /* mov $0x06, %al */
	    0xba, 0xf9, 0x0c, /* mov $0xcf9, %dx */
	    0xee,             /* out %al, (%dx): the reset register */
	    0xb0, 0xfe,       /* mov $0xfe, %al */
	    0xe6, 0x64,       /* out %al, $0x64: the i8042's reset */
	    0xf4,             /* hlt */
	    0xeb, 0xfd,       /* jmp to the hlt */
	};
	uint8_t *p = guest_ptr(m, RESET_VECTOR_ADDR, 16);

	_Static_assert(sizeof(stub) <= 16, "the reset vector has 16 bytes");
	if (!p)
		return -1;
	memcpy(p, stub, sizeof(stub));
	return 0;
}
