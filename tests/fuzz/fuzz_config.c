// SPDX-License-Identifier: MIT
/* The parsers of --disk, --net and --vsock (config_parse_*) on any string:
 * the first byte picks the parser, the rest (NUL-terminated) is the
 * option's value. What a parser accepts must be what its struct promises:
 * a non-empty NUL-terminated path or tap name, an id of at most 20 bytes, a
 * guest CID from 3, a unicast MAC. */
#include "fuzz.h"

#include "config.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char arg[8192];
	static struct disk_config d;
	static struct net_config n;
	static struct vsock_config v;
	struct err e;

	if (!size || size > sizeof(arg))
		return 0;
	memcpy(arg, data + 1, size - 1);
	arg[size - 1] = '\0';
	switch (data[0] % 3) {
	case 0:
		if (config_parse_disk(arg, &d, &e) == 0) {
			FUZZ_CHECK(d.path[0] && memchr(d.path, 0, sizeof(d.path)), "bad path");
			FUZZ_CHECK(strlen(d.id) <= BLK_ID_LEN, "id of %zu bytes", strlen(d.id));
		}
		break;
	case 1:
		if (config_parse_net(arg, &n, &e) == 0) {
			FUZZ_CHECK(n.tap[0] && strlen(n.tap) < sizeof(n.tap), "bad tap name");
			FUZZ_CHECK(!n.has_mac || !(n.mac[0] & 1), "multicast MAC accepted");
		}
		break;
	default:
		if (config_parse_vsock(arg, &v, &e) == 0)
			FUZZ_CHECK(v.cid >= 3 && v.cid != 0xffffffffU && v.uds[0], "bad vsock");
		break;
	}
	return 0;
}
