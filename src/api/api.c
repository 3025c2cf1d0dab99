// SPDX-License-Identifier: MIT
/*
 * The channel between the API's HTTP thread and the VMM: the HTTP thread
 * posts one request at a time and waits; the thread that owns the VMM
 * (main before the boot, the I/O thread after it) takes it, acts and
 * answers. So every change of the VM's state happens on one thread, in
 * the order the requests came (Firecracker's design).
 */
#include "api.h"

#include "../console.h"
#include "../log.h"
#include "../metrics.h"
#include "../trace.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct api {
	char *path;
	struct http_server *http;
	struct vmm *m;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const struct http_request *req; /* posted, not answered yet */
	struct http_response *resp;
	bool taken;    /* the VMM is working on req */
	bool deferred; /* req is an InstanceStart answered once the vCPUs run */
	bool closed;   /* the VM is gone: requests are answered here */
	int kick_fd;   /* eventfd: a request is posted */
	struct ev_source src;
};

/* The HTTP thread: posts @req and waits for the VMM's answer. */
static void post(void *opaque, const struct http_request *req, struct http_response *resp)
{
	struct api *a = opaque;
	uint64_t one = 1;

	pthread_mutex_lock(&a->lock);
	if (a->closed) {
		pthread_mutex_unlock(&a->lock);
		http_fault(resp, 400, "the VM has stopped");
		return;
	}
	a->req = req;
	a->resp = resp;
	a->taken = false;
	if (write(a->kick_fd, &one, sizeof(one)) != sizeof(one))
		warnx_("api: cannot wake the VMM: %s", strerror(errno));
	while (a->req && !a->closed)
		pthread_cond_wait(&a->cond, &a->lock);
	if (a->req) { /* closed while waiting */
		a->req = NULL;
		http_fault(resp, 400, "the VM has stopped");
	}
	pthread_mutex_unlock(&a->lock);
}

/* Gives the HTTP thread its answer. */
static void answer(struct api *a)
{
	pthread_mutex_lock(&a->lock);
	a->req = NULL;
	a->resp = NULL;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

/* The VMM's side: takes the posted request, if any, and acts on it. */
static void serve(struct api *a)
{
	const struct http_request *req;
	struct http_response *resp;
	uint64_t n;
	bool deferred;

	if (read(a->kick_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&a->lock);
	req = a->taken ? NULL : a->req;
	resp = a->resp;
	a->taken = true;
	pthread_mutex_unlock(&a->lock);
	if (!req)
		return;
	api_route(a->m, req, resp, &deferred);
	log_msg(LOG_DEBUG, "api", "%s %s: %d", req->method_name, req->path, resp->status);
	if (deferred) {
		pthread_mutex_lock(&a->lock);
		a->deferred = true;
		pthread_mutex_unlock(&a->lock);
	} else {
		answer(a);
	}
}

static void on_kick(void *opaque, uint32_t events)
{
	(void)events;
	serve(opaque);
}

/* CPU time the process has used, in microseconds. */
static uint64_t cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int api_open(struct api **out, const char *path, struct vmm *m, struct err *e)
{
	struct api *a = calloc(1, sizeof(*a));
	sigset_t set;
	int fd;

	if (!a || !(a->path = strdup(path))) {
		free(a);
		return err_set(e, "no memory for the API");
	}
	a->m = m;
	m->api_sock = a->path;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	a->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->kick_fd < 0)
		err_set(e, "eventfd: %s", strerror(errno));
	fd = a->kick_fd < 0 ? -1 : http_listen(path, e);
	if (fd < 0) {
		if (a->kick_fd >= 0)
			close(a->kick_fd);
		free(a->path);
		free(a);
		return -1;
	}
	/* The signals that stop mote go to the console's signalfd, or to the
	 * wait below: no thread of mote's may take them. */
	console_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	a->http = http_server_start(fd, post, a, e);
	if (!a->http) {
		close(fd);
		unlink(path);
		close(a->kick_fd);
		m->api_sock = NULL;
		free(a->path);
		free(a);
		return -1;
	}
	metrics_set(METRIC_api_server_process_startup_time_us, trace_since_start() / 1000);
	metrics_set(METRIC_api_server_process_startup_time_cpu_us, cpu_us());
	*out = a;
	return 0;
}

/* The answer to InstanceStart, once the vCPUs run. */
static void started(struct vm *vm, void *arg)
{
	struct api *a = arg;

	bool waiting;

	(void)vm;
	pthread_mutex_lock(&a->lock);
	waiting = a->deferred;
	a->deferred = false;
	pthread_mutex_unlock(&a->lock);
	if (!waiting)
		return; /* booted from the command line or a config file */
	metrics_set(METRIC_vmm_instance_start_us, (trace_now() - a->m->start_ns) / 1000);
	answer(a);
}

int api_run(struct api *a, struct vmm *m)
{
	a->src = (struct ev_source){.fd = a->kick_fd, .fn = on_kick, .opaque = a};
	if (evloop_add(&m->vm.io, &a->src, EPOLLIN) < 0)
		die("api: cannot watch the API's channel: %s", strerror(errno));
	return vmm_run(m, started, a);
}

int api_wait_start(struct api *a, struct vmm *m)
{
	struct signalfd_siginfo si;
	struct pollfd p[2] = {{.fd = a->kick_fd, .events = POLLIN}, {.events = POLLIN}};
	sigset_t set;

	console_signals(&set);
	sigdelset(&set, SIGCONT);
	p[1].fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (p[1].fd < 0)
		die("api: cannot watch for signals: %s", strerror(errno));
	while (m->state == VMM_NOT_STARTED || m->state == VMM_FAILED) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			die("api: poll: %s", strerror(errno));
		if (p[1].revents && read(p[1].fd, &si, sizeof(si)) == sizeof(si)) {
			close(p[1].fd);
			return 128 + (int)si.ssi_signo;
		}
		if (p[0].revents)
			serve(a);
	}
	close(p[1].fd);
	return api_run(a, m);
}

void api_close(struct api *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->closed = true;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	http_server_stop(a->http);
	unlink(a->path);
	close(a->kick_fd);
	a->m->api_sock = NULL;
	free(a->path);
	free(a);
}
