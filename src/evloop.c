// SPDX-License-Identifier: MIT
#include "evloop.h"

#include "thread.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define EVLOOP_BATCH 32

static void on_stop(void *opaque, uint32_t events)
{
	(void)opaque;
	(void)events;
}

int evloop_init(struct evloop *l, struct err *e)
{
	memset(l, 0, sizeof(*l));
	l->stop_fd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return err_set(e, "epoll_create1: %m");
	l->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->stop_fd < 0)
		return err_set(e, "eventfd: %m");
	l->stop = (struct ev_source){.fd = l->stop_fd, .fn = on_stop, .opaque = l};
	if (evloop_add(l, &l->stop, EPOLLIN) < 0)
		return err_set(e, "epoll_ctl: %m");
	return 0;
}

static int ctl(struct evloop *l, int op, struct ev_source *src, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = src};

	return epoll_ctl(l->epfd, op, src->fd, &ev);
}

int evloop_add(struct evloop *l, struct ev_source *src, uint32_t events)
{
	return ctl(l, EPOLL_CTL_ADD, src, events);
}

int evloop_mod(struct evloop *l, struct ev_source *src, uint32_t events)
{
	return ctl(l, EPOLL_CTL_MOD, src, events);
}

void evloop_del(struct evloop *l, struct ev_source *src)
{
	if (l->epfd >= 0 && src->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, src->fd, NULL);
}

int evloop_run_once(struct evloop *l, int timeout_ms)
{
	struct epoll_event ev[EVLOOP_BATCH];
	int n = epoll_wait(l->epfd, ev, EVLOOP_BATCH, timeout_ms);
	int stop = 0;

	for (int i = 0; i < n; i++) {
		struct ev_source *src = ev[i].data.ptr;

		if (src == &l->stop) {
			stop = 1;
			continue;
		}
		src->fn(src->opaque, ev[i].events);
	}
	return stop;
}

static void *io_thread(void *arg)
{
	struct evloop *l = arg;

	while (!evloop_run_once(l, -1))
		;
	return NULL;
}

int evloop_start(struct evloop *l, struct err *e)
{
	sigset_t all, old;
	int r;

	/* Signals go to the main thread's signalfd, never to the I/O thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = thread_start(&l->thread, io_thread, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return err_set(e, "cannot start the I/O thread: %s", strerror(r));
	l->started = true;
	return 0;
}

void evloop_stop(struct evloop *l)
{
	uint64_t one = 1;

	if (!l->started)
		return;
	if (write(l->stop_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return; /* cannot happen on an eventfd we own; the join would hang */
	pthread_join(l->thread, NULL);
	l->started = false;
}

void evloop_destroy(struct evloop *l)
{
	if (l->stop_fd >= 0)
		close(l->stop_fd);
	if (l->epfd >= 0)
		close(l->epfd);
	l->stop_fd = l->epfd = -1;
}
