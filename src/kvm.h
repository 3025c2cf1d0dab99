/* SPDX-License-Identifier: MIT */
/* Paired KVM ioctl wrappers: kvm_ioctl_try returns the error, kvm_ioctl dies naming the ioctl. */
#ifndef MOTE_KVM_H
#define MOTE_KVM_H

#include <stdint.h>

/* Issues @req on @fd; returns the ioctl's result, or -errno on failure. */
int kvm_ioctl_try(int fd, unsigned long req, void *arg);

/* Issues @req on @fd; on failure prints @name and the error, and exits. */
int kvm_ioctl_named(int fd, unsigned long req, const char *name, void *arg);

/* For tests only: makes kvm_ioctl_try issue its ioctls through @fn, which
 * returns as ioctl(2) does (-1 with errno set on failure); NULL restores the
 * real ioctl. */
void kvm_set_ioctl_for_tests(int (*fn)(int fd, unsigned long req, void *arg));

#define kvm_ioctl(fd, req, arg) kvm_ioctl_named((fd), (req), #req, (void *)(uintptr_t)(arg))

/* Opens the KVM device (MOTE_KVM_DEVICE or /dev/kvm) and checks its API
 * version; dies with a message saying how to run without it. */
int kvm_open(void);

#endif
