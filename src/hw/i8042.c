// SPDX-License-Identifier: MIT
/* The i8042 keyboard controller with an AT keyboard and no mouse.
 *
 * Every command Linux's i8042 and atkbd drivers send while probing is
 * answered at once (a command left unanswered costs the guest a time-out of
 * half a second or more), so a guest finds the keyboard in a few dozen port
 * accesses. What it is for: the reset command (0xfe), and Ctrl-Alt-Del typed
 * at mote's console (Ctrl-A d) or, later, sent by the API. The aux (mouse)
 * tests fail at once: there is no mouse. */
#include "i8042.h"

#include "../bus.h"
#include "../console.h"
#include "../device.h"
#include "../err.h"
#include "../snapshot/stream.h"
#include "../vm.h"
#include "../x86/aml.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define KBD_ACK      0xfa
#define KBD_RESEND   0xfe
#define KBD_BAT_OK   0xaa
#define KBD_ECHO     0xee
#define KBD_ID_FIRST 0xab /* an MF2 keyboard */
#define KBD_ID_XLATE 0x41 /* its second byte as the controller translates it */
#define KBD_ID_RAW   0x83

/* Controller commands (port 0x64). */
#define CMD_READ_CTR     0x20
#define CMD_WRITE_CTR    0x60
#define CMD_AUX_DISABLE  0xa7
#define CMD_AUX_ENABLE   0xa8
#define CMD_AUX_TEST     0xa9
#define CMD_SELF_TEST    0xaa
#define CMD_KBD_TEST     0xab
#define CMD_KBD_DISABLE  0xad
#define CMD_KBD_ENABLE   0xae
#define CMD_READ_OUTP    0xd0
#define CMD_WRITE_OUTP   0xd1
#define CMD_WRITE_KBD    0xd2 /* as if the keyboard sent the next byte */
#define CMD_WRITE_AUX    0xd3 /* as if the mouse sent it: the aux loop test */
#define CMD_TO_AUX       0xd4
#define CMD_READ_TEST    0xe0
#define CMD_PULSE_FIRST  0xf0 /* 0xf0-0xff pulse the output lines whose bits are clear */
#define OUTP_RESET_LINE  0x01 /* output port bit 0: low resets the CPU */
#define OUTP_A20         0x02
#define AUX_TEST_NO_PORT 0x02 /* "data line stuck": Linux then gives up the aux port */

static void update_irq(struct i8042 *k)
{
	int level = k->out_len && (k->ctr & I8042_CTR_KBDINT);

	if (level != k->irq_level) {
		k->irq_level = level;
		k->irq(k, level);
	}
}

/* Queues @b for the guest to read; dropped (as a real keyboard would lose
 * it) when the buffer is full. */
static void push(struct i8042 *k, uint8_t b)
{
	if (k->out_len == I8042_QUEUE)
		return;
	k->out[(k->out_head + k->out_len++) % I8042_QUEUE] = b;
	update_irq(k);
}

static void keyboard_defaults(struct i8042 *k)
{
	k->scan_set = 2;
	k->kbd_cmd = 0;
}

void i8042_init(struct i8042 *k, i8042_irq_fn *irq, i8042_reset_fn *reset, void *opaque)
{
	memset(k, 0, sizeof(*k));
	k->ctr = I8042_CTR_RESET;
	k->scanning = true;
	keyboard_defaults(k);
	k->irq = irq;
	k->reset = reset;
	k->opaque = opaque;
}

uint8_t i8042_read(struct i8042 *k, uint16_t port)
{
	uint8_t b;

	if (port == I8042_CMD_PORT)
		return (uint8_t)((k->out_len ? I8042_STR_OBF : 0) | (k->ctr & I8042_CTR_SYS) |
		                 (k->last_was_cmd ? I8042_STR_CMD : 0) | I8042_STR_UNLOCKED);
	if (!k->out_len)
		return k
		    ->out[(k->out_head + I8042_QUEUE - 1) % I8042_QUEUE]; /* the last byte again */
	b = k->out[k->out_head];
	k->out_head = (k->out_head + 1) % I8042_QUEUE;
	k->out_len--;
	/* The next byte is a new interrupt: lower the line, then raise it. */
	if (k->irq_level) {
		k->irq_level = 0;
		k->irq(k, 0);
	}
	update_irq(k);
	return b;
}

/* The parameter byte of a keyboard command. */
static void keyboard_param(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->kbd_cmd;

	k->kbd_cmd = 0;
	if (cmd == 0xf0 && v == 0) { /* which scan code set */
		push(k, KBD_ACK);
		push(k, k->scan_set);
		return;
	}
	if (cmd == 0xf0 && v > 3) {
		push(k, KBD_RESEND);
		return;
	}
	if (cmd == 0xf0)
		k->scan_set = v;
	push(k, KBD_ACK); /* 0xed LEDs, 0xf3 typematic rate: nothing to show */
}

/* A byte the guest sends the keyboard (data port, no controller command pending). */
static void keyboard_write(struct i8042 *k, uint8_t v)
{
	k->ctr &= (uint8_t)~I8042_CTR_KBDDIS; /* sending to the keyboard enables its port */
	if (k->kbd_cmd) {
		keyboard_param(k, v);
		return;
	}
	switch (v) {
	case 0xed: /* set LEDs */
	case 0xf0: /* scan code set */
	case 0xf3: /* typematic rate */
		k->kbd_cmd = v;
		push(k, KBD_ACK);
		break;
	case 0xee: push(k, KBD_ECHO); break;
	case 0xf2: /* identify */
		push(k, KBD_ACK);
		push(k, KBD_ID_FIRST);
		push(k, (k->ctr & I8042_CTR_XLATE) ? KBD_ID_XLATE : KBD_ID_RAW);
		break;
	case 0xf4: k->scanning = true, push(k, KBD_ACK); break;
	case 0xf5: k->scanning = false, keyboard_defaults(k), push(k, KBD_ACK); break;
	case 0xf6: keyboard_defaults(k), push(k, KBD_ACK); break;
	case 0xff: /* reset: defaults, then the self-test passed */
		keyboard_defaults(k);
		k->scanning = true;
		push(k, KBD_ACK);
		push(k, KBD_BAT_OK);
		break;
	default: push(k, KBD_RESEND); break;
	}
}

/* The data byte that follows a controller command. */
static void command_data(struct i8042 *k, uint8_t cmd, uint8_t v)
{
	switch (cmd) {
	case CMD_WRITE_CTR:
		k->ctr = v;
		update_irq(k);
		break;
	case CMD_WRITE_OUTP:
		if (!(v & OUTP_RESET_LINE))
			k->reset(k);
		break;
	case CMD_WRITE_KBD:
	/* No mouse answers the aux loop test: the byte comes back as the
	 * keyboard's, which Linux takes as "no aux port" at once. */
	case CMD_WRITE_AUX: push(k, v); break;
	default: break; /* CMD_TO_AUX: no mouse to hear it */
	}
}

static void command(struct i8042 *k, uint8_t cmd)
{
	k->driven = true;
	k->pending_cmd = 0;
	switch (cmd) {
	case CMD_READ_CTR: push(k, k->ctr); break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTP:
	case CMD_WRITE_KBD:
	case CMD_WRITE_AUX:
	case CMD_TO_AUX: k->pending_cmd = cmd; break;
	case CMD_AUX_DISABLE: k->ctr |= I8042_CTR_AUXDIS; break;
	case CMD_AUX_ENABLE: k->ctr &= (uint8_t)~I8042_CTR_AUXDIS; break;
	case CMD_AUX_TEST: push(k, AUX_TEST_NO_PORT); break;
	case CMD_SELF_TEST: push(k, 0x55); break;
	case CMD_KBD_TEST: push(k, 0x00); break;
	case CMD_KBD_DISABLE: k->ctr |= I8042_CTR_KBDDIS; break;
	case CMD_KBD_ENABLE: k->ctr &= (uint8_t)~I8042_CTR_KBDDIS; break;
	case CMD_READ_OUTP: push(k, OUTP_RESET_LINE | OUTP_A20); break;
	case CMD_READ_TEST: push(k, 0x00); break;
	default:
		if (cmd >= CMD_PULSE_FIRST && !(cmd & OUTP_RESET_LINE))
			k->reset(k); /* 0xfe, the usual reset */
		break;
	}
}

void i8042_write(struct i8042 *k, uint16_t port, uint8_t v)
{
	uint8_t cmd = k->pending_cmd;

	k->last_was_cmd = port == I8042_CMD_PORT;
	if (port == I8042_CMD_PORT) {
		command(k, v);
		return;
	}
	k->pending_cmd = 0;
	if (cmd)
		command_data(k, cmd, v);
	else
		keyboard_write(k, v);
}

bool i8042_ctrl_alt_del(struct i8042 *k)
{
	/* Make codes, then break codes in reverse: set 1 (what the guest reads
	 * when the controller translates) and set 2. */
	static const uint8_t set1[] = {0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d};
	static const uint8_t set2[] = {0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0,
	                               0x71, 0xf0, 0x11, 0xf0, 0x14};
	bool xlate = (k->ctr & I8042_CTR_XLATE) || k->scan_set != 2;
	const uint8_t *keys = xlate ? set1 : set2;
	size_t n = xlate ? sizeof(set1) : sizeof(set2);

	if (!k->driven || !k->scanning || (k->ctr & I8042_CTR_KBDDIS) ||
	    I8042_QUEUE - k->out_len < n)
		return false;
	for (size_t i = 0; i < n; i++)
		push(k, keys[i]);
	return true;
}

/* The device: the chip on ports 0x60 and 0x64 (0x61, system control, is
 * the in-kernel PIT's speaker port), IRQ 1, reachable from the console. */
static struct kbd {
	struct i8042 chip;
	pthread_mutex_t lock; /* vCPU threads and the console thread */
	struct vm *vm;
} kbd = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void kbd_irq(struct i8042 *k, int level)
{
	struct kbd *d = k->opaque;

	vm_irq_line(d->vm, I8042_IRQ, level);
}

static void kbd_reset(struct i8042 *k)
{
	struct kbd *d = k->opaque;

	vm_stop(d->vm, VM_EXIT_REBOOT, "guest reset (i8042)");
}

static void kbd_io(struct kbd *d, uint16_t port, uint8_t *data, uint32_t len, bool is_write)
{
	pthread_mutex_lock(&d->lock);
	if (is_write) {
		i8042_write(&d->chip, port, data[0]);
	} else {
		memset(data, 0, len);
		data[0] = i8042_read(&d->chip, port);
	}
	pthread_mutex_unlock(&d->lock);
}

static void kbd_data(struct vcpu *vcpu, uint64_t offset, uint8_t *data, uint32_t len, bool is_write,
                     void *opaque)
{
	(void)vcpu, (void)offset;
	kbd_io(opaque, I8042_DATA_PORT, data, len, is_write);
}

static void kbd_cmd(struct vcpu *vcpu, uint64_t offset, uint8_t *data, uint32_t len, bool is_write,
                    void *opaque)
{
	(void)vcpu, (void)offset;
	kbd_io(opaque, I8042_CMD_PORT, data, len, is_write);
}

/* Ctrl-A d at the console. */
static void kbd_ctrl_alt_del(void *opaque)
{
	struct kbd *d = opaque;
	bool sent;

	pthread_mutex_lock(&d->lock);
	sent = i8042_ctrl_alt_del(&d->chip);
	pthread_mutex_unlock(&d->lock);
	if (!sent)
		warnx_("Ctrl-Alt-Del not sent: the guest has not enabled its keyboard "
		       "(a kernel without the i8042 and AT keyboard drivers?)");
}

int i8042_send_ctrl_alt_del(struct err *e)
{
	bool sent;

	if (!kbd.vm)
		return err_set(e, "there is no keyboard controller");
	pthread_mutex_lock(&kbd.lock);
	sent = i8042_ctrl_alt_del(&kbd.chip);
	pthread_mutex_unlock(&kbd.lock);
	if (!sent)
		return err_set(e, "Ctrl-Alt-Del not sent: the guest has not enabled its keyboard "
		                  "(a kernel without the i8042 and AT keyboard drivers?)");
	return 0;
}

static int kbd_init(struct vm *vm)
{
	kbd.vm = vm;
	i8042_init(&kbd.chip, kbd_irq, kbd_reset, &kbd);
	console_set_ctrl_alt_del(kbd_ctrl_alt_del, &kbd);
	/* One range from 0x60 to 0x64 would take 0x61 from the PIT. */
	if (bus_register(BUS_PIO, I8042_DATA_PORT, 1, kbd_data, &kbd) < 0)
		return -1;
	return bus_register(BUS_PIO, I8042_CMD_PORT, 1, kbd_cmd, &kbd);
}

/* PNP0303 in the DSDT: Linux's i8042 driver looks for it before it
 * touches the ports when the kernel has ACPI. */
static void kbd_aml(const struct vm *vm, struct aml *a)
{
	uint8_t res[32];
	size_t n;

	(void)vm;
	n = aml_res_io(res, I8042_DATA_PORT, 1);
	n += aml_res_io(res + n, I8042_CMD_PORT, 1);
	n += aml_res_irq(res + n, I8042_IRQ);
	aml_device(a, "PS2K");
	aml_name_eisaid(a, "_HID", "PNP0303");
	aml_name_resources(a, "_CRS", res, n);
	aml_close(a);
}

DEVICE_REGISTER_FULL(i8042, kbd_init, NULL, NULL, kbd_aml);

/* The controller and keyboard in a snapshot. */
struct kbd_wire {
	uint8_t ctr, pending_cmd, kbd_cmd, scan_set;
	uint8_t last_was_cmd, scanning, driven, irq_level;
	uint8_t out[I8042_QUEUE];
	uint32_t out_head, out_len;
};

static int kbd_save(struct vm *vm, struct snap_writer *w, struct err *e)
{
	const struct i8042 *k = &kbd.chip;
	struct kbd_wire s;

	(void)vm, (void)e;
	pthread_mutex_lock(&kbd.lock);
	s = (struct kbd_wire){
	    .ctr = k->ctr,
	    .pending_cmd = k->pending_cmd,
	    .kbd_cmd = k->kbd_cmd,
	    .scan_set = k->scan_set,
	    .last_was_cmd = k->last_was_cmd,
	    .scanning = k->scanning,
	    .driven = k->driven,
	    .irq_level = (uint8_t)k->irq_level,
	    .out_head = k->out_head,
	    .out_len = k->out_len,
	};
	memcpy(s.out, k->out, sizeof(s.out));
	pthread_mutex_unlock(&kbd.lock);
	snap_put_device(w, "i8042", &s, sizeof(s));
	return 0;
}

static int kbd_load(struct vm *vm, struct snap *snap, struct err *e)
{
	struct i8042 *k = &kbd.chip;
	struct kbd_wire s;
	const uint8_t *data;
	uint64_t len;

	(void)vm;
	if (!snap_get_device(snap, "i8042", &data, &len) || len != sizeof(s))
		return err_set(e, "no keyboard controller state of %zu bytes", sizeof(s));
	memcpy(&s, data, sizeof(s));
	if (s.scan_set < 1 || s.scan_set > 3 || s.last_was_cmd > 1 || s.scanning > 1 ||
	    s.driven > 1 || s.irq_level > 1 || s.out_head >= I8042_QUEUE || s.out_len > I8042_QUEUE)
		return err_set(e, "keyboard controller state out of range");
	pthread_mutex_lock(&kbd.lock);
	k->ctr = s.ctr;
	k->pending_cmd = s.pending_cmd;
	k->kbd_cmd = s.kbd_cmd;
	k->scan_set = s.scan_set;
	k->last_was_cmd = s.last_was_cmd;
	k->scanning = s.scanning;
	k->driven = s.driven;
	k->irq_level = s.irq_level;
	memcpy(k->out, s.out, sizeof(k->out));
	k->out_head = s.out_head;
	k->out_len = s.out_len;
	pthread_mutex_unlock(&kbd.lock);
	return 0;
}

DEVICE_STATE(i8042, kbd_save, kbd_load);
