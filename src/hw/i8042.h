/* SPDX-License-Identifier: MIT */
/* The i8042 keyboard controller and the AT keyboard behind it: as much as
 * Linux's i8042 and atkbd drivers use, so that a guest can reset the machine
 * and receive Ctrl-Alt-Del. There is no mouse (aux) port. */
#ifndef MOTE_HW_I8042_H
#define MOTE_HW_I8042_H

#include "../err.h"

#include <stdbool.h>
#include <stdint.h>

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT  0x64
#define I8042_IRQ       1

/* Status register bits. */
#define I8042_STR_OBF      0x01 /* output buffer full: a byte to read at 0x60 */
#define I8042_STR_SYS      0x04 /* system flag (the CTR's copy) */
#define I8042_STR_CMD      0x08 /* the last write went to the command port */
#define I8042_STR_UNLOCKED 0x10 /* keyboard not inhibited */

/* Controller command byte (CTR) bits. */
#define I8042_CTR_KBDINT 0x01 /* interrupt when a keyboard byte arrives */
#define I8042_CTR_SYS    0x04
#define I8042_CTR_KBDDIS 0x10
#define I8042_CTR_AUXDIS 0x20
#define I8042_CTR_XLATE  0x40 /* translate the keyboard's set 2 to set 1 */
#define I8042_CTR_RESET  (I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_AUXDIS | I8042_CTR_XLATE)

#define I8042_QUEUE 16 /* bytes the keyboard buffers, as real ones do */

struct i8042;

/* Sets the level of the keyboard interrupt line (IRQ 1). */
typedef void i8042_irq_fn(struct i8042 *k, int level);
/* The guest asked the controller to reset the machine. */
typedef void i8042_reset_fn(struct i8042 *k);

struct i8042 {
	uint8_t ctr;
	uint8_t pending_cmd; /* controller command that waits for its data byte */
	uint8_t kbd_cmd;     /* keyboard command that waits for its parameter */
	uint8_t scan_set;    /* 1-3, what the keyboard sends (before translation) */
	bool last_was_cmd;
	bool scanning; /* the keyboard sends keys (0xf4 enables, 0xf5 disables) */
	bool driven;   /* a driver has sent the controller a command */
	int irq_level;
	uint8_t out[I8042_QUEUE];
	unsigned out_head, out_len;
	i8042_irq_fn *irq;
	i8042_reset_fn *reset;
	void *opaque;
};

/* Puts @k in its power-on state with the given callbacks. */
void i8042_init(struct i8042 *k, i8042_irq_fn *irq, i8042_reset_fn *reset, void *opaque);

/* Guest read of @port (I8042_DATA_PORT or I8042_CMD_PORT). */
uint8_t i8042_read(struct i8042 *k, uint16_t port);

/* Guest write of @v to @port. */
void i8042_write(struct i8042 *k, uint16_t port, uint8_t v);

/* Presses and releases Ctrl, Alt and Delete; false (nothing sent) if no
 * guest driver has enabled the keyboard or its buffer has no room. */
bool i8042_ctrl_alt_del(struct i8042 *k);

/* Sends Ctrl-Alt-Del through the VM's keyboard controller (the API's
 * SendCtrlAltDel); -1 with @e if the guest has not enabled its keyboard. */
int i8042_send_ctrl_alt_del(struct err *e);

#endif
