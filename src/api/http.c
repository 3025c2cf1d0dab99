// SPDX-License-Identifier: MIT
/*
 * The API's HTTP/1.1 server: one thread, epoll over the listening socket
 * and every client. llhttp (Node.js's parser) reads the requests; this file
 * keeps the limits (URL, headers, body, clients, a stalled half request)
 * and writes the responses. Requests are answered one at a time, in order,
 * as Firecracker's API server does.
 */
#include "http.h"

#include "../metrics.h"
#include "../thread.h"
#include "../trace.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static struct http_conn *conn_of(llhttp_t *p)
{
	return p->data;
}

static int refuse(struct http_conn *c, const char *msg)
{
	snprintf(c->error, sizeof(c->error), "%s", msg);
	return -1;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
	struct http_conn *c = conn_of(p);
	size_t n = strlen(c->req.path);

	if (n + len > HTTP_MAX_URL)
		return refuse(c, "the request target is too long");
	memcpy(c->req.path + n, at, len);
	c->req.path[n + len] = '\0';
	return 0;
}

static int on_header_data(llhttp_t *p, const char *at, size_t len)
{
	struct http_conn *c = conn_of(p);

	(void)at;
	c->header_bytes += len;
	if (c->header_bytes > HTTP_MAX_HEADERS)
		return refuse(c, "the request's headers are too large");
	return 0;
}

static void set_method(struct http_request *r, uint8_t m)
{
	r->method_name = llhttp_method_name((llhttp_method_t)m);
	switch (m) {
	case HTTP_GET: r->method = HTTP_M_GET; break;
	case HTTP_PUT: r->method = HTTP_M_PUT; break;
	case HTTP_PATCH: r->method = HTTP_M_PATCH; break;
	default: r->method = HTTP_M_OTHER; break;
	}
}

static int on_headers_complete(llhttp_t *p)
{
	struct http_conn *c = conn_of(p);
	char msg[160];
	char *q = strchr(c->req.path, '?');

	if (q)
		*q = '\0';
	set_method(&c->req, llhttp_get_method(p));
	if (p->flags & F_CHUNKED)
		return refuse(c, "chunked request bodies are not supported: send Content-Length");
	if (p->content_length > HTTP_MAX_BODY) {
		snprintf(msg, sizeof(msg),
		         "Request payload with size %llu is larger than the limit of %d allowed "
		         "by server.",
		         (unsigned long long)p->content_length, HTTP_MAX_BODY);
		return refuse(c, msg);
	}
	c->body_cap = (size_t)p->content_length;
	c->req.body = malloc(c->body_cap + 1);
	if (!c->req.body)
		return refuse(c, "no memory for the request body");
	c->req.body[0] = '\0';
	return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
	struct http_conn *c = conn_of(p);

	if (!c->req.body || c->req.body_len + len > c->body_cap)
		return refuse(c, "the body is longer than its Content-Length");
	memcpy(c->req.body + c->req.body_len, at, len);
	c->req.body_len += len;
	c->req.body[c->req.body_len] = '\0';
	return 0;
}

static int on_message_complete(llhttp_t *p)
{
	struct http_conn *c = conn_of(p);

	c->complete = true;
	c->close = !llhttp_should_keep_alive(p);
	return HPE_PAUSED; /* one request at a time: the rest waits for the answer */
}

static void parser_init(struct http_conn *c)
{
	llhttp_settings_init(&c->settings);
	c->settings.on_url = on_url;
	c->settings.on_header_field = on_header_data;
	c->settings.on_header_value = on_header_data;
	c->settings.on_headers_complete = on_headers_complete;
	c->settings.on_body = on_body;
	c->settings.on_message_complete = on_message_complete;
	llhttp_init(&c->parser, HTTP_REQUEST, &c->settings);
	c->parser.data = c;
}

void http_conn_init(struct http_conn *c)
{
	memset(c, 0, sizeof(*c));
	parser_init(c);
}

void http_conn_free(struct http_conn *c)
{
	free(c->req.body);
	c->req.body = NULL;
}

void http_conn_next(struct http_conn *c)
{
	http_conn_free(c);
	http_conn_init(c);
}

long http_conn_feed(struct http_conn *c, const char *data, size_t len)
{
	llhttp_errno_t err;

	if (c->complete)
		return 0;
	err = llhttp_execute(&c->parser, data, len);
	if (err == HPE_OK)
		return (long)len;
	if (err == HPE_PAUSED && c->complete)
		return (long)(llhttp_get_error_pos(&c->parser) - data);
	if (!c->error[0])
		snprintf(c->error, sizeof(c->error), "malformed HTTP request: %s",
		         llhttp_get_error_reason(&c->parser) ? llhttp_get_error_reason(&c->parser)
		                                             : llhttp_errno_name(err));
	return -1;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 500: return "Internal Server Error";
	default: return "";
	}
}

int http_format_response(const struct http_response *r, bool close, char **out, size_t *len)
{
	char head[256];
	int n;

	if (r->body)
		n = snprintf(head, sizeof(head),
		             "HTTP/1.1 %d %s\r\nServer: mote API\r\nConnection: %s\r\n"
		             "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
		             r->status, reason(r->status), close ? "close" : "keep-alive",
		             r->content_type ? r->content_type : "application/json", r->body_len);
	else
		n = snprintf(head, sizeof(head),
		             "HTTP/1.1 %d %s\r\nServer: mote API\r\nConnection: %s\r\n\r\n",
		             r->status, reason(r->status), close ? "close" : "keep-alive");
	*len = (size_t)n + (r->body ? r->body_len : 0);
	*out = malloc(*len);
	if (!*out)
		return -1;
	memcpy(*out, head, (size_t)n);
	if (r->body)
		memcpy(*out + n, r->body, r->body_len);
	return 0;
}

void http_fault(struct http_response *r, int status, const char *msg)
{
	size_t cap = strlen(msg) * 6 + 32;
	char *b = malloc(cap);
	size_t n = 0;

	r->status = status;
	r->content_type = NULL;
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
	if (!b)
		return;
	n += (size_t)snprintf(b, cap, "{\"fault_message\":\"");
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		if (*p == '"' || *p == '\\')
			n += (size_t)snprintf(b + n, cap - n, "\\%c", *p);
		else if (*p < 0x20)
			n += (size_t)snprintf(b + n, cap - n, "\\u%04x", *p);
		else
			b[n++] = (char)*p;
	}
	n += (size_t)snprintf(b + n, cap - n, "\"}");
	r->body = b;
	r->body_len = n;
}

int http_listen(const char *path, struct err *e)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;
	int fd, ret;

	if (!*path || strlen(path) >= sizeof(a.sun_path))
		return err_set(e, "--api-sock %s: a socket path must be 1 to %zu bytes", path,
		               sizeof(a.sun_path) - 1);
	if (lstat(path, &st) == 0)
		return err_set(e,
		               "--api-sock %s: the path exists; remove it first (mote does not "
		               "take over an existing file)",
		               path);
	memcpy(a.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(e, "--api-sock %s: socket: %s", path, strerror(errno));
	old = umask(0177); /* the socket is made 0600: only its owner drives the VM */
	ret = bind(fd, (const void *)&a, sizeof(a));
	umask(old);
	if (ret < 0 || listen(fd, 128) < 0) {
		err_set(e, "--api-sock %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* One client. */
struct client {
	int fd;
	struct http_conn http;
	uint64_t since_ns; /* when the current request's first byte came; 0 between */
	struct client *next;
};

struct http_server {
	int listen_fd;
	int epfd;
	int stop_fd;
	pthread_t thread;
	http_handler_fn *fn;
	void *opaque;
	struct client *clients;
	int nr_clients;
};

static void client_close(struct http_server *s, struct client *c)
{
	struct client **pp = &s->clients;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	http_conn_free(&c->http);
	free(c);
	s->nr_clients--;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes @r to @c; -1 if the client is gone or stuck. */
static int respond(struct client *c, struct http_response *r, bool close)
{
	char *out;
	size_t len;
	int ret = -1;

	if (http_format_response(r, close, &out, &len) == 0) {
		ret = send_all(c->fd, out, len);
		free(out);
	}
	free(r->body);
	r->body = NULL;
	return ret;
}

/* Answers the complete request in @c; -1 if the connection must close. */
static int answer(struct http_server *s, struct client *c)
{
	struct http_response r = {0};

	s->fn(s->opaque, &c->http.req, &r);
	metrics_inc(METRIC_api_server_requests);
	if (r.status >= 400)
		metrics_inc(METRIC_api_server_errors);
	if (respond(c, &r, c->http.close) < 0 || c->http.close)
		return -1;
	http_conn_next(&c->http);
	c->since_ns = 0;
	return 0;
}

/* Refuses what @c sent with a 400 naming why, then the connection closes. */
static void refuse_conn(struct client *c)
{
	struct http_response r = {0};

	metrics_inc(METRIC_api_server_bad_http);
	metrics_inc(METRIC_api_server_errors);
	http_fault(&r, 400, c->http.error);
	respond(c, &r, true);
}

static void client_read(struct http_server *s, struct client *c)
{
	char buf[4096];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
	size_t off = 0;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(s, c);
		return;
	}
	if (!c->since_ns)
		c->since_ns = trace_now();
	while (off < (size_t)n) {
		long used = http_conn_feed(&c->http, buf + off, (size_t)n - off);

		if (used < 0) {
			refuse_conn(c);
			client_close(s, c);
			return;
		}
		off += (size_t)used;
		if (c->http.complete && answer(s, c) < 0) {
			client_close(s, c);
			return;
		}
		if (off < (size_t)n)
			c->since_ns = trace_now();
	}
}

static void client_accept(struct http_server *s)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct timeval tv = {.tv_sec = 1};
	struct client *c;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (s->nr_clients >= HTTP_MAX_CONNS || !(c = calloc(1, sizeof(*c)))) {
		close(fd); /* turned away: the others go on */
		return;
	}
	/* a client that does not read its answers holds the server a second at most */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->fd = fd;
	http_conn_init(&c->http);
	ev.data.ptr = c;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = s->clients;
	s->clients = c;
	s->nr_clients++;
}

/* Drops the clients that began a request and stalled. */
static void sweep(struct http_server *s)
{
	uint64_t now = trace_now();
	struct client *c = s->clients, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->since_ns && now - c->since_ns > (uint64_t)HTTP_STALL_MS * 1000000) {
			snprintf(c->http.error, sizeof(c->http.error),
			         "the request was not completed within %d ms", HTTP_STALL_MS);
			refuse_conn(c);
			client_close(s, c);
		}
	}
}

static void *server_thread(void *arg)
{
	struct http_server *s = arg;
	struct epoll_event evs[32];

	for (;;) {
		int n = epoll_wait(s->epfd, evs, 32, 1000);

		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &s->stop_fd)
				return NULL;
			if (evs[i].data.ptr == &s->listen_fd)
				client_accept(s);
			else
				client_read(s, evs[i].data.ptr);
		}
		sweep(s);
	}
}

struct http_server *http_server_start(int listen_fd, http_handler_fn *fn, void *opaque,
                                      struct err *e)
{
	struct http_server *s = calloc(1, sizeof(*s));
	struct epoll_event ev = {.events = EPOLLIN};

	if (!s)
		return err_set(e, "no memory for the API server"), NULL;
	s->listen_fd = listen_fd;
	s->fn = fn;
	s->opaque = opaque;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->stop_fd = eventfd(0, EFD_CLOEXEC);
	ev.data.ptr = &s->listen_fd;
	if (s->epfd < 0 || s->stop_fd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, listen_fd, &ev) < 0)
		goto fail;
	ev.data.ptr = &s->stop_fd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->stop_fd, &ev) < 0)
		goto fail;
	if (thread_start(&s->thread, server_thread, s) != 0)
		goto fail;
	return s;
fail:
	err_set(e, "cannot start the API server: %s", strerror(errno));
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	free(s);
	return NULL;
}

void http_server_stop(struct http_server *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (write(s->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(s->thread, NULL);
	while (s->clients)
		client_close(s, s->clients);
	close(s->listen_fd);
	close(s->epfd);
	close(s->stop_fd);
	free(s);
}
