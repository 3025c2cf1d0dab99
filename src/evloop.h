/* SPDX-License-Identifier: MIT */
/* The I/O thread's event loop: epoll over the fds devices own (queue kicks, taps, sockets). */
#ifndef MOTE_EVLOOP_H
#define MOTE_EVLOOP_H

#include "err.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Called on the I/O thread when @fd of its source is ready (@events: EPOLLIN...). */
typedef void evloop_fn(void *opaque, uint32_t events);

/* One watched fd; its owner keeps it alive while it is in the loop. */
struct ev_source {
	int fd;
	evloop_fn *fn;
	void *opaque;
};

struct evloop {
	int epfd;    /* -1 until evloop_init */
	int stop_fd; /* eventfd: the loop returns when it is readable */
	struct ev_source stop;
	pthread_t thread;
	bool started;
};

/* Creates the epoll set and the stop eventfd; -1 with @e on failure. */
int evloop_init(struct evloop *l, struct err *e);

/* Watches @src->fd for @events (EPOLLIN, EPOLLOUT), calling @src->fn; -1
 * with errno if epoll refuses (already watched, not pollable). */
int evloop_add(struct evloop *l, struct ev_source *src, uint32_t events);

/* Changes the events @src waits for (0: none, while it stays in the set). */
int evloop_mod(struct evloop *l, struct ev_source *src, uint32_t events);

/* Stops watching @src->fd (before its owner closes it). */
void evloop_del(struct evloop *l, struct ev_source *src);

/* Waits up to @timeout_ms (-1: no limit) and runs the callbacks of what is
 * ready; returns 1 if the loop was asked to stop, 0 otherwise. */
int evloop_run_once(struct evloop *l, int timeout_ms);

/* Runs the loop on a new thread (the I/O thread) until evloop_stop. */
int evloop_start(struct evloop *l, struct err *e);

/* Asks the I/O thread to return and joins it; no-op if it never started. */
void evloop_stop(struct evloop *l);

/* Closes the epoll set and the stop eventfd (the loop must be stopped). */
void evloop_destroy(struct evloop *l);

#endif
