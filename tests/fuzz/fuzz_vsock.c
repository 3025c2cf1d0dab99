// SPDX-License-Identifier: MIT
/* virtio-vsock's packet layer against hostile input: header decoding and checks, the CONNECT
 * line parser, and one connection's state machine driven by a mix of guest packets and host
 * events, checking the promises vsock_pkt.h makes after every step.
 *
 * Input: records, each a command byte and its operands (little-endian, zeros past the end):
 *   0  guest packet: 44 header bytes, then u16 bytes of payload the chain has
 *   1  the host socket took u24 bytes of what mote holds
 *   2  the host has u16 bytes for the guest: mote sends what the credit allows
 *   3  mote sends the guest the control packet it owes, if any
 *   4  the host reached EOF
 *   5  a CONNECT line: u8 length, then that many bytes
 *   6  a fresh connection in state u8 % 4 */
#include "fuzz.h"

#include "virtio/vsock_pkt.h"

#include <string.h>

#define CID 3

/* What is true of @c whatever came before. */
static void check_conn(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	FUZZ_CHECK(vsock_conn_unforwarded(c) <= VSOCK_BUF_ALLOC, "mote holds %u bytes",
	           vsock_conn_unforwarded(c));
	FUZZ_CHECK(vsock_conn_credit(c) <= c->peer_buf_alloc, "credit %u over buf_alloc %u",
	           vsock_conn_credit(c), c->peer_buf_alloc);
	FUZZ_CHECK(in_flight > c->peer_buf_alloc ||
	               vsock_conn_credit(c) + in_flight == c->peer_buf_alloc,
	           "credit %u and %u in flight do not make buf_alloc %u", vsock_conn_credit(c),
	           in_flight, c->peer_buf_alloc);
	FUZZ_CHECK(!vsock_conn_wants_read(c) || c->state == VSOCK_ST_ESTABLISHED,
	           "reading the host in state %d", c->state);
	FUZZ_CHECK(!(c->guest_shut & ~(uint32_t)(VSOCK_SHUT_RCV | VSOCK_SHUT_SEND)),
	           "guest_shut 0x%x", c->guest_shut);
}

static void guest_packet(struct fuzz_in *in, struct vsock_conn *c)
{
	uint8_t raw[VSOCK_HDR_SIZE], again[VSOCK_HDR_SIZE];
	uint32_t before = c->rx_cnt;
	struct vsock_hdr h;
	const char *why;
	uint64_t payload;
	enum vsock_verdict v;
	enum vsock_action a;

	for (int i = 0; i < VSOCK_HDR_SIZE; i++)
		raw[i] = (uint8_t)fuzz_uint(in, 1);
	payload = fuzz_uint(in, 2);
	vsock_hdr_decode(raw, &h);
	vsock_hdr_encode(&h, again);
	FUZZ_CHECK(!memcmp(raw, again, sizeof(raw)), "header does not survive decode and encode");
	v = vsock_hdr_check(&h, CID, payload, &why);
	FUZZ_CHECK((v == VSOCK_PKT_OK) == !why, "verdict %d with reason %s", v, why ? why : "none");
	if (v != VSOCK_PKT_OK)
		return;
	FUZZ_CHECK(h.src_cid == CID && h.dst_cid == VSOCK_HOST_CID && h.type == VSOCK_TYPE_STREAM &&
	               h.len <= payload && h.len <= VSOCK_MAX_PAYLOAD,
	           "accepted a bad header (op %u len %u)", h.op, h.len);
	a = vsock_conn_on_guest(c, &h);
	FUZZ_CHECK(a == VSOCK_ACT_DATA ? c->rx_cnt - before == h.len : c->rx_cnt == before,
	           "action %d counted %u bytes of a packet of %u", a, c->rx_cnt - before, h.len);
	FUZZ_CHECK(a != VSOCK_ACT_CLOSE || c->state == VSOCK_ST_CLOSED, "closed in state %d",
	           c->state);
}

static void host_sends(struct fuzz_in *in, struct vsock_conn *c)
{
	uint32_t n = (uint32_t)fuzz_uint(in, 2), credit = vsock_conn_credit(c);
	struct vsock_hdr h;

	if (!vsock_conn_wants_read(c))
		return;
	if (n > credit)
		n = credit;
	vsock_conn_hdr(c, CID, VSOCK_OP_RW, 0, n, &h);
	FUZZ_CHECK(h.len == n && h.fwd_cnt == c->fwd_cnt && c->fwd_told == c->fwd_cnt,
	           "RW header does not tell the counts");
	FUZZ_CHECK(vsock_conn_next_control(c) != VSOCK_OP_CREDIT_UPDATE,
	           "a credit update owed right after the guest heard fwd_cnt");
}

static void control(struct vsock_conn *c)
{
	enum vsock_op op = vsock_conn_next_control(c);
	struct vsock_hdr h;

	if (op == VSOCK_OP_INVALID)
		return;
	vsock_conn_hdr(c, CID, op, 0, 0, &h);
	FUZZ_CHECK(!(c->pending & (1U << op)), "op %u still owed after it was sent", op);
}

static void connect_line(struct fuzz_in *in)
{
	char line[256];
	size_t len = (size_t)fuzz_uint(in, 1);
	uint32_t port;

	for (size_t i = 0; i < len; i++)
		line[i] = (char)fuzz_uint(in, 1);
	if (vsock_parse_connect(line, len, &port) < 0)
		return;
	FUZZ_CHECK(len > 9 && !memcmp(line, "CONNECT ", 8) && line[len - 1] == '\n',
	           "accepted a malformed line");
	FUZZ_CHECK(strtoull(line + 8, NULL, 10) == port, "port %u is not what the line says", port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size, 0};
	struct vsock_conn c;

	vsock_conn_init(&c, VSOCK_ST_ESTABLISHED, 5000, 1234);
	while (fuzz_left(&in)) {
		switch (fuzz_uint(&in, 1) % 7) {
		case 0: guest_packet(&in, &c); break;
		case 1: {
			uint32_t n = (uint32_t)fuzz_uint(&in, 3);

			vsock_conn_forwarded(
			    &c, n < vsock_conn_unforwarded(&c) ? n : vsock_conn_unforwarded(&c));
			break;
		}
		case 2: host_sends(&in, &c); break;
		case 3: control(&c); break;
		case 4: c.host_eof = true; break;
		case 5: connect_line(&in); break;
		case 6:
			vsock_conn_init(&c, (enum vsock_state)(fuzz_uint(&in, 1) % 4), 5000, 1234);
			break;
		}
		check_conn(&c);
	}
	return 0;
}
