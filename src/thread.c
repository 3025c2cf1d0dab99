// SPDX-License-Identifier: MIT
#include "thread.h"

int thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t a;
	int r;

	if ((r = pthread_attr_init(&a)))
		return r;
	r = pthread_attr_setstacksize(&a, THREAD_STACK_SIZE);
	if (!r)
		r = pthread_create(t, &a, fn, arg);
	pthread_attr_destroy(&a);
	return r;
}
