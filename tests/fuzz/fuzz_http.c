// SPDX-License-Identifier: MIT
/* The API's HTTP layer and its router on any bytes from a client: the first
 * byte sets how the rest is cut into reads (as a socket might deliver it);
 * every request that completes is routed on a VM that has not started.
 * What a complete request holds must be what struct http_request promises
 * (a NUL-terminated path, a body within the limit and its length), and
 * every answer a status with a JSON or text body of the length it says. */
#include "fuzz.h"

#include "api/api.h"
#include "fc_config.h"

#include <string.h>

static struct vmm m;

/* Requests the router would act on outside the VM: files it would create
 * (logger, metrics) and a boot that needs /dev/kvm. */
static bool skip(const struct http_request *r)
{
	return strstr(r->path, "/logger") || strstr(r->path, "/metrics") ||
	       (r->body && memmem(r->body, r->body_len, "Instance", 8));
}

static void route(const struct http_request *r)
{
	struct http_response resp = {0};
	bool deferred;

	FUZZ_CHECK(memchr(r->path, 0, sizeof(r->path)), "path not terminated");
	FUZZ_CHECK(r->body_len <= HTTP_MAX_BODY, "body of %zu bytes", r->body_len);
	FUZZ_CHECK(!r->body || r->body[r->body_len] == '\0', "body not terminated");
	if (skip(r))
		return;
	api_route(&m, r, &resp, &deferred);
	FUZZ_CHECK(!deferred, "deferred without InstanceStart");
	FUZZ_CHECK(resp.status == 200 || resp.status == 204 || resp.status == 400, "status %d",
	           resp.status);
	FUZZ_CHECK(!resp.body || strlen(resp.body) == resp.body_len, "body length");
	free(resp.body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_conn c;
	size_t at = 1, step;

	if (!size)
		return 0;
	if (!m.cfg.mem_size) {
		vmm_init(&m);
		fc_config_init(&m.cfg);
	}
	step = data[0] % 64 + 1;
	http_conn_init(&c);
	while (at < size) {
		size_t n = size - at < step ? size - at : step;
		long used = http_conn_feed(&c, (const char *)data + at, n);

		if (used < 0) {
			FUZZ_CHECK(c.error[0], "refused without a reason");
			break;
		}
		FUZZ_CHECK((size_t)used <= n, "used %ld of %zu", used, n);
		at += (size_t)used;
		if (c.complete) {
			route(&c.req);
			http_conn_next(&c);
		} else {
			FUZZ_CHECK((size_t)used == n, "stopped early without a request");
		}
	}
	http_conn_free(&c);
	return 0;
}
