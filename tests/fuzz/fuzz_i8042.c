// SPDX-License-Identifier: MIT
/* The i8042 and its keyboard against a hostile guest: any sequence of port
 * reads and writes, with Ctrl-Alt-Del pressed in between.
 *
 * Input: pairs of bytes (op, value). op & 3: 0 writes value to the data
 * port, 1 to the command port, 2 reads the data port, 3 the status; op &
 * 0x80 presses Ctrl-Alt-Del first. Checked after every step: the buffer
 * never holds more than it can, the interrupt line is high exactly when a
 * keyboard byte waits and the guest enabled its interrupt, a refused
 * Ctrl-Alt-Del queues nothing and an accepted one queues it whole. */
#include "fuzz.h"

#include "hw/i8042.h"

static int line;

static void irq(struct i8042 *k, int level)
{
	(void)k;
	FUZZ_CHECK(level != line, "the line was set to the level it had (%d)", level);
	line = level;
}

static void reset(struct i8042 *k)
{
	(void)k;
}

static void step(struct i8042 *k, uint8_t op, uint8_t v)
{
	unsigned before = k->out_len;

	if (op & 0x80) {
		bool sent = i8042_ctrl_alt_del(k);

		FUZZ_CHECK(sent ? k->out_len >= before + 8 : k->out_len == before,
		           "Ctrl-Alt-Del %s and the buffer went from %u to %u bytes",
		           sent ? "sent" : "refused", before, k->out_len);
	}
	switch (op & 3) {
	case 0: i8042_write(k, I8042_DATA_PORT, v); break;
	case 1: i8042_write(k, I8042_CMD_PORT, v); break;
	case 2: i8042_read(k, I8042_DATA_PORT); break;
	default:
		FUZZ_CHECK(!(i8042_read(k, I8042_CMD_PORT) & 0x02), "the input buffer reads full");
		break;
	}
	FUZZ_CHECK(k->out_len <= I8042_QUEUE && k->out_head < I8042_QUEUE,
	           "buffer at %u with %u bytes", k->out_head, k->out_len);
	FUZZ_CHECK(line == (k->out_len && (k->ctr & I8042_CTR_KBDINT)),
	           "line %d with %u bytes and CTR 0x%02x", line, k->out_len, k->ctr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct i8042 k;

	line = 0;
	i8042_init(&k, irq, reset, NULL);
	for (size_t i = 0; i + 1 < size; i += 2)
		step(&k, data[i], data[i + 1]);
	return 0;
}
