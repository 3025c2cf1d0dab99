// SPDX-License-Identifier: MIT
/* The guest kit's init: proves the guest reached userspace, then reboots.
 *
 * It mounts /proc, prints the marker line the tests look for, its wall
 * clock (seconds since the epoch), the kernel's uname, the guest's memory and how long the kernel
 * took to reach init, and reboots (mote exits 0 on a guest reboot). Kernel command-line words after
 * "--" reach it as arguments: "hold=N" waits N seconds before rebooting (so
 * a test can look at the running VM), "exit=N" with N not 0 makes init exit
 * instead, which panics the kernel, "poweroff" powers the machine off
 * instead of rebooting it (ACPI S5), and "report=N" sets the free page
 * reporting order (sysfs page_reporting_order) to N before the report: a
 * balloon then hears of freed blocks of 2^N pages, not only of 2 MiB.
 * "dmesg" prints the kernel's log after the report (with printk.time=1 on
 * the kernel's command line: where a boot spent its time, undisturbed by
 * console output while it ran). */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define MARKER         "MOTE-GUEST-INIT-OK"
#define POST_PORT      0x80  /* Cloud Hypervisor's progress codes */
#define POST_USERSPACE 0x70  /* in its userspace range 0x60-0x7f */
#define BOOT_DONE_PORT 0x3f0 /* Firecracker's boot timer (I/O port) */
#define BOOT_DONE      123

static sigjmp_buf port_fault;

static void on_port_fault(int sig)
{
	siglongjmp(port_fault, sig);
}

/* Writes a boot-progress byte for the monitor's boot trace; a kernel without
 * ioperm or a monitor that ignores the port make it a no-op. So does an out
 * that faults although ioperm allowed it (seen in QEMU's pc and q35 machines
 * inside the nested runner): init must never die of a boot signal. */
static void boot_signal(unsigned short port, unsigned char value)
{
	struct sigaction sa = {.sa_handler = on_port_fault}, old;

	if (ioperm(port, 1, 1) != 0)
		return;
	sigaction(SIGSEGV, &sa, &old);
	if (!sigsetjmp(port_fault, 1))
		outb(value, port);
	else
		fprintf(stderr, "init: writing port 0x%x faulted; no boot signal\n", port);
	sigaction(SIGSEGV, &old, NULL);
}

#define REPORTING_ORDER "/sys/module/page_reporting/parameters/page_reporting_order"

/* Sets the free page reporting order from "report=N" (kernels with a balloon driver). */
static void set_reporting_order(const char *order)
{
	FILE *f;
	int ok;

	mkdir("/sys", 0755);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	f = fopen(REPORTING_ORDER, "w");
	if (!f) {
		printf("init: cannot open %s (no free page reporting here)\n", REPORTING_ORDER);
		return;
	}
	ok = fprintf(f, "%s\n", order) > 0;
	if (fclose(f) != 0 || !ok)
		printf("init: cannot set %s (no free page reporting here)\n", REPORTING_ORDER);
}

#define KLOG_READ_ALL 3
#define KLOG_SIZE     10

static void print_kernel_log(void)
{
	int size = klogctl(KLOG_SIZE, NULL, 0), n;
	char *buf = size > 0 ? malloc((size_t)size) : NULL;

	if (!buf || (n = klogctl(KLOG_READ_ALL, buf, size)) < 0) {
		printf("init: cannot read the kernel's log\n");
		free(buf);
		return;
	}
	fwrite(buf, 1, (size_t)n, stdout);
	free(buf);
}

/* The guest's wall clock (kvm-clock's, or the RTC's), for a test to hold
 * against the host's. */
static void print_wallclock(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_REALTIME, &t) == 0)
		printf("wallclock: %lld.%09ld\n", (long long)t.tv_sec, t.tv_nsec);
}

static double uptime(void)
{
	FILE *f = fopen("/proc/uptime", "r");
	double up = -1.0;

	if (f) {
		if (fscanf(f, "%lf", &up) != 1)
			up = -1.0;
		fclose(f);
	}
	return up;
}

int main(int argc, char **argv)
{
	struct utsname u;
	struct sysinfo si;

	boot_signal(POST_PORT, POST_USERSPACE);
	mount("proc", "/proc", "proc", 0, NULL);
	printf("%s\n", MARKER);
	print_wallclock();
	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "report=", 7))
			set_reporting_order(argv[i] + 7);
	if (uname(&u) == 0)
		printf("uname: %s %s %s %s\n", u.sysname, u.release, u.version, u.machine);
	if (sysinfo(&si) == 0)
		printf("memory: %lu KiB total, %lu KiB free\n",
		       (unsigned long)(si.totalram * si.mem_unit / 1024),
		       (unsigned long)(si.freeram * si.mem_unit / 1024));
	printf("cpus: %ld online\n", sysconf(_SC_NPROCESSORS_ONLN));
	printf("boot: kernel reached init after %.3f s (guest clock)\n", uptime());
	fflush(stdout);
	boot_signal(BOOT_DONE_PORT, BOOT_DONE);
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "dmesg"))
			print_kernel_log();
	fflush(stdout);
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "hold=", 5))
			sleep((unsigned)atoi(argv[i] + 5));
		if (!strncmp(argv[i], "exit=", 5) && atoi(argv[i] + 5) != 0)
			return 1; /* init exits: the kernel panics */
	}
	sync();
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "poweroff"))
			reboot(RB_POWER_OFF);
	reboot(RB_AUTOBOOT);
	return 1;
}
