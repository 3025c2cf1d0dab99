// SPDX-License-Identifier: MIT
/* insn_name (64-bit and 32-bit code), internal_error_insn and
 * internal_error_describe over a kvm_run that the input fills, with output
 * buffers of every size down to none.
 *
 * Input: a 32-byte header, then the kvm_run from its byte 32 on (the exit
 * union, where the internal error lies), zeros past the end of the input.
 * Header: byte 0 flags (1: 64-bit code, 2: a cause of the caller's, 4: an
 * output buffer of 1024 + byte 1 bytes instead of byte 1), byte 2 the
 * number of caller's instruction bytes (mod 17), bytes 4-11 rip, bytes
 * 12-27 the caller's instruction bytes. */
#include "fuzz.h"

#include "x86/internal_error.h"

#include <linux/kvm.h>
#include <string.h>

#define HEADER 32

/* insn_name on exactly @len bytes, so that ASan sees a read past them. */
static void name(const uint8_t *b, size_t len, bool long_mode)
{
	uint8_t *copy = malloc(len);
	const char *s;

	if (!copy && len)
		abort();
	memcpy(copy, b, len);
	s = insn_name(copy, len, long_mode);
	FUZZ_CHECK(!s || *s, "empty name");
	FUZZ_CHECK(!s || len, "a name for no bytes: %s", s);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char big[4096];
	struct kvm_run run;
	uint8_t hdr[HEADER] = {0}, insn[INSN_MAX];
	bool long_mode;
	const char *cause;
	size_t insn_len, n, got, len;
	uint64_t rip;
	uint8_t *caller = NULL;
	char *out;

	memcpy(hdr, data, size < HEADER ? size : HEADER);
	memset(&run, 0, sizeof(run));
	if (size > HEADER)
		memcpy((uint8_t *)&run + HEADER, data + HEADER,
		       size - HEADER < sizeof(run) - HEADER ? size - HEADER : sizeof(run) - HEADER);
	long_mode = hdr[0] & 1;
	cause = hdr[0] & 2 ? "the caller's cause" : NULL;
	n = (hdr[0] & 4 ? 1024 : 0) + hdr[1];
	insn_len = hdr[2] % 17;
	memcpy(&rip, hdr + 4, 8);

	name(hdr + 12, insn_len, long_mode);
	name(hdr + 12, insn_len, !long_mode);
	internal_error_name(run.internal.suberror);

	got = internal_error_insn(&run, insn);
	FUZZ_CHECK(got <= INSN_MAX, "%zu instruction bytes", got);
	if (got) {
		FUZZ_CHECK(run.internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
		               run.emulation_failure.ndata >= 3 &&
		               (run.emulation_failure.flags &
		                KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES),
		           "bytes taken from a record that has none");
		FUZZ_CHECK(!memcmp(insn, run.emulation_failure.insn_bytes, got), "bytes changed");
		name(insn, got, long_mode);
	}

	if (insn_len) {
		caller = malloc(insn_len);
		if (!caller)
			abort();
		memcpy(caller, hdr + 12, insn_len);
	}
	internal_error_describe(&run, rip, long_mode, caller, insn_len, cause, big, sizeof(big));
	len = strlen(big);
	FUZZ_CHECK(len < sizeof(big) - 1, "message of %zu bytes", len);
	FUZZ_CHECK(!strncmp(big, "KVM internal error: ", 20), "message: %s", big);
	FUZZ_CHECK(strstr(big, ". Likely cause: "), "no cause: %s", big);
	/* A smaller buffer holds the same message, cut, and never more. */
	out = malloc(n);
	if (!out && n)
		abort();
	internal_error_describe(&run, rip, long_mode, caller, insn_len, cause, out, n);
	if (n) {
		size_t got_len = strnlen(out, n);

		FUZZ_CHECK(got_len < n, "not terminated in %zu bytes", n);
		FUZZ_CHECK(got_len == (len < n - 1 ? len : n - 1), "%zu bytes of %zu in %zu",
		           got_len, len, n);
		FUZZ_CHECK(!memcmp(out, big, got_len), "a cut message that differs");
	}
	free(out);
	free(caller);
	return 0;
}
