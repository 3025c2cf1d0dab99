/* SPDX-License-Identifier: MIT */
/* mote's own threads (vCPUs, I/O): stacks small enough that no transparent huge page fits. */
#ifndef MOTE_THREAD_H
#define MOTE_THREAD_H

#include <pthread.h>

/* 1 MiB: far more than a vCPU's exit handling or the I/O thread's device
 * work needs, and too small to hold a 2 MiB-aligned 2 MiB range, so a host
 * with THP "always" cannot back a stack of a few KiB with a 2 MiB page
 * (seen: 2 MiB of mote's 3.2 MiB private memory outside guest RAM). */
#define THREAD_STACK_SIZE (1U << 20)

/* Starts @fn(@arg) on a new thread with a THREAD_STACK_SIZE stack; returns
 * what pthread_create returns. */
int thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
