// SPDX-License-Identifier: MIT
#include "kvm_check.h"

#include "cachedir.h"

#include "kvm.h"
#include "x86/probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Bump when the probe or the verdict rules change: old cached verdicts
 * are then ignored. */
#define CHECK_VERSION "mote-kvm-check 2"

/* How long the probe VM may take: a few ms on bare metal, far less than
 * this nested; past it the verdict is "hung" and not cached. */
#define PROBE_TIMEOUT_MS 10000

static const struct kvm_module modules[] = {
    {"kvm_intel", "vmx", "Intel VT-x", true, NULL},
    {"kvm_amd", "svm", "AMD SVM", true, NULL},
    {"kvm_pvm", NULL,
     "PVM, a paravirtual KVM that runs only guest kernels built for it: its guests run in "
     "hardware user mode, and an ordinary kernel stops at the first privileged instruction "
     "PVM cannot emulate (xrstor, in its FPU set-up)",
     false,
     "this host's KVM is kvm_pvm (PVM), which runs only guest kernels built for it. Run the "
     "guest inside tools/nested-run, or on a host with kvm_intel or kvm_amd (mote kvm-check "
     "tells)"},
};

enum cap_use {
	CAP_NEEDED, /* mote cannot run a guest without it */
	CAP_USED,   /* a feature of mote needs it and goes without it */
	CAP_LATER,  /* later work (vCPUs, devices, snapshots, migration) */
};

struct cap {
	int cap;
	const char *name;
	const char *what;
	enum cap_use use;
};

#define CAP(c, what, use)        \
	{                        \
		c, #c, what, use \
	}

static const struct cap caps[] = {
    CAP(KVM_CAP_USER_MEMORY, "guest RAM from user memory", CAP_NEEDED),
    CAP(KVM_CAP_IRQCHIP, "in-kernel irqchip (PIC, IOAPIC, LAPIC)", CAP_NEEDED),
    CAP(KVM_CAP_PIT2, "in-kernel PIT", CAP_NEEDED),
    CAP(KVM_CAP_EXT_CPUID, "CPUID set by the monitor", CAP_NEEDED),
    CAP(KVM_CAP_SET_TSS_ADDR, "TSS address (Intel)", CAP_NEEDED),
    CAP(KVM_CAP_SET_IDENTITY_MAP_ADDR, "identity map address (Intel)", CAP_NEEDED),
    CAP(KVM_CAP_IMMEDIATE_EXIT, "kicking a vCPU out of KVM_RUN", CAP_NEEDED),
    CAP(KVM_CAP_IRQFD, "interrupts through eventfds (irqfd)", CAP_NEEDED),
    CAP(KVM_CAP_X86_USER_SPACE_MSR, "MSR exits to user space (boot trace)", CAP_USED),
    CAP(KVM_CAP_X86_MSR_FILTER, "MSR filter (boot trace: linux_start_kernel)", CAP_USED),
    CAP(KVM_CAP_SET_GUEST_DEBUG, "guest debug (boot trace: init breakpoint)", CAP_USED),
    CAP(KVM_CAP_IOEVENTFD, "doorbells through eventfds (ioeventfd)", CAP_LATER),
    CAP(KVM_CAP_MAX_VCPUS, "vCPUs per VM", CAP_LATER),
    CAP(KVM_CAP_MP_STATE, "vCPU run state (INIT/SIPI)", CAP_LATER),
    CAP(KVM_CAP_SYNC_MMU, "host memory changes reach the guest", CAP_LATER),
    CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, "dirty logging, cleared by hand", CAP_LATER),
    CAP(KVM_CAP_DIRTY_LOG_RING, "dirty ring (bytes per vCPU)", CAP_LATER),
    CAP(KVM_CAP_XSAVE, "vCPU xsave state (snapshots)", CAP_LATER),
    CAP(KVM_CAP_XCRS, "vCPU XCRs (snapshots)", CAP_LATER),
    CAP(KVM_CAP_VCPU_EVENTS, "vCPU pending events (snapshots)", CAP_LATER),
    CAP(KVM_CAP_DEBUGREGS, "vCPU debug registers (snapshots)", CAP_LATER),
    CAP(KVM_CAP_ADJUST_CLOCK, "kvm-clock across a restore", CAP_LATER),
    CAP(KVM_CAP_TSC_CONTROL, "TSC frequency (migration)", CAP_LATER),
    CAP(KVM_CAP_X86_DISABLE_EXITS, "HLT/PAUSE in the guest", CAP_LATER),
    CAP(KVM_CAP_X86_TRIPLE_FAULT_EVENT, "triple fault as an event", CAP_LATER),
    CAP(KVM_CAP_EXIT_ON_EMULATION_FAILURE, "emulation failures always exit", CAP_LATER),
};

#define NCAPS (sizeof(caps) / sizeof(caps[0]))

/* What a check found. */
struct check {
	const char *device;
	int api;                         /* KVM_GET_API_VERSION, or -errno */
	const struct kvm_module *module; /* NULL: none known */
	bool modules_seen;               /* /sys/module/kvm exists */
	int cap_value[NCAPS];            /* KVM_CHECK_EXTENSION, or -errno */
	bool probed;
	bool probe_setup_failed;
	struct probe_result probe;
	enum kvm_verdict verdict;
	bool transient; /* not worth caching: a time-out or a set-up error */
	char reason[ERR_MAX + 256];
};

/* Reads up to @n - 1 bytes of the file @root@path into @out; -1 if none. */
static int read_text(const char *root, const char *path, char *out, size_t n)
{
	char full[PATH_MAX];
	ssize_t len;
	int fd;

	snprintf(full, sizeof(full), "%s%s", root, path);
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	len = read(fd, out, n - 1);
	close(fd);
	if (len < 0)
		return -1;
	out[len] = '\0';
	return 0;
}

/* True if the first "flags" line of @cpuinfo has the word @flag. */
static bool has_cpu_flag(const char *cpuinfo, const char *flag)
{
	const char *line = strstr(cpuinfo, "\nflags");
	size_t n = strlen(flag);

	if (!line)
		return false;
	for (const char *p = strchr(line, ':'); p && *p && *p != '\n'; p++)
		if (p[-1] == ' ' && !strncmp(p, flag, n) && (p[n] == ' ' || p[n] == '\n' || !p[n]))
			return true;
	return false;
}

/* A module is KVM's if it is loaded and live, or built in (no initstate)
 * on a CPU that has what it needs: a built-in kvm_intel on an AMD CPU
 * shows in sysfs but provides nothing. */
static bool module_active(const char *root, const struct kvm_module *m, const char *cpuinfo)
{
	char path[128], state[32];

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", m->name);
	if (read_text(root, path, state, sizeof(state)) == 0)
		return !strncmp(state, "live", 4);
	snprintf(path, sizeof(path), "%s/sys/module/%s", root, m->name);
	if (access(path, F_OK) != 0)
		return false;
	return !m->cpu_flag || has_cpu_flag(cpuinfo, m->cpu_flag);
}

const struct kvm_module *kvm_module_detect(const char *root)
{
	char cpuinfo[16384];

	if (read_text(root, "/proc/cpuinfo", cpuinfo + 1, sizeof(cpuinfo) - 1) < 0)
		cpuinfo[1] = '\0';
	cpuinfo[0] = '\n'; /* so that the first line can match "\nflags" */
	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
		if (module_active(root, &modules[i], cpuinfo))
			return &modules[i];
	return NULL;
}

const char *kvm_device_path(void)
{
	const char *path = getenv("MOTE_KVM_DEVICE");

	return path && *path ? path : "/dev/kvm";
}

const char *kvm_host_cause(void)
{
	const struct kvm_module *m = kvm_module_detect("");

	return m && !m->ordinary ? m->cause : NULL;
}

/* Says why @device cannot be opened, and how to fix it. */
static void absent(struct check *c, int err)
{
	c->verdict = KVM_ABSENT;
	if (err == EACCES || err == EPERM)
		snprintf(c->reason, sizeof(c->reason),
		         "%s: %s. Fix: add your user to the device's group (usually kvm: "
		         "sudo usermod -aG kvm $USER, then log in again), or run as root",
		         c->device, strerror(err));
	else if (err == ENOTTY || err == EINVAL)
		snprintf(c->reason, sizeof(c->reason),
		         "%s is not a KVM device (it answers no KVM ioctl). Fix: point "
		         "MOTE_KVM_DEVICE at /dev/kvm, or run inside tools/nested-run",
		         c->device);
	else
		snprintf(
		    c->reason, sizeof(c->reason),
		    "%s: %s: this machine offers no KVM%s%s%s. Fix: run mote inside "
		    "tools/nested-run, which boots a software-emulated machine with KVM, or use "
		    "a host whose CPU shows vmx or svm, with kvm_intel or kvm_amd loaded",
		    c->device, strerror(err), c->module ? " (" : "",
		    c->module ? c->module->name : "",
		    c->module ? " is in its kernel but registered no device)" : "");
}

static void read_caps(struct check *c, int fd)
{
	for (size_t i = 0; i < NCAPS; i++)
		c->cap_value[i] =
		    kvm_ioctl_try(fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)caps[i].cap);
}

/* The first needed capability that is missing, or NULL. */
static const struct cap *missing_cap(const struct check *c)
{
	for (size_t i = 0; i < NCAPS; i++)
		if (caps[i].use == CAP_NEEDED && c->cap_value[i] <= 0)
			return &caps[i];
	return NULL;
}

static void run_probe(struct check *c, int fd)
{
	struct err e;

	c->probed = true;
	if (probe_run(fd, PROBE_TIMEOUT_MS, &c->probe, &e) < 0) {
		c->probe_setup_failed = true;
		snprintf(c->probe.why, sizeof(c->probe.why), "%s", e.msg);
	}
}

enum kvm_verdict kvm_decide(const struct kvm_facts *f, char *reason, size_t n, bool *transient)
{
	const struct kvm_module *m = f->module;
	bool pvm = m && !m->ordinary;
	int w = 0;

	*transient = false;
	if (f->api != KVM_API_VERSION)
		w = snprintf(reason, n, "%s speaks KVM API %d, mote needs %d", f->device, f->api,
		             KVM_API_VERSION);
	else if (f->missing)
		w = snprintf(reason, n, "this KVM lacks %s", f->missing);
	else if (!f->probe_ok) {
		w = snprintf(reason, n, "%s", f->probe_why);
		*transient = f->probe_transient;
	} else if (pvm)
		w = snprintf(reason, n, "the probe got through, but the KVM module is %s: %s",
		             m->name, m->what);
	else
		return KVM_USABLE;
	if (pvm && !f->probe_ok && w >= 0 && (size_t)w < n)
		snprintf(reason + w, n - (size_t)w, ". The KVM module is %s: %s", m->name, m->what);
	return KVM_UNUSABLE;
}

/* The verdict from what was found: the probe's evidence first, then what
 * is known of the module. */
static void decide(struct check *c)
{
	const struct cap *miss = missing_cap(c);
	char missing[128];
	struct kvm_facts f = {
	    .device = c->device,
	    .api = c->api,
	    .missing = miss ? missing : NULL,
	    .module = c->module,
	    .probe_ok = c->probe.ok,
	    .probe_transient = c->probe_setup_failed || c->probe.timed_out,
	    .probe_why = c->probe.why,
	};

	if (miss)
		snprintf(missing, sizeof(missing), "%s (%s)", miss->name, miss->what);
	c->verdict = kvm_decide(&f, c->reason, sizeof(c->reason), &c->transient);
}

/* Checks the device: opens it, reads its capabilities, runs the probe. */
static void check_host(struct check *c)
{
	int fd;

	memset(c, 0, sizeof(*c));
	c->device = kvm_device_path();
	c->module = kvm_module_detect("");
	c->modules_seen = access("/sys/module/kvm", F_OK) == 0;
	fd = open(c->device, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		absent(c, errno);
		return;
	}
	c->api = kvm_ioctl_try(fd, KVM_GET_API_VERSION, NULL);
	if (c->api < 0) {
		absent(c, -c->api);
		close(fd);
		return;
	}
	read_caps(c, fd);
	if (c->api == KVM_API_VERSION && !missing_cap(c)) {
		run_probe(c, fd);
		/* A KVM that cannot run a guest fails the same way twice; one that
		 * failed once (seen under TCG's nested SVM) gets a second look. */
		if (!c->probe.ok && !c->probe_setup_failed && !c->probe.timed_out) {
			struct probe_result first = c->probe;

			run_probe(c, fd);
			if (c->probe.ok)
				snprintf(c->probe.why, sizeof(c->probe.why),
				         "a first probe failed (%.400s), the second got through",
				         first.why);
		}
	}
	close(fd);
	decide(c);
}

/* ---- The verdict cache: one file per boot of the host. ---- */

static int boot_id(char *out, size_t n)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t len;

	if (fd < 0)
		return -1;
	len = read(fd, out, n - 1);
	close(fd);
	if (len <= 0)
		return -1;
	out[len] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return strspn(out, "0123456789abcdef-") == strlen(out) && *out ? 0 : -1;
}

/* The cache file for this boot in @out; -1 if there is none to have. */
static int cache_path(char *out, size_t n)
{
	char id[64], sub[80];

	if (boot_id(id, sizeof(id)) < 0)
		return -1;
	snprintf(sub, sizeof(sub), "kvm-check/%s", id);
	return cache_dir(sub, out, n);
}

/* Which device node @path is now: a module reload makes it anew. */
static int device_identity(const char *path, char *out, size_t n)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	snprintf(out, n, "%llx:%llx:%lld", (unsigned long long)st.st_rdev,
	         (unsigned long long)st.st_ino, (long long)st.st_ctime);
	return 0;
}

/* Splits @buf at its first @n newlines into @line[0..n]; -1 if it has fewer. */
static int split_lines(char *buf, char **line, int n)
{
	line[0] = buf;
	for (int i = 1; i <= n; i++) {
		char *nl = strchr(line[i - 1], '\n');

		if (!nl)
			return -1;
		*nl = '\0';
		line[i] = nl + 1;
	}
	return 0;
}

/* Reads the cached verdict on the device into @c; -1 if there is none for
 * this device as it is now. The file: CHECK_VERSION, the device's path,
 * its identity, the verdict (0 or 1) and the reason, a line each. */
static int cache_read(const char *path, struct check *c)
{
	char buf[sizeof(CHECK_VERSION) + PATH_MAX + 64 + sizeof(c->reason) + 8], id[64];
	char *line[5];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t len;

	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	if (split_lines(buf, line, 4) < 0 || strcmp(line[0], CHECK_VERSION) ||
	    strcmp(line[1], c->device) || device_identity(c->device, id, sizeof(id)) < 0 ||
	    strcmp(line[2], id) || (strcmp(line[3], "0") && strcmp(line[3], "1")))
		return -1;
	line[4][strcspn(line[4], "\n")] = '\0';
	c->verdict = line[3][0] == '1' ? KVM_UNUSABLE : KVM_USABLE;
	snprintf(c->reason, sizeof(c->reason), "%s", line[4]);
	return 0;
}

/* Removes the verdicts of other boots, older than a day, from the folder
 * of @path: every boot of the nested runner's outer VM leaves one. */
static void prune_cache(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	struct dirent *d;
	struct stat st;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	dp = opendir(dir);
	if (!dp)
		return;
	while ((d = readdir(dp)))
		if (d->d_name[0] != '.' && strcmp(d->d_name, slash + 1) &&
		    fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_mtime < time(NULL) - 24 * 3600)
			unlinkat(dirfd(dp), d->d_name, 0);
	closedir(dp);
}

/* Caches @c's verdict; quietly does nothing where it cannot. */
static void cache_write(const char *path, const struct check *c)
{
	char tmp[PATH_MAX + 16], id[64];
	FILE *f;
	int fd;

	if (c->transient || c->verdict == KVM_ABSENT ||
	    device_identity(c->device, id, sizeof(id)) < 0)
		return;
	cache_make_parents(path);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return;
	}
	fprintf(f, "%s\n%s\n%s\n%d\n%s\n", CHECK_VERSION, c->device, id, (int)c->verdict,
	        c->reason);
	if (fclose(f) != 0 || chmod(tmp, 0644) != 0 || rename(tmp, path) != 0)
		unlink(tmp);
	prune_cache(path);
}

/* ---- Report and commands. ---- */

static const char *const use_titles[] = {
    [CAP_NEEDED] = "capabilities mote needs",
    [CAP_USED] = "capabilities mote uses when present",
    [CAP_LATER] = "capabilities for later work",
};

static void report_caps(FILE *out, const struct check *c, enum cap_use use)
{
	fprintf(out, "%s:\n", use_titles[use]);
	for (size_t i = 0; i < NCAPS; i++) {
		int v = c->cap_value[i];

		if (caps[i].use != use)
			continue;
		if (v > 1)
			fprintf(out, "  yes  %-44s %s = %d\n", caps[i].what, caps[i].name, v);
		else
			fprintf(out, "  %-3s  %-44s %s\n", v > 0 ? "yes" : "no", caps[i].what,
			        caps[i].name);
	}
}

static void report_probe(FILE *out, const struct check *c)
{
	if (!c->probed)
		fprintf(out, "probe:   not run\n");
	else if (c->probe.ok)
		fprintf(out,
		        "probe:   got through every step in %.1f ms: protected mode, cpuid, long "
		        "mode, MSR, %s, int3 through its own IDT\n",
		        c->probe.ms,
		        c->probe.xsave_absent ? "no xsave (CPUID offers none)"
		                              : "xsetbv/xsave/xrstor");
	else
		fprintf(out, "probe:   failed after %.1f ms: %s\n", c->probe.ms, c->probe.why);
}

static void report(FILE *out, const struct check *c)
{
	fprintf(out, "device:  %s", c->device);
	if (c->verdict != KVM_ABSENT || c->api > 0)
		fprintf(out, " (KVM API %d)", c->api);
	fprintf(out, "\nmodule:  %s (%s)\n", c->module ? c->module->name : "other",
	        c->module         ? c->module->what
	        : c->modules_seen ? "not kvm_intel, kvm_amd or kvm_pvm"
	                          : "no KVM module loaded (/sys/module/kvm is absent)");
	if (c->api > 0) {
		report_caps(out, c, CAP_NEEDED);
		report_caps(out, c, CAP_USED);
		report_caps(out, c, CAP_LATER);
		report_probe(out, c);
	}
}

static void print_verdict(FILE *out, const struct check *c, const char *cached)
{
	static const char *const words[] = {
	    [KVM_USABLE] = "usable", [KVM_UNUSABLE] = "not usable", [KVM_ABSENT] = "no KVM"};

	fprintf(out, "verdict: %s", words[c->verdict]);
	if (c->verdict != KVM_USABLE)
		fprintf(out, ": %s", c->reason);
	if (cached)
		fprintf(out, " (cached for this boot in %s)", cached);
	fputc('\n', out);
}

static void check_usage(FILE *out)
{
	fputs("usage: mote kvm-check [--cached]\n"
	      "\n"
	      "Tells whether this host's KVM can run ordinary guest kernels: the module behind\n"
	      "the device, the capabilities mote uses, and a probe VM that does what a kernel\n"
	      "does early. Exit status: 0 usable, 1 not usable (with the reason), 2 no KVM\n"
	      "device or no permission to open it (with the fix).\n"
	      "\n"
	      "options:\n"
	      "  --cached     print only the verdict, from this boot's cache if there is one\n"
	      "               (as mote run uses it); else check and cache the verdict\n"
	      "  -h, --help   show this help\n"
	      "\n"
	      "environment:\n"
	      "  MOTE_KVM_DEVICE  KVM device to check (default /dev/kvm)\n"
	      "  MOTE_CACHE       cache directory (default ~/.cache/mote)\n",
	      out);
}

int kvm_check_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"cached", no_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct check c;
	char path[PATH_MAX];
	bool cached = false, have_path;
	int o;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'h') {
			check_usage(stdout);
			return 0;
		}
		if (o != 'c') {
			check_usage(stderr);
			return 2;
		}
		cached = true;
	}
	if (optind < argc) {
		fprintf(stderr, "mote: kvm-check: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	have_path = cache_path(path, sizeof(path)) == 0;
	memset(&c, 0, sizeof(c));
	c.device = kvm_device_path();
	if (cached && have_path && cache_read(path, &c) == 0) {
		print_verdict(stdout, &c, path);
		return (int)c.verdict;
	}
	check_host(&c);
	if (!cached)
		report(stdout, &c);
	print_verdict(stdout, &c, NULL);
	if (have_path)
		cache_write(path, &c);
	return (int)c.verdict;
}

int kvm_check_for_run(struct err *e)
{
	struct check c = {.device = kvm_device_path()};
	char path[PATH_MAX];
	bool have_path = cache_path(path, sizeof(path)) == 0;

	if (!have_path || cache_read(path, &c) < 0) {
		check_host(&c);
		if (have_path)
			cache_write(path, &c);
	}
	if (c.verdict != KVM_UNUSABLE)
		return 0;
	if (c.transient) {
		warnx_("could not tell whether %s runs ordinary guests (%s); going on", c.device,
		       c.reason);
		return 0;
	}
	return err_set(e,
	               "%s cannot run ordinary guests: %s. (The verdict of mote kvm-check, "
	               "cached for this boot of the host: mote kvm-check checks again; "
	               "--no-kvm-check runs the guest anyway)",
	               c.device, c.reason);
}
