/* SPDX-License-Identifier: MIT */
/* A client of mote's own API socket, for commands that drive a running mote (mote migrate). */
#ifndef MOTE_API_CLIENT_H
#define MOTE_API_CLIENT_H

#include "../err.h"

#include <stddef.h>

/* Sends @method @path with the JSON @body (or NULL) to the API socket
 * @sock and waits for the answer: its status in @status and its body,
 * NUL-terminated, in @out (at most @size bytes). -1 with @e if the socket
 * cannot be reached or the answer is not HTTP. */
int api_client_call(const char *sock, const char *method, const char *path, const char *body,
                    int *status, char *out, size_t size, struct err *e);

#endif
