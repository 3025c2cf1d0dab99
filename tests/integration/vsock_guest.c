// SPDX-License-Identifier: MIT
/* vsock-guest: the guest's side of the vsock integration tests (tests/integration/cases/vsock.sh),
 * a static binary the test hands to its VM on a disk (the test VM's busybox has no vsock tool).
 *
 *   vsock-guest gen N          writes N bytes of the test stream to stdout
 *   vsock-guest listen PORT    accepts one connection on PORT and echoes it until EOF
 *   vsock-guest send PORT N    connects to the host (CID 2) on PORT, sends N bytes of the test
 *                              stream, shuts its sending side, copies what comes back to stdout
 *
 * Messages go to stderr, starting with "vg: ". Exits 0 on success, 1 on an error. */
#include <errno.h>
#include <linux/vm_sockets.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

/* The test stream: a xorshift32 sequence, four bytes a step. */
static void stream_fill(uint32_t *state, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i += 4) {
		uint32_t x = *state;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		*state = x;
		memcpy(buf + i, &x, len - i < 4 ? len - i : 4);
	}
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes @total bytes of the stream to @fd. */
static int gen(int fd, unsigned long long total)
{
	static uint8_t buf[CHUNK];
	uint32_t state = 0x6d6f7465; /* "mote" */

	while (total) {
		size_t n = total < CHUNK ? (size_t)total : CHUNK;

		stream_fill(&state, buf, CHUNK);
		if (write_all(fd, buf, n) < 0) {
			perror("vg: write");
			return -1;
		}
		total -= n;
	}
	return 0;
}

/* Copies @in to @out until EOF; returns the bytes copied, -1 on an error. */
static long long copy(int in, int out)
{
	static uint8_t buf[CHUNK];
	long long total = 0;

	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("vg: read");
			return -1;
		}
		if (n == 0)
			return total;
		if (write_all(out, buf, (size_t)n) < 0) {
			perror("vg: write");
			return -1;
		}
		total += n;
	}
}

static int do_listen(unsigned port)
{
	struct sockaddr_vm a = {
	    .svm_family = AF_VSOCK, .svm_port = port, .svm_cid = VMADDR_CID_ANY};
	int lfd = socket(AF_VSOCK, SOCK_STREAM, 0), fd;
	long long n;

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 1) < 0) {
		perror("vg: listen");
		return 1;
	}
	fprintf(stderr, "vg: listening on %u\n", port);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0) {
		perror("vg: accept");
		return 1;
	}
	fprintf(stderr, "vg: accepted\n");
	n = copy(fd, fd);
	if (n < 0)
		return 1;
	shutdown(fd, SHUT_WR);
	fprintf(stderr, "vg: echoed %lld bytes\n", n);
	close(fd);
	return 0;
}

static int do_send(unsigned port, unsigned long long total)
{
	struct sockaddr_vm a = {
	    .svm_family = AF_VSOCK, .svm_port = port, .svm_cid = VMADDR_CID_HOST};
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0), status;
	long long n;
	pid_t pid;

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("vg: connect");
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		int r = gen(fd, total);

		shutdown(fd, SHUT_WR);
		_exit(r < 0);
	}
	n = copy(fd, 1);
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return 1;
	fprintf(stderr, "vg: sent %llu bytes, received %lld\n", total, n);
	close(fd);
	return n < 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "gen"))
		return gen(1, strtoull(argv[2], NULL, 0)) < 0;
	if (argc == 3 && !strcmp(argv[1], "listen"))
		return do_listen((unsigned)strtoul(argv[2], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "send"))
		return do_send((unsigned)strtoul(argv[2], NULL, 0), strtoull(argv[3], NULL, 0));
	fprintf(stderr, "usage: vsock-guest gen N | listen PORT | send PORT N\n");
	return 2;
}
