/* SPDX-License-Identifier: MIT */
/* Can this host's KVM run ordinary guests? The module behind /dev/kvm, the
 * capabilities mote uses, and a probe VM's evidence, with a verdict that is
 * cached per boot of the host for `mote run`. */
#ifndef MOTE_KVM_CHECK_H
#define MOTE_KVM_CHECK_H

#include "err.h"

#include <stdbool.h>
#include <stdio.h>

/* Verdicts, which are also `mote kvm-check`'s exit statuses. */
enum kvm_verdict {
	KVM_USABLE = 0,   /* runs ordinary guests */
	KVM_UNUSABLE = 1, /* a KVM is there but cannot run them: the reason says why */
	KVM_ABSENT = 2,   /* no KVM device, or no permission to open it: the fix says how */
};

/* The kernel module that provides KVM. */
struct kvm_module {
	const char *name;     /* "kvm_intel", "kvm_amd", "kvm_pvm" */
	const char *cpu_flag; /* what the CPU must show for it to work, or NULL */
	const char *what;     /* in words */
	bool ordinary;        /* runs ordinary (unmodified) guest kernels */
	const char *cause;    /* why a guest fails on it, when !ordinary */
};

/* The KVM module at work on the system under @root ("" for this one: its
 * /sys/module and /proc/cpuinfo): kvm_intel, kvm_amd or kvm_pvm, loaded
 * and live or built in on a CPU that suits it; NULL if none. */
const struct kvm_module *kvm_module_detect(const char *root);

/* What a check of a KVM device that opened found. */
struct kvm_facts {
	const char *device;
	int api;                         /* KVM_GET_API_VERSION's answer */
	const char *missing;             /* a capability mote needs and lacks, or NULL */
	const struct kvm_module *module; /* the module at work, or NULL */
	bool probe_ok;                   /* the probe VM got through every step */
	bool probe_transient;            /* it timed out or could not be set up */
	const char *probe_why;           /* what stopped it */
};

/* The verdict on @f, with its reason in @reason (@n bytes); sets
 * @transient when the verdict says nothing lasting about this KVM (a
 * time-out, a set-up failure) and must not be cached or trusted. */
enum kvm_verdict kvm_decide(const struct kvm_facts *f, char *reason, size_t n, bool *transient);

/* The KVM device mote opens: $MOTE_KVM_DEVICE, else /dev/kvm. */
const char *kvm_device_path(void);

/* The `mote kvm-check` command (@argv[0] is "kvm-check"): prints what it
 * found and a verdict; returns the verdict as exit status (2 also for a
 * usage error, with its message). */
int kvm_check_cmd(int argc, char **argv);

/* For `mote run`, before the guest starts: 0 if the cached verdict for
 * this boot of the host (or a probe, whose verdict is then cached) says
 * usable, or if there is no KVM device at all (opening it says why);
 * -1 with @e saying why when this KVM cannot run ordinary guests. */
int kvm_check_for_run(struct err *e);

/* The likely cause of a guest failure that the host's KVM explains
 * (a PVM host), or NULL. Safe from any thread. */
const char *kvm_host_cause(void);

#endif
