// SPDX-License-Identifier: MIT
#include "vsock_pkt.h"

#include <endian.h>
#include <string.h>

/* Byte offsets of struct virtio_vsock_hdr's fields (packed, little-endian). */
enum {
	OFF_SRC_CID = 0,
	OFF_DST_CID = 8,
	OFF_SRC_PORT = 16,
	OFF_DST_PORT = 20,
	OFF_LEN = 24,
	OFF_TYPE = 28,
	OFF_OP = 30,
	OFF_FLAGS = 32,
	OFF_BUF_ALLOC = 36,
	OFF_FWD_CNT = 40,
};

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return le16toh(v);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

void vsock_hdr_decode(const uint8_t *raw, struct vsock_hdr *h)
{
	h->src_cid = get64(raw + OFF_SRC_CID);
	h->dst_cid = get64(raw + OFF_DST_CID);
	h->src_port = get32(raw + OFF_SRC_PORT);
	h->dst_port = get32(raw + OFF_DST_PORT);
	h->len = get32(raw + OFF_LEN);
	h->type = get16(raw + OFF_TYPE);
	h->op = get16(raw + OFF_OP);
	h->flags = get32(raw + OFF_FLAGS);
	h->buf_alloc = get32(raw + OFF_BUF_ALLOC);
	h->fwd_cnt = get32(raw + OFF_FWD_CNT);
}

void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t *raw)
{
	put64(raw + OFF_SRC_CID, h->src_cid);
	put64(raw + OFF_DST_CID, h->dst_cid);
	put32(raw + OFF_SRC_PORT, h->src_port);
	put32(raw + OFF_DST_PORT, h->dst_port);
	put32(raw + OFF_LEN, h->len);
	put16(raw + OFF_TYPE, h->type);
	put16(raw + OFF_OP, h->op);
	put32(raw + OFF_FLAGS, h->flags);
	put32(raw + OFF_BUF_ALLOC, h->buf_alloc);
	put32(raw + OFF_FWD_CNT, h->fwd_cnt);
}

/* The reason a well-sourced packet is refused, or NULL. */
static const char *refusal(const struct vsock_hdr *h, uint64_t payload)
{
	if (h->dst_cid != VSOCK_HOST_CID)
		return "addressed to a CID other than the host's";
	if (h->type != VSOCK_TYPE_STREAM)
		return "a socket type other than STREAM";
	if (h->op < VSOCK_OP_REQUEST || h->op > VSOCK_OP_CREDIT_REQUEST)
		return "an unknown op";
	if (h->len > VSOCK_MAX_PAYLOAD)
		return "a payload over 64 KiB";
	if (h->len > payload)
		return "a len beyond its descriptor chain";
	return NULL;
}

enum vsock_verdict vsock_hdr_check(const struct vsock_hdr *h, uint64_t guest_cid, uint64_t payload,
                                   const char **why)
{
	*why = NULL;
	if (h->src_cid != guest_cid) {
		*why = "a source CID that is not the guest's";
		return VSOCK_PKT_DROP;
	}
	*why = refusal(h, payload);
	if (!*why)
		return VSOCK_PKT_OK;
	return h->op == VSOCK_OP_RST ? VSOCK_PKT_DROP : VSOCK_PKT_RESET;
}

int vsock_parse_connect(const char *line, size_t len, uint32_t *port)
{
	static const char verb[] = "CONNECT ";
	const size_t vlen = sizeof(verb) - 1;
	uint64_t v = 0;
	size_t i;

	if (len < vlen + 2 || len > vlen + 11 || memcmp(line, verb, vlen) || line[len - 1] != '\n')
		return -1;
	for (i = vlen; i < len - 1; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(line[i] - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*port = (uint32_t)v;
	return 0;
}

void vsock_conn_init(struct vsock_conn *c, enum vsock_state state, uint32_t host_port,
                     uint32_t guest_port)
{
	memset(c, 0, sizeof(*c));
	c->state = state;
	c->host_port = host_port;
	c->guest_port = guest_port;
}

uint32_t vsock_conn_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight > c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

uint32_t vsock_conn_unforwarded(const struct vsock_conn *c)
{
	return c->rx_cnt - c->fwd_cnt;
}

bool vsock_conn_wants_read(const struct vsock_conn *c)
{
	return c->state == VSOCK_ST_ESTABLISHED && !c->host_eof &&
	       !(c->guest_shut & VSOCK_SHUT_RCV) && vsock_conn_credit(c) > 0;
}

/* Data from the guest: within the credit mote gave, before its SHUTDOWN SEND. */
static enum vsock_action on_rw(struct vsock_conn *c, const struct vsock_hdr *h)
{
	if (c->guest_shut & VSOCK_SHUT_SEND)
		return VSOCK_ACT_RESET;
	if (h->len > VSOCK_BUF_ALLOC - vsock_conn_unforwarded(c))
		return VSOCK_ACT_RESET;
	if (!h->len)
		return VSOCK_ACT_NONE;
	c->rx_cnt += h->len;
	return VSOCK_ACT_DATA;
}

static enum vsock_action on_established(struct vsock_conn *c, const struct vsock_hdr *h)
{
	switch (h->op) {
	case VSOCK_OP_RW: return on_rw(c, h);
	case VSOCK_OP_SHUTDOWN:
		if (!(h->flags & ~c->guest_shut & (VSOCK_SHUT_RCV | VSOCK_SHUT_SEND)))
			return VSOCK_ACT_NONE;
		c->guest_shut |= h->flags & (VSOCK_SHUT_RCV | VSOCK_SHUT_SEND);
		return VSOCK_ACT_SHUTDOWN;
	case VSOCK_OP_CREDIT_REQUEST:
		c->pending |= 1U << VSOCK_OP_CREDIT_UPDATE;
		return VSOCK_ACT_NONE;
	case VSOCK_OP_CREDIT_UPDATE: return VSOCK_ACT_NONE;
	default: return VSOCK_ACT_RESET; /* a REQUEST or RESPONSE on an open connection */
	}
}

enum vsock_action vsock_conn_on_guest(struct vsock_conn *c, const struct vsock_hdr *h)
{
	if (c->state == VSOCK_ST_CLOSED || c->state == VSOCK_ST_HANDSHAKE)
		return VSOCK_ACT_NONE;
	if (h->op == VSOCK_OP_RST) {
		c->state = VSOCK_ST_CLOSED;
		return VSOCK_ACT_CLOSE;
	}
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	if (c->state == VSOCK_ST_CONNECTING) {
		if (h->op != VSOCK_OP_RESPONSE)
			return VSOCK_ACT_RESET;
		c->state = VSOCK_ST_ESTABLISHED;
		return VSOCK_ACT_ESTABLISHED;
	}
	return on_established(c, h);
}

void vsock_conn_forwarded(struct vsock_conn *c, uint32_t n)
{
	uint32_t untold, believed_free;

	c->fwd_cnt += n;
	untold = c->fwd_cnt - c->fwd_told;
	/* The guest thinks it has this much room left in mote's buffer. */
	believed_free = VSOCK_BUF_ALLOC - (c->rx_cnt - c->fwd_told);
	if (untold && (untold >= VSOCK_CREDIT_THRESHOLD || believed_free < VSOCK_CREDIT_THRESHOLD))
		c->pending |= 1U << VSOCK_OP_CREDIT_UPDATE;
}

enum vsock_op vsock_conn_next_control(const struct vsock_conn *c)
{
	static const enum vsock_op order[] = {VSOCK_OP_REQUEST, VSOCK_OP_RESPONSE,
	                                      VSOCK_OP_CREDIT_UPDATE};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (c->pending & (1U << order[i]))
			return order[i];
	return VSOCK_OP_INVALID;
}

void vsock_conn_hdr(struct vsock_conn *c, uint64_t guest_cid, enum vsock_op op, uint32_t flags,
                    uint32_t len, struct vsock_hdr *h)
{
	*h = (struct vsock_hdr){
	    .src_cid = VSOCK_HOST_CID,
	    .dst_cid = guest_cid,
	    .src_port = c->host_port,
	    .dst_port = c->guest_port,
	    .len = len,
	    .type = VSOCK_TYPE_STREAM,
	    .op = (uint16_t)op,
	    .flags = flags,
	    .buf_alloc = VSOCK_BUF_ALLOC,
	    .fwd_cnt = c->fwd_cnt,
	};
	c->fwd_told = c->fwd_cnt;
	c->pending &= ~(1U << op | 1U << VSOCK_OP_CREDIT_UPDATE);
	c->tx_cnt += len;
}

bool vsock_conn_done(const struct vsock_conn *c)
{
	return c->state == VSOCK_ST_ESTABLISHED && (c->guest_shut & VSOCK_SHUT_SEND) &&
	       !vsock_conn_unforwarded(c) && (c->host_eof || (c->guest_shut & VSOCK_SHUT_RCV));
}

void vsock_rst_hdr(uint64_t guest_cid, uint32_t host_port, uint32_t guest_port, struct vsock_hdr *h)
{
	*h = (struct vsock_hdr){
	    .src_cid = VSOCK_HOST_CID,
	    .dst_cid = guest_cid,
	    .src_port = host_port,
	    .dst_port = guest_port,
	    .type = VSOCK_TYPE_STREAM,
	    .op = VSOCK_OP_RST,
	    .buf_alloc = VSOCK_BUF_ALLOC,
	};
}
