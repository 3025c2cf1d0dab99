// SPDX-License-Identifier: MIT
/* One HTTP/1.1 request on a Unix socket, read until the server closes or the body is whole. */
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define ANSWER_MAX 65536

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n, len -= (size_t)n;
	}
	return 0;
}

/* Reads until the server closes or Content-Length bytes of body are in. */
static ssize_t read_answer(int fd, char *buf, size_t size)
{
	size_t got = 0;

	while (got + 1 < size) {
		ssize_t n = read(fd, buf + got, size - 1 - got);
		const char *end, *cl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
		cl = strcasestr(buf, "Content-Length:");
		if (end && cl && cl < end &&
		    got >= (size_t)(end + 4 - buf) + strtoul(cl + 15, NULL, 10))
			break;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

int api_client_call(const char *sock, const char *method, const char *path, const char *body,
                    int *status, char *out, size_t size, struct err *e)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char *ans = malloc(ANSWER_MAX), head[512];
	const char *b;
	int fd, n;

	if (!ans)
		return err_set(e, "out of memory");
	if (strlen(sock) >= sizeof(a.sun_path)) {
		free(ans);
		return err_set(e, "--api-sock %s: path too long", sock);
	}
	memcpy(a.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const void *)&a, sizeof(a)) < 0) {
		err_set(e, "--api-sock %s: %s", sock, strerror(errno));
		goto fail;
	}
	n = snprintf(head, sizeof(head),
	             "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
	             "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	             method, path, body ? strlen(body) : 0);
	if (n >= (int)sizeof(head) || write_all(fd, head, (size_t)n) < 0 ||
	    (body && write_all(fd, body, strlen(body)) < 0)) {
		err_set(e, "--api-sock %s: cannot send the request: %s", sock, strerror(errno));
		goto fail;
	}
	if (read_answer(fd, ans, ANSWER_MAX) <= 0 || sscanf(ans, "HTTP/1.%*d %d", status) != 1) {
		err_set(e, "--api-sock %s: no HTTP answer", sock);
		goto fail;
	}
	b = strstr(ans, "\r\n\r\n");
	snprintf(out, size, "%s", b ? b + 4 : "");
	close(fd);
	free(ans);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(ans);
	return -1;
}
