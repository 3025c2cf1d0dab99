/* SPDX-License-Identifier: MIT */
/* HTTP/1.1 on a Unix socket for the API: llhttp parses, one thread serves every connection. */
#ifndef MOTE_API_HTTP_H
#define MOTE_API_HTTP_H

#include "../err.h"

#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_URL     1024        /* request target, bytes */
#define HTTP_MAX_HEADERS (16 * 1024) /* every header line together */
#define HTTP_MAX_BODY    51200       /* Firecracker's http_api_max_payload_size */
#define HTTP_MAX_CONNS   256         /* more clients at once are turned away */
#define HTTP_STALL_MS    10000       /* a half-sent request is dropped after this */

enum http_method { HTTP_M_GET, HTTP_M_PUT, HTTP_M_PATCH, HTTP_M_OTHER };

struct http_request {
	enum http_method method;
	const char *method_name;
	char path[HTTP_MAX_URL + 1]; /* without the query string */
	char *body;                  /* NUL-terminated; body_len bytes */
	size_t body_len;
};

struct http_response {
	int status;               /* 200, 204, 400, ... */
	const char *content_type; /* NULL: application/json */
	char *body;               /* malloc'd, or NULL for none */
	size_t body_len;
};

/* Answers @req into @resp (on the HTTP thread). */
typedef void http_handler_fn(void *opaque, const struct http_request *req,
                             struct http_response *resp);

/* One client connection's parser state. */
struct http_conn {
	llhttp_t parser;
	llhttp_settings_t settings;
	struct http_request req;
	size_t header_bytes;
	size_t body_cap;
	bool chunked;
	bool complete;   /* a whole request is in req */
	bool close;      /* close after the response */
	char error[256]; /* why the request is refused, "" if not */
};

/* Sets @c up for a new connection. */
void http_conn_init(struct http_conn *c);

/* Frees what @c holds. */
void http_conn_free(struct http_conn *c);

/* Feeds @len bytes; returns how many were used (less than @len when a
 * request completed: the rest belongs to the next one), or -1 when the
 * bytes are not acceptable HTTP (c->error says why). */
long http_conn_feed(struct http_conn *c, const char *data, size_t len);

/* Readies @c for the next request on the same connection. */
void http_conn_next(struct http_conn *c);

/* Formats @r as an HTTP/1.1 response into a malloc'd buffer (*@out, *@len). */
int http_format_response(const struct http_response *r, bool close, char **out, size_t *len);

/* Sets @r to status @status with a JSON body {"fault_message": @msg}. */
void http_fault(struct http_response *r, int status, const char *msg);

/* Binds a stream socket at @path with mode 0600 and listens; an existing
 * @path is refused. Returns the fd or -1 with @e. */
int http_listen(const char *path, struct err *e);

struct http_server;

/* Serves connections on @listen_fd from a new thread, calling @fn for each
 * request; NULL with @e on failure. */
struct http_server *http_server_start(int listen_fd, http_handler_fn *fn, void *opaque,
                                      struct err *e);

/* Stops the thread and closes every connection and the listening socket. */
void http_server_stop(struct http_server *s);

#endif
