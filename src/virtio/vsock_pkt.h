/* SPDX-License-Identifier: MIT */
/* virtio-vsock packets (virtio 1.2, 5.10.6) and the state of one stream connection: the
 * header, the checks a guest's packet must pass, credit accounting both ways and what each
 * guest packet does to a connection. No sockets and no guest memory here: the device
 * (vsock.c) does the I/O, the tests and the fuzzer reach all of this directly. */
#ifndef MOTE_VIRTIO_VSOCK_PKT_H
#define MOTE_VIRTIO_VSOCK_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VSOCK_HDR_SIZE    44           /* struct virtio_vsock_hdr on the wire */
#define VSOCK_HOST_CID    2            /* the host's address, for the guest */
#define VSOCK_TYPE_STREAM 1            /* the only socket type mote offers */
#define VSOCK_MAX_PAYLOAD (64 * 1024)  /* bytes of data in one packet, either way */
#define VSOCK_BUF_ALLOC   (256 * 1024) /* receive buffer mote advertises per connection */
/* Guest data mote has forwarded but not yet announced (fwd_cnt) before it
 * sends a CREDIT_UPDATE on its own; also the free space below which the
 * guest counts as waiting for one. */
#define VSOCK_CREDIT_THRESHOLD (64 * 1024)

#define VSOCK_SHUT_RCV  1 /* the sender will receive no more */
#define VSOCK_SHUT_SEND 2 /* the sender will send no more */

enum vsock_op {
	VSOCK_OP_INVALID = 0,
	VSOCK_OP_REQUEST = 1,
	VSOCK_OP_RESPONSE = 2,
	VSOCK_OP_RST = 3,
	VSOCK_OP_SHUTDOWN = 4,
	VSOCK_OP_RW = 5,
	VSOCK_OP_CREDIT_UPDATE = 6,
	VSOCK_OP_CREDIT_REQUEST = 7,
};

/* A packet header in host byte order. */
struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint32_t len; /* payload bytes after the header */
	uint16_t type, op;
	uint32_t flags;
	uint32_t buf_alloc, fwd_cnt; /* the sender's receive buffer and what it consumed */
};

/* Decodes the 44 little-endian bytes at @raw into @h. */
void vsock_hdr_decode(const uint8_t *raw, struct vsock_hdr *h);

/* Encodes @h into 44 little-endian bytes at @raw. */
void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t *raw);

/* What to do with a packet from the guest. */
enum vsock_verdict {
	VSOCK_PKT_OK,    /* well-formed: hand it to its connection */
	VSOCK_PKT_DROP,  /* ignore it without an answer (an RST, a forged source) */
	VSOCK_PKT_RESET, /* answer with an RST, ending its connection if there is one */
};

/* Checks a guest packet @h whose chain holds @payload bytes after the header,
 * for a guest with CID @guest_cid: its source must be that CID (else DROP),
 * its destination the host, its type STREAM, its op known, its len at most
 * VSOCK_MAX_PAYLOAD and within @payload (else RESET; an RST is never
 * answered, so a bad RST is DROP). Sets @why to a reason when not OK. */
enum vsock_verdict vsock_hdr_check(const struct vsock_hdr *h, uint64_t guest_cid, uint64_t payload,
                                   const char **why);

/* Parses the host's request line "CONNECT <port>\n" (@len bytes at @line,
 * with its newline; a port of 1 to 10 decimal digits, at most 2^32-1);
 * -1 if it is anything else. */
int vsock_parse_connect(const char *line, size_t len, uint32_t *port);

enum vsock_state {
	VSOCK_ST_HANDSHAKE,   /* a host client connected; its CONNECT line is not read yet */
	VSOCK_ST_CONNECTING,  /* mote owes or sent the guest a REQUEST; no RESPONSE yet */
	VSOCK_ST_ESTABLISHED, /* the byte stream flows */
	VSOCK_ST_CLOSED,      /* ended by a RST either way */
};

/* One connection as the protocol sees it. The guest-bound direction is
 * "tx" (mote sends), the host-bound one "rx" (mote receives). */
struct vsock_conn {
	enum vsock_state state;
	uint32_t host_port, guest_port;
	uint32_t guest_shut; /* VSOCK_SHUT_* the guest announced */
	bool host_eof;       /* the host sent its last byte; the guest was told SHUTDOWN SEND */
	uint32_t pending;    /* control packets owed to the guest: 1 << VSOCK_OP_* */
	/* Host-bound: mote's receive buffer of VSOCK_BUF_ALLOC bytes. */
	uint32_t rx_cnt;   /* payload bytes taken from the guest */
	uint32_t fwd_cnt;  /* of those, written to the host socket */
	uint32_t fwd_told; /* fwd_cnt as the guest last heard it */
	/* Guest-bound: the guest's receive buffer. */
	uint32_t tx_cnt; /* payload bytes given to the guest */
	uint32_t peer_buf_alloc, peer_fwd_cnt;
};

/* Starts @c in @state between @host_port and @guest_port, nothing counted. */
void vsock_conn_init(struct vsock_conn *c, enum vsock_state state, uint32_t host_port,
                     uint32_t guest_port);

/* Bytes the guest can take now: its buf_alloc less what is in flight to it
 * (tx_cnt - peer_fwd_cnt); 0 if a guest's numbers claim more in flight than
 * its buffer holds. */
uint32_t vsock_conn_credit(const struct vsock_conn *c);

/* Guest bytes mote holds that the host socket has not taken. */
uint32_t vsock_conn_unforwarded(const struct vsock_conn *c);

/* Whether mote should read the host socket for the guest: established, the
 * host not at EOF, the guest still receiving, and credit left. */
bool vsock_conn_wants_read(const struct vsock_conn *c);

/* What the device does after vsock_conn_on_guest. */
enum vsock_action {
	VSOCK_ACT_NONE,        /* nothing more (credit numbers taken, maybe a reply pending) */
	VSOCK_ACT_DATA,        /* write the packet's len payload bytes to the host socket */
	VSOCK_ACT_ESTABLISHED, /* the guest accepted: tell the host client "OK <port>" */
	VSOCK_ACT_SHUTDOWN,    /* guest_shut grew: stop reading or writing the host socket */
	VSOCK_ACT_RESET,       /* a protocol error: RST to the guest, close the host socket */
	VSOCK_ACT_CLOSE,       /* the guest sent RST: close the host socket, no answer */
};

/* Applies guest packet @h (checked by vsock_hdr_check, addressed to @c) to
 * @c: takes its credit numbers, moves the state, counts accepted data
 * (rx_cnt) and records owed replies in @c->pending. A packet out of place
 * for the state, data after the guest's SHUTDOWN SEND or beyond the credit
 * mote gave give VSOCK_ACT_RESET. */
enum vsock_action vsock_conn_on_guest(struct vsock_conn *c, const struct vsock_hdr *h);

/* Counts @n more guest bytes written to the host socket; owes the guest a
 * CREDIT_UPDATE when it has not heard of VSOCK_CREDIT_THRESHOLD of them, or
 * when the space it believes free fell below that. */
void vsock_conn_forwarded(struct vsock_conn *c, uint32_t n);

/* The next control packet owed to the guest (REQUEST, RESPONSE or
 * CREDIT_UPDATE), or VSOCK_OP_INVALID if none. */
enum vsock_op vsock_conn_next_control(const struct vsock_conn *c);

/* Fills @h for a packet of @op with @flags and @len payload bytes from
 * the host to guest @guest_cid on @c, with mote's current buf_alloc and
 * fwd_cnt (which the guest then knows: no CREDIT_UPDATE is owed any more);
 * counts @len in tx_cnt and clears @op from the owed packets. */
void vsock_conn_hdr(struct vsock_conn *c, uint64_t guest_cid, enum vsock_op op, uint32_t flags,
                    uint32_t len, struct vsock_hdr *h);

/* Whether both directions have ended: the guest sends no more and all it
 * sent reached the host socket, and the host sends no more (EOF) or the
 * guest receives no more. Then the connection closes with an RST. */
bool vsock_conn_done(const struct vsock_conn *c);

/* Fills @h with an RST from host port @host_port to guest @guest_cid port
 * @guest_port: the answer to a packet no connection takes. */
void vsock_rst_hdr(uint64_t guest_cid, uint32_t host_port, uint32_t guest_port,
                   struct vsock_hdr *h);

#endif
