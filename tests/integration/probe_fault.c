// SPDX-License-Identifier: MIT
/* probe-fault CASE: runs mote's probe VM on /dev/kvm with its guest code
 * broken on purpose, and prints the verdict it reached, so that the
 * integration tests see each way the probe can fail on a real KVM:
 *   xsave-mmio  the xsave area moved out of RAM: KVM must emulate xsave on
 *               an MMIO address and cannot (as PVM cannot run xrstor)
 *   hang        the probe spins instead of reporting done (a 2 s time-out)
 *   wrong-msr   the MSR read back is compared with another value
 *   intact      the probe as mote ships it
 * Exit status: 0 if the probe got through, 1 if it failed, 2 on set-up. */
#include "kvm.h"
#include "kvm_check.h"
#include "x86/probe.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Replaces the first @len bytes equal to @from in @code with @to. */
static int patch(uint8_t *code, size_t n, const void *from, const void *to, size_t len)
{
	for (size_t i = 0; i + len <= n; i++)
		if (!memcmp(code + i, from, len)) {
			memcpy(code + i, to, len);
			return 0;
		}
	fprintf(stderr, "probe-fault: the pattern to patch is not in the probe code\n");
	return -1;
}

static int break_code(const char *what, uint8_t *code, size_t n)
{
	/* mov $PROBE_XSAVE_ADDR, %edi -> mov $0xe0000000, %edi (no RAM there) */
	static const uint8_t xsave_from[] = {0xbf, 0x00, 0x30, 0x01, 0x00};
	static const uint8_t xsave_to[] = {0xbf, 0x00, 0x00, 0x00, 0xe0};
	/* report PROBE_STEP_DONE -> pause; jmp back: a hang that still exits
	 * now and then (KVM's pause filter), since a bare "jmp ." can starve
	 * the nested runner's emulated CPU */
	static const uint8_t done_from[] = {0xb0, PROBE_STEP_DONE, 0xe6, PROBE_PORT};
	static const uint8_t done_to[] = {0xf3, 0x90, 0xeb, 0xfc};
	/* cmp $0x12345000, %eax -> cmp $0x12345001, %eax */
	static const uint8_t msr_from[] = {0x3d, 0x00, 0x50, 0x34, 0x12};
	static const uint8_t msr_to[] = {0x3d, 0x01, 0x50, 0x34, 0x12};

	if (!strcmp(what, "xsave-mmio"))
		return patch(code, n, xsave_from, xsave_to, sizeof(xsave_from));
	if (!strcmp(what, "hang"))
		return patch(code, n, done_from, done_to, sizeof(done_from));
	if (!strcmp(what, "wrong-msr"))
		return patch(code, n, msr_from, msr_to, sizeof(msr_from));
	if (!strcmp(what, "intact"))
		return 0;
	fprintf(stderr, "probe-fault: unknown case '%s'\n", what);
	return -1;
}

int main(int argc, char **argv)
{
	size_t n = (size_t)probe_guest_size;
	uint8_t *code = malloc(n);
	struct probe_result r;
	struct err e;
	int fd;

	if (argc != 2 || !code)
		return 2;
	memcpy(code, probe_guest_start, n);
	if (break_code(argv[1], code, n) < 0) {
		free(code);
		return 2;
	}
	fd = open(kvm_device_path(), O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror(kvm_device_path());
		free(code);
		return 2;
	}
	if (probe_run_code(fd, code, n, 2000, &r, &e) < 0) {
		fprintf(stderr, "probe-fault: %s\n", e.msg);
		close(fd);
		free(code);
		return 2;
	}
	if (r.ok)
		printf("probe: got through in %.1f ms\n", r.ms);
	else
		printf("probe: failed: %s\n", r.why);
	close(fd);
	free(code);
	return r.ok ? 0 : 1;
}
