// SPDX-License-Identifier: MIT
/* The API's HTTP layer: requests whole, in pieces and pipelined; every
 * malformed kind refused; the socket's mode; many clients at once and a
 * stalled one that does not hold the others up. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "api/http.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static long feed_str(struct http_conn *c, const char *s)
{
	return http_conn_feed(c, s, strlen(s));
}

static void test_whole_request(void **state)
{
	static const char req[] = "PUT /drives/rootfs HTTP/1.1\r\nHost: localhost\r\n"
	                          "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n"
	                          "{\"a\":1}";
	struct http_conn c;

	(void)state;
	http_conn_init(&c);
	assert_int_equal(feed_str(&c, req), (long)strlen(req));
	assert_true(c.complete);
	assert_false(c.close);
	assert_int_equal(c.req.method, HTTP_M_PUT);
	assert_string_equal(c.req.path, "/drives/rootfs");
	assert_int_equal(c.req.body_len, 7);
	assert_string_equal(c.req.body, "{\"a\":1}");
	http_conn_free(&c);
}

static void test_byte_by_byte_and_query(void **state)
{
	static const char req[] = "GET /machine-config?x=1 HTTP/1.1\r\nConnection: close\r\n\r\n";
	struct http_conn c;

	(void)state;
	http_conn_init(&c);
	for (size_t i = 0; i < strlen(req); i++)
		assert_int_equal(http_conn_feed(&c, req + i, 1), 1);
	assert_true(c.complete);
	assert_true(c.close);
	assert_int_equal(c.req.method, HTTP_M_GET);
	assert_string_equal(c.req.path, "/machine-config");
	http_conn_free(&c);
}

static void test_pipelined(void **state)
{
	static const char two[] =
	    "GET / HTTP/1.1\r\n\r\nPATCH /vm HTTP/1.1\r\nContent-Length: 2\r\n"
	    "\r\n{}";
	struct http_conn c;
	long used;

	(void)state;
	http_conn_init(&c);
	used = feed_str(&c, two);
	assert_true(used > 0 && used < (long)strlen(two));
	assert_true(c.complete);
	assert_string_equal(c.req.path, "/");
	http_conn_next(&c);
	assert_int_equal(feed_str(&c, two + used), (long)strlen(two) - used);
	assert_true(c.complete);
	assert_int_equal(c.req.method, HTTP_M_PATCH);
	assert_string_equal(c.req.body, "{}");
	http_conn_free(&c);
}

struct bad {
	const char *what;
	const char *req;
	const char *error;
};

static void test_refusals(void **state)
{
	static char big_header[HTTP_MAX_HEADERS + 200], long_url[HTTP_MAX_URL + 200];
	const struct bad bad[] = {
	    {"request line", "GARBAGE\r\n\r\n", "malformed"},
	    {"version", "GET / HTTP/9.9\r\n\r\n", "malformed"},
	    {"chunked",
	     "PUT /vm HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
	     "chunked"},
	    {"body size", "PUT /vm HTTP/1.1\r\nContent-Length: 51201\r\n\r\n",
	     "Request payload with size 51201 is larger than the limit of 51200"},
	    {"two lengths", "PUT /vm HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	     "malformed"},
	    {"bad length", "PUT /vm HTTP/1.1\r\nContent-Length: x\r\n\r\n", "malformed"},
	    {"header", big_header, "headers are too large"},
	    {"url", long_url, "too long"},
	    {"NUL in header", "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", "malformed"},
	};

	(void)state;
	snprintf(big_header, sizeof(big_header), "GET / HTTP/1.1\r\nX-Big: ");
	memset(big_header + strlen(big_header), 'a', HTTP_MAX_HEADERS);
	strcpy(big_header + sizeof(big_header) - 5, "\r\n\r\n");
	strcpy(long_url, "GET /");
	memset(long_url + 5, 'a', HTTP_MAX_URL + 10);
	strcpy(long_url + HTTP_MAX_URL + 15, " HTTP/1.1\r\n\r\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct http_conn c;
		size_t len = strlen(bad[i].req);

		if (!strcmp(bad[i].what, "NUL in header"))
			len = 30;
		http_conn_init(&c);
		if (http_conn_feed(&c, bad[i].req, len) != -1 || !strstr(c.error, bad[i].error))
			fail_msg("%s: not refused as '%s' (error '%s', complete %d)", bad[i].what,
			         bad[i].error, c.error, c.complete);
		http_conn_free(&c);
	}
}

static void test_fault_json(void **state)
{
	struct http_response r = {0};
	json_object *o;
	char *out;
	size_t len;

	(void)state;
	http_fault(&r, 400, "bad \"quote\" \\ and\nnewline\x01");
	assert_int_equal(r.status, 400);
	o = json_tokener_parse(r.body);
	assert_non_null(o);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "fault_message")),
	                    "bad \"quote\" \\ and\nnewline\x01");
	json_object_put(o);
	assert_int_equal(http_format_response(&r, true, &out, &len), 0);
	assert_true(len > r.body_len);
	assert_memory_equal(out, "HTTP/1.1 400 Bad Request\r\n", 26);
	assert_non_null(strstr(out, "Connection: close\r\n"));
	assert_non_null(strstr(out, "Content-Type: application/json\r\n"));
	free(out);
	free(r.body);
}

static char sock_path[108];

static void echo(void *opaque, const struct http_request *req, struct http_response *r)
{
	(void)opaque;
	r->status = 200;
	r->body = strdup(req->path);
	r->body_len = strlen(req->path);
	r->content_type = "text/plain";
}

static int dial(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
	assert_int_equal(connect(fd, (const void *)&a, sizeof(a)), 0);
	return fd;
}

/* Sends @req on @fd and reads the answer into @buf; returns its length. */
static ssize_t ask(int fd, const char *req, char *buf, size_t size)
{
	ssize_t n, got = 0;

	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while ((n = read(fd, buf + got, size - 1 - (size_t)got)) > 0) {
		got += n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") &&
		    (strstr(buf, "Content-Length") ? buf[got - 1] != '\n' : true))
			break;
	}
	buf[got] = '\0';
	return got;
}

static void *client(void *arg)
{
	char req[64], path[16], buf[512];
	int fd = dial();

	snprintf(path, sizeof(path), "/c%d", (int)(intptr_t)arg);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n\r\n", path);
	ask(fd, req, buf, sizeof(buf));
	close(fd);
	/* the body is the path: each client got its own answer */
	return strstr(buf, "200 OK") && !strcmp(strstr(buf, "\r\n\r\n") + 4, path) ? (void *)1
	                                                                           : NULL;
}

static void test_server(void **state)
{
	struct http_server *s;
	pthread_t t[100];
	struct stat st;
	char buf[1024];
	struct err e;
	int fd, stalled;

	(void)state;
	snprintf(sock_path, sizeof(sock_path), "/tmp/mote-http-%d.sock", getpid());
	unlink(sock_path);
	fd = http_listen(sock_path, &e);
	assert_true(fd >= 0);
	assert_int_equal(stat(sock_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* an existing path is refused */
	assert_int_equal(http_listen(sock_path, &e), -1);
	assert_non_null(strstr(e.msg, "exists"));
	s = http_server_start(fd, echo, NULL, &e);
	assert_non_null(s);
	/* a client that sends half a request and stalls holds nobody up */
	stalled = dial();
	assert_int_equal(write(stalled, "PUT /vm HTTP/1.1\r\nContent-Le", 28), 28);
	for (int i = 0; i < 100; i++)
		assert_int_equal(pthread_create(&t[i], NULL, client, (void *)(intptr_t)i), 0);
	for (int i = 0; i < 100; i++) {
		void *ok;

		pthread_join(t[i], &ok);
		assert_non_null(ok);
	}
	/* keep-alive: two requests on one connection */
	fd = dial();
	ask(fd, "GET /one HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "/one"));
	ask(fd, "GET /two HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "/two"));
	/* garbage gets a 400 and the connection closes */
	ask(fd, "BLAH\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "400 Bad Request"));
	assert_non_null(strstr(buf, "fault_message"));
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);
	close(fd);
	close(stalled);
	http_server_stop(s);
	unlink(sock_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_whole_request), cmocka_unit_test(test_byte_by_byte_and_query),
	    cmocka_unit_test(test_pipelined),     cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_fault_json),    cmocka_unit_test(test_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
