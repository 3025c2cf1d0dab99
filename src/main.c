// SPDX-License-Identifier: MIT
/* mote: a microVM monitor for Linux on KVM. */
#include "boot/boot.h"
#include "boot/cmdline.h"
#include "bus.h"
#include "config.h"
#include "device.h"
#include "err.h"
#include "kvm_check.h"
#include "mem.h"
#include "trace.h"
#include "vcpu.h"
#include "virtio/blk.h"
#include "vm.h"
#include "x86/acpi.h"
#include "x86/mptable.h"
#include "x86/breakpoint.h"
#include "x86/layout.h"

#include <errno.h>
#include <ctype.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define MOTE_VERSION    "0.1.0"
#define DEFAULT_MEMORY  "128M"
#define DEFAULT_CMDLINE "console=ttyS0"

struct run_options {
	struct boot_config boot;
	const char *memory;
	bool verbose;
	struct mem_opts mem;
	int trace; /* 0 off, 1 text, 2 JSON */
	bool no_balloon;
	bool no_kvm_check;
	bool no_acpi;
	int cpus;
	struct vm_devices devs;
};

static void usage(FILE *out)
{
	fputs("usage: mote <command> [options]\n"
	      "\n"
	      "commands:\n"
	      "  run        boot a Linux kernel in a new microVM (mote run --help)\n"
	      "  kvm-check  tell whether this host's KVM can run ordinary guests\n"
	      "             (mote kvm-check --help)\n"
	      "\n"
	      "options:\n"
	      "  -h, --help       show this help\n"
	      "  -V, --version    print mote's version\n"
	      "\n"
	      "environment:\n"
	      "  MOTE_KVM_DEVICE  KVM device to open (default /dev/kvm)\n",
	      out);
}

static void run_usage(FILE *out)
{
	fputs("usage: mote run --kernel PATH [options]\n"
	      "\n"
	      "Boots a kernel directly, without firmware: an uncompressed vmlinux through its\n"
	      "PVH entry, or a bzImage through the Linux 64-bit boot protocol. Kernel segments\n"
	      "and the initrd are mapped copy-on-write from their files into guest memory.\n"
	      "The serial console (COM1) is on stdin/stdout; Ctrl-A x quits, Ctrl-A d sends the\n"
	      "guest Ctrl-Alt-Del. mote exits 0 when the guest reboots or powers off.\n"
	      "\n"
	      "options:\n"
	      "  -k, --kernel PATH     kernel: PVH vmlinux or bzImage (required)\n"
	      "  -i, --initrd PATH     initial ramdisk (default: none)\n"
	      "  -c, --cmdline STR     kernel command line (default: \"" DEFAULT_CMDLINE "\")\n"
	      "  -m, --memory SIZE     guest RAM, e.g. 128M, 4G (default: " DEFAULT_MEMORY ")\n"
	      "      --cpus N          vCPUs, 1 up to KVM's limit (254 with ACPI); vCPU 0\n"
	      "                        boots, the others wait for the guest's INIT and SIPI\n"
	      "                        (default: 1)\n"
	      "      --no-acpi         no ACPI tables: the devices go on the kernel command\n"
	      "                        line, an MP table (MP spec 1.4) gives the vCPUs (default:\n"
	      "                        ACPI tables describe the vCPUs, the devices and poweroff)\n"
	      "      --memory-backend anon|memfd|hugetlb\n"
	      "                        guest RAM: private anonymous memory, a shared memfd, or\n"
	      "                        a memfd of 2 MiB huge pages (reserved on the host first:\n"
	      "                        /proc/sys/vm/nr_hugepages). With memfd and hugetlb the\n"
	      "                        kernel and initrd are copied, not mapped from their\n"
	      "                        files, so the memfd holds all of guest RAM (default:\n"
	      "                        anon)\n"
	      "      --thp, --no-thp   ask for transparent huge pages on guest RAM, or refuse\n"
	      "                        them (madvise); the kernel and initrd stay mapped in\n"
	      "                        4 KiB file pages (default: on for anon RAM from 2 GiB,\n"
	      "                        off below: see docs/memory.md)\n"
	      "      --prefault        populate all guest RAM at start instead of on first\n"
	      "                        touch (default: off)\n"
	      "      --private-images  copy the kernel and initrd into guest RAM instead of\n"
	      "                        mapping their files: for untrusted tenants, since\n"
	      "                        pages shared through the page cache are a channel\n"
	      "                        between VMs (default: mapped, with anon RAM; memfd and\n"
	      "                        hugetlb RAM always copy; see docs/security.md)\n"
	      "      --boot-trace[=text|json]\n"
	      "                        print, at exit, when the boot reached vm_created,\n"
	      "                        vmm_init_end, linux_start_kernel, linux_start_user and\n"
	      "                        guest_boot_done, in ms since mote started (default: off;\n"
	      "                        see docs/boot-trace.md)\n"
	      "      --disk PATH[,ro][,id=ID][,io=io_uring|sync][,cache=none|writeback]\n"
	      "                        a virtio-blk disk from a raw image file or block\n"
	      "                        device, repeatable (the first is /dev/vda): ro makes\n"
	      "                        it read-only, id= sets its serial (20 bytes at most),\n"
	      "                        io= its engine (default: io_uring where the host\n"
	      "                        allows it, else sync), cache=none reads and writes it\n"
	      "                        with O_DIRECT, past the host's page cache (default:\n"
	      "                        writeback). The image is locked while in\n"
	      "                        use: a second writer is refused\n"
	      "      --net tap=NAME[,mac=MAC]\n"
	      "                        a virtio-net interface on host tap device NAME,\n"
	      "                        repeatable (default MAC: 52:54:00 and a random tail)\n"
	      "      --vsock cid=N,uds=PATH\n"
	      "                        a virtio-vsock device with guest CID N; the host side\n"
	      "                        is Firecracker's: connect to PATH, write \"CONNECT\n"
	      "                        <port>\\n\"; guest connections to port P go to PATH_P\n"
	      "      --no-rng          no virtio-rng (default: an entropy device fed by\n"
	      "                        getrandom)\n"
	      "      --no-balloon      no virtio-balloon: by default the guest gets one with\n"
	      "                        free page reporting (guests with CONFIG_VIRTIO_BALLOON\n"
	      "                        give back the RAM they free; see docs/memory.md)\n"
	      "      --no-kvm-check    skip the check that this host's KVM runs ordinary guests\n"
	      "                        (default: checked once per boot of the host, as\n"
	      "                        mote kvm-check does, and the verdict cached)\n"
	      "  -v, --verbose         report how images were loaded and unhandled I/O at exit\n"
	      "  -h, --help            show this help\n",
	      out);
}

/* The vCPU count of --cpus: a whole number from 1; KVM's own limit is
 * checked when the VM is made. */
static int parse_cpus(const char *s)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end || !isdigit((unsigned char)*s))
		usage_error("--cpus '%s': not a number of vCPUs (1 or more)", s);
	if (n < 1 || n > 4096)
		usage_error("--cpus %s: a VM needs 1 to 4096 vCPUs (and no more than KVM allows)",
		            s);
	return (int)n;
}

static void add_disk(struct run_options *o, const char *arg)
{
	struct err e;

	if (o->devs.nr_disks == CONFIG_MAX_DISKS)
		usage_error("--disk %s: at most %d disks", arg, CONFIG_MAX_DISKS);
	if (config_parse_disk(arg, &o->devs.disks[o->devs.nr_disks], &e) < 0)
		usage_error("%s", e.msg);
	o->devs.nr_disks++;
}

static void add_net(struct run_options *o, const char *arg)
{
	struct err e;

	if (o->devs.nr_nets == CONFIG_MAX_NETS)
		usage_error("--net %s: at most %d network interfaces", arg, CONFIG_MAX_NETS);
	if (config_parse_net(arg, &o->devs.nets[o->devs.nr_nets], &e) < 0)
		usage_error("%s", e.msg);
	o->devs.nr_nets++;
}

static int parse_run(int argc, char **argv, struct run_options *o)
{
	static const struct option opts[] = {
	    {"kernel", required_argument, NULL, 'k'},
	    {"initrd", required_argument, NULL, 'i'},
	    {"cmdline", required_argument, NULL, 'c'},
	    {"memory", required_argument, NULL, 'm'},
	    {"cpus", required_argument, NULL, 'C'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"thp", no_argument, NULL, 'T'},
	    {"no-thp", no_argument, NULL, 'n'},
	    {"prefault", no_argument, NULL, 'P'},
	    {"private-images", no_argument, NULL, 'I'},
	    {"no-balloon", no_argument, NULL, 'N'},
	    {"no-kvm-check", no_argument, NULL, 'K'},
	    {"no-acpi", no_argument, NULL, 'A'},
	    {"memory-backend", required_argument, NULL, 'M'},
	    {"disk", required_argument, NULL, 'D'},
	    {"net", required_argument, NULL, 'E'},
	    {"vsock", required_argument, NULL, 'S'},
	    {"no-rng", no_argument, NULL, 'R'},
	    {"boot-trace", optional_argument, NULL, 'B'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct err e;
	int c;

	o->memory = DEFAULT_MEMORY;
	o->cpus = 1;
	o->boot.cmdline = DEFAULT_CMDLINE;
	while ((c = getopt_long(argc, argv, "k:i:c:m:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'k': o->boot.kernel = optarg; break;
		case 'i': o->boot.initrd = optarg; break;
		case 'c': o->boot.cmdline = optarg; break;
		case 'm': o->memory = optarg; break;
		case 'C': o->cpus = parse_cpus(optarg); break;
		case 'v': o->verbose = true; break;
		case 'T': o->mem.thp = MEM_THP_ON; break;
		case 'n': o->mem.thp = MEM_THP_OFF; break;
		case 'P': o->mem.prefault = true; break;
		case 'I': o->mem.private_images = true; break;
		case 'N': o->no_balloon = true; break;
		case 'K': o->no_kvm_check = true; break;
		case 'A': o->no_acpi = true; break;
		case 'D': add_disk(o, optarg); break;
		case 'E': add_net(o, optarg); break;
		case 'S':
			if (config_parse_vsock(optarg, &o->devs.vsock, &e) < 0)
				usage_error("%s", e.msg);
			break;
		case 'R': o->devs.no_rng = true; break;
		case 'M':
			if (mem_parse_backend(optarg, &o->mem.backend) < 0)
				usage_error("--memory-backend '%s': not a backend (anon, memfd or "
				            "hugetlb)",
				            optarg);
			break;
		case 'B':
			if (optarg && strcmp(optarg, "json") && strcmp(optarg, "text"))
				usage_error("--boot-trace=%s: not a format (text or json)", optarg);
			o->trace = optarg && !strcmp(optarg, "json") ? 2 : 1;
			break;
		case 'h': run_usage(stdout); exit(0);
		default: run_usage(stderr); return -1;
		}
	}
	if (optind < argc)
		usage_error("run: unexpected argument '%s' (see mote run --help)", argv[optind]);
	if (config_check(&o->devs, &e) < 0)
		usage_error("%s", e.msg);
	if (!o->boot.kernel)
		usage_error("run: no --kernel given (see mote run --help)");
	return 0;
}

static void report_load(const struct guest_mem *m, const struct boot_result *r)
{
	fprintf(stderr, "mote: guest RAM %llu MiB at host [0x%llx, 0x%llx)\n",
	        (unsigned long long)(m->size / MiB), (unsigned long long)(uintptr_t)m->host,
	        (unsigned long long)((uintptr_t)m->host + m->size));
	fprintf(stderr,
	        "mote: %s boot, entry 0x%llx; kernel %llu KiB mapped, %llu KiB copied; "
	        "initrd at 0x%llx, %llu KiB mapped, %llu KiB copied\n",
	        r->kind == BOOT_PVH ? "PVH" : "bzImage 64-bit", (unsigned long long)r->entry,
	        (unsigned long long)(r->kernel_stats.mapped / KiB),
	        (unsigned long long)(r->kernel_stats.copied / KiB),
	        (unsigned long long)r->initrd_addr,
	        (unsigned long long)(r->initrd_stats.mapped / KiB),
	        (unsigned long long)(r->initrd_stats.copied / KiB));
}

/* The guest's command line: the user's, with the devices' words (where the
 * virtio-mmio devices are) before any "--", since what follows is init's. */
static const char *guest_cmdline(const struct vm *vm, const char *user, bool acpi)
{
	static char buf[BOOT_CMDLINE_MAX];
	char devices[1024] = "";
	struct err e;

	if (strlen(user) >= sizeof(buf))
		die("command line is too long: %zu bytes", strlen(user));
	if (!acpi && devices_cmdline(vm, devices, sizeof(devices)) < 0)
		die("the devices' command-line words do not fit in %zu bytes", sizeof(devices));
	if (cmdline_build(user, devices + (devices[0] == ' '), buf, sizeof(buf), &e) < 0)
		die("%s", e.msg);
	return buf;
}

static void dsdt_devices(void *opaque, struct aml *a)
{
	devices_aml(opaque, a);
}

/* The ACPI tables, in guest RAM before the kernel goes in. */
static void build_acpi(struct vm *vm, struct boot_config *c)
{
	uint64_t t0 = trace_now();
	struct err e;

	c->rsdp = acpi_build(&vm->mem, vm->nr_vcpus, dsdt_devices, vm, &e);
	if (!c->rsdp)
		die("%s", e.msg);
	c->acpi_base = ACPI_BASE;
	c->acpi_size = ACPI_SIZE;
	trace_acpi_build(trace_now() - t0);
}

/* Runs beside the guest: finds the breakpoint's target in the vmlinux. */
static void find_breakpoint_target(struct vm *vm, void *kernel)
{
	uint64_t addr = boot_find_init_exec(kernel);

	breakpoint_set_target(&vm->vcpus[0], addr ? addr : BREAKPOINT_NONE);
	vcpu_kick(&vm->vcpus[0]);
}

/* linux_start_user for kernels without the guest kit's codes: a breakpoint
 * on the init-exec function of a PVH vmlinux with symbols. */
static void arm_breakpoint(struct vm *vm, const struct boot_result *r, const char *kernel)
{
	if (r->kind != BOOT_PVH || breakpoint_arm(&vm->vcpus[0], r->entry) < 0)
		return;
	vm->deferred = find_breakpoint_target;
	vm->deferred_arg = (void *)(uintptr_t)kernel;
}

/* Every disk, tap and vsock connection is an fd: raise the soft limit to
 * the hard one, so that vsock's connection cap is reached before it. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int cmd_run(int argc, char **argv)
{
	struct run_options o = {0};
	struct boot_result r;
	struct err e;
	struct vm vm;
	uint64_t mem_size;
	size_t user_len;
	int status;

	if (parse_run(argc, argv, &o) < 0)
		return 2;
	raise_fd_limit();
	if (parse_size(o.memory, &mem_size) < 0)
		usage_error("--memory '%s': not a size (use e.g. 128M or 4G)", o.memory);
	if (vm_init(&vm, mem_size, &o.mem, &e) < 0)
		die("--memory %s: %s", o.memory, e.msg);
	vm.balloon = !o.no_balloon;
	vm.nr_vcpus = o.cpus;
	vm.no_acpi = o.no_acpi;
	vm.devs = &o.devs;
	if (devices_plan(&vm) < 0)
		die("the devices cannot be set up (see above)");
	user_len = strlen(o.boot.cmdline);
	o.boot.cmdline = guest_cmdline(&vm, o.boot.cmdline, !o.no_acpi);
	if (strlen(o.boot.cmdline) > user_len)
		o.boot.cmdline_added = strlen(o.boot.cmdline) - user_len;
	if (!o.no_acpi)
		build_acpi(&vm, &o.boot);
	else if (!mptable_build(&vm.mem, vm.nr_vcpus, &e))
		die("%s", e.msg);
	if (boot_load(&vm.mem, &o.boot, &r, &e) < 0)
		die("%s", e.msg);
	if (o.verbose) {
		report_load(&vm.mem, &r);
		blk_describe(stderr);
		fprintf(stderr, "mote: guest command line: %s\n", o.boot.cmdline);
	}
	vm.boot_trace = o.trace != 0;
	if (!o.no_kvm_check && kvm_check_for_run(&e) < 0)
		die("%s", e.msg);
	if (vm_create(&vm, &e) < 0)
		die("%s", e.msg);
	boot_enter(vm.vcpus[0].fd, &vm.mem, &r);
	if (o.trace)
		arm_breakpoint(&vm, &r, o.boot.kernel);
	status = vm_run(&vm);
	if (o.trace)
		trace_report(stderr, o.trace == 2);
	if (o.verbose)
		fprintf(stderr,
		        "mote: %s; unhandled accesses: %llu port I/O, %llu MMIO; the balloon gave "
		        "back %llu KiB\n",
		        vm.exit_msg, (unsigned long long)bus_unhandled(BUS_PIO),
		        (unsigned long long)bus_unhandled(BUS_MMIO),
		        (unsigned long long)(vm.balloon_returned / KiB));
	vm_destroy(&vm);
	return status;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		puts("mote " MOTE_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "kvm-check"))
		return kvm_check_cmd(argc - 1, argv + 1);
	fprintf(stderr, "mote: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
