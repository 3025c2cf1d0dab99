/* SPDX-License-Identifier: MIT */
/* Firecracker's REST API for one VM: the HTTP thread parses, the VMM's thread acts. */
#ifndef MOTE_API_API_H
#define MOTE_API_API_H

#include "http.h"
#include "../err.h"
#include "../vmm.h"

struct api;

/* Creates the socket at @path (mode 0600; an existing path is refused) and
 * starts the HTTP thread, whose requests wait until the VMM takes them
 * (api_wait_start, api_run); -1 with @e. */
int api_open(struct api **out, const char *path, struct vmm *m, struct err *e);

/* Serves the API on this thread until an InstanceStart builds the VM, then
 * runs it as api_run does; returns the process exit status (128+N if
 * signal N came first). */
int api_wait_start(struct api *a, struct vmm *m);

/* Runs the built VM, serving the API on its I/O thread; returns the
 * process exit status. */
int api_run(struct api *a, struct vmm *m);

/* Stops the HTTP thread (a request still waiting is told the VM stopped),
 * closes the socket and removes its path. */
void api_close(struct api *a);

/* Answers one request for @m (the VMM's thread); sets *@deferred instead
 * of answering when the answer waits for the vCPUs (InstanceStart). */
void api_route(struct vmm *m, const struct http_request *req, struct http_response *resp,
               bool *deferred);

#endif
