// SPDX-License-Identifier: MIT
/* mote: a microVM monitor for Linux on KVM. */
#include "api/api.h"
#include "api/client.h"
#include "config.h"
#include "err.h"
#include "fc_config.h"
#include "kvm_check.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "trace.h"
#include "snapshot/memory.h"
#include "snapshot/migrate.h"
#include "vmm.h"

#include <errno.h>
#include <ctype.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define DEFAULT_MEMORY  "128M"
#define DEFAULT_CMDLINE CONFIG_DEFAULT_CMDLINE

struct run_options {
	struct vm_config *cfg;   /* the VMM's own: filled in place, never copied */
	const char *api_sock;    /* --api-sock PATH */
	const char *config_file; /* --config-file FILE */
	const char *vm_option;   /* the first option that configures the VM itself */
	const char *vm_shape;    /* the first of them that is not about guest RAM's backing */
	const char *restore;     /* --restore DIR */
	const char *incoming;    /* --incoming URL */
};

static void usage(FILE *out)
{
	fputs("usage: mote <command> [options]\n"
	      "\n"
	      "commands:\n"
	      "  run        boot a Linux kernel in a new microVM (mote run --help)\n"
	      "  migrate    move the VM of a running mote to another (mote migrate --help)\n"
	      "  merge-diff fold a Diff snapshot's memory into its base (mote merge-diff --help)\n"
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
	      "       mote run --config-file FILE [--api-sock PATH]\n"
	      "       mote run --api-sock PATH\n"
	      "       mote run --restore DIR [--api-sock PATH] [--memory-backend ...]\n"
	      "\n"
	      "Boots a kernel directly, without firmware: an uncompressed vmlinux through its\n"
	      "PVH entry, or a bzImage through the Linux 64-bit boot protocol. Kernel segments\n"
	      "and the initrd are mapped copy-on-write from their files into guest memory.\n"
	      "The serial console (COM1) is on stdin/stdout; Ctrl-A x quits, Ctrl-A d sends the\n"
	      "guest Ctrl-Alt-Del. mote exits 0 when the guest reboots or powers off.\n"
	      "\n"
	      "options:\n"
	      "  -k, --kernel PATH     kernel: PVH vmlinux or bzImage (required unless a\n"
	      "                        config file or the API gives it)\n"
	      "      --api-sock PATH   serve Firecracker's REST API (HTTP/1.1) on the Unix\n"
	      "                        socket PATH, made with mode 0600 (an existing PATH is\n"
	      "                        refused); without a kernel, mote waits for the API's\n"
	      "                        InstanceStart (see docs/api.md)\n"
	      "      --restore DIR     resume the VM snapshot DIR/vmstate with its memory\n"
	      "                        DIR/memory (PUT /snapshot/create writes them; see\n"
	      "                        docs/snapshots.md); the snapshot says what the VM is,\n"
	      "                        --memory-backend, --thp and --prefault how its RAM is\n"
	      "                        held (anon: the memory file is mapped copy-on-write)\n"
	      "      --incoming tcp:HOST:PORT|unix:PATH\n"
	      "                        wait there for one migration (mote migrate) and run\n"
	      "                        the VM it brings; HOST is numeric, localhost, or empty\n"
	      "                        for every address (see docs/snapshots.md)\n"
	      "      --config-file FILE\n"
	      "                        boot the VM Firecracker's JSON config FILE describes\n"
	      "                        (boot-source, machine-config, drives, ...); not with\n"
	      "                        the options that describe the VM\n"
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
	      "      --keep-probes     leave out the words mote adds to the guest's command\n"
	      "                        line so that Linux does not probe for hardware mote\n"
	      "                        does not have: pci=off, 8250.nr_uarts=1 (a word of\n"
	      "                        your own for the same parameter always wins; -v names\n"
	      "                        each) (default: added)\n"
	      "      --no-unpack       boot a bzImage as it is: the guest decompresses it\n"
	      "                        (its decompressor's KASLR of the kernel comes with\n"
	      "                        it) (default: a bzImage whose kernel has a PVH entry\n"
	      "                        boots through that entry, from an uncompressed copy\n"
	      "                        kept in ~/.cache/mote/vmlinux, made once on the host\n"
	      "                        and shared by every VM of that kernel)\n"
	      "      --track-dirty-pages\n"
	      "                        log the pages the guest writes, so that the API can\n"
	      "                        take Diff snapshots (machine-config track_dirty_pages;\n"
	      "                        also with --restore) (default: off)\n"
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

static void add_disk(struct vm_devices *d, const char *arg)
{
	struct err e;

	if (d->nr_disks == CONFIG_MAX_DISKS)
		usage_error("--disk %s: at most %d disks", arg, CONFIG_MAX_DISKS);
	if (config_parse_disk(arg, &d->disks[d->nr_disks], &e) < 0)
		usage_error("%s", e.msg);
	d->nr_disks++;
}

static void add_net(struct vm_devices *d, const char *arg)
{
	struct err e;

	if (d->nr_nets == CONFIG_MAX_NETS)
		usage_error("--net %s: at most %d network interfaces", arg, CONFIG_MAX_NETS);
	if (config_parse_net(arg, &d->nets[d->nr_nets], &e) < 0)
		usage_error("%s", e.msg);
	d->nr_nets++;
}

static void set_path(char *dst, size_t size, const char *opt, const char *path)
{
	if (!*path || strlen(path) >= size)
		usage_error("%s '%s': a path of 1 to %zu bytes", opt, path, size - 1);
	snprintf(dst, size, "%s", path);
}

/* Applies the options that describe the VM itself (not --api-sock,
 * --config-file, --boot-trace, --verbose, --no-kvm-check); false if @c is
 * not one of them. */
static bool vm_option(struct vm_config *cfg, int c, const char *arg)
{
	struct err e;

	switch (c) {
	case 'k': set_path(cfg->kernel, sizeof(cfg->kernel), "--kernel", arg); break;
	case 'i': set_path(cfg->initrd, sizeof(cfg->initrd), "--initrd", arg); break;
	case 'c':
		if (config_set_cmdline(cfg, arg, &e) < 0)
			usage_error("%s", e.msg);
		break;
	case 'm':
		if (parse_size(arg, &cfg->mem_size) < 0)
			usage_error("--memory '%s': not a size (use e.g. 128M or 4G)", arg);
		break;
	case 'C': cfg->cpus = parse_cpus(arg); break;
	case 'T': cfg->mem.thp = MEM_THP_ON; break;
	case 'n': cfg->mem.thp = MEM_THP_OFF; break;
	case 'P': cfg->mem.prefault = true; break;
	case 'I': cfg->mem.private_images = true; break;
	case 'N': cfg->devs.balloon.on = false; break;
	case 'A': cfg->no_acpi = true; break;
	case 'D': add_disk(&cfg->devs, arg); break;
	case 'E': add_net(&cfg->devs, arg); break;
	case 'S':
		if (config_parse_vsock(arg, &cfg->devs.vsock, &e) < 0)
			usage_error("%s", e.msg);
		break;
	case 'R': cfg->devs.no_rng = true; break;
	case 'W': cfg->track_dirty_pages = true; break;
	case 'M':
		if (mem_parse_backend(arg, &cfg->mem.backend) < 0)
			usage_error("--memory-backend '%s': not a backend (anon, memfd or "
			            "hugetlb)",
			            arg);
		break;
	default: return false;
	}
	return true;
}

/* "--name" of the option that getopt_long returned as @c. */
static const char *option_name(const struct option *opts, int c)
{
	static char buf[32];

	while (opts->name && opts->val != c)
		opts++;
	snprintf(buf, sizeof(buf), "--%s", opts->name ? opts->name : "?");
	return buf;
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
	    {"track-dirty-pages", no_argument, NULL, 'W'},
	    {"keep-probes", no_argument, NULL, 'Q'},
	    {"no-unpack", no_argument, NULL, 'U'},
	    {"boot-trace", optional_argument, NULL, 'B'},
	    {"api-sock", required_argument, NULL, 'a'},
	    {"config-file", required_argument, NULL, 'F'},
	    {"restore", required_argument, NULL, 'r'},
	    {"incoming", required_argument, NULL, 'G'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct vm_config *cfg = o->cfg;
	int c, idx = 0;

	while ((c = getopt_long(argc, argv, "k:i:c:m:vh", opts, &idx)) != -1) {
		if (vm_option(cfg, c, optarg)) {
			if (!o->vm_option)
				o->vm_option = option_name(opts, c);
			if (!o->vm_shape && !strchr("MTnPW", c))
				o->vm_shape = option_name(opts, c);
			continue;
		}
		switch (c) {
		case 'v': cfg->verbose = true; break;
		case 'K': cfg->no_kvm_check = true; break;
		case 'Q': cfg->keep_probes = true; break;
		case 'U': cfg->no_unpack = true; break;
		case 'a': o->api_sock = optarg; break;
		case 'F': o->config_file = optarg; break;
		case 'r': o->restore = optarg; break;
		case 'G': o->incoming = optarg; break;
		case 'B':
			if (optarg && strcmp(optarg, "json") && strcmp(optarg, "text"))
				usage_error("--boot-trace=%s: not a format (text or json)", optarg);
			cfg->trace = optarg && !strcmp(optarg, "json") ? 2 : 1;
			break;
		case 'h': run_usage(stdout); exit(0);
		default: run_usage(stderr); return -1;
		}
	}
	if (optind < argc)
		usage_error("run: unexpected argument '%s' (see mote run --help)", argv[optind]);
	if (o->restore && (o->config_file || o->vm_shape))
		usage_error("run: --restore %s: the snapshot describes the VM, not %s", o->restore,
		            o->config_file ? "--config-file" : o->vm_shape);
	if (o->config_file && o->vm_option)
		usage_error("run: %s describes the VM, and so does --config-file %s: give one",
		            o->vm_option, o->config_file);
	if (o->api_sock && !o->config_file && !cfg->kernel[0] && o->vm_option)
		usage_error("run: %s without --kernel: a VM configured through --api-sock %s gets "
		            "its devices and sizes from the API (or give --kernel too)",
		            o->vm_option, o->api_sock);
	if (!cfg->kernel[0] && !o->config_file && !o->api_sock && !o->restore && !o->incoming)
		usage_error("run: no --kernel given (see mote run --help)");
	return 0;
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

/* Starts the configuration over from Firecracker's defaults (for a config
 * file or the API), keeping the command line's own options: trace,
 * verbose, KVM check, how the kernel boots (--keep-probes, --no-unpack). */
static void firecracker_defaults(struct run_options *o)
{
	struct vm_config *c = o->cfg;
	int trace = c->trace;
	bool verbose = c->verbose, no_kvm_check = c->no_kvm_check;
	bool keep_probes = c->keep_probes, no_unpack = c->no_unpack;

	config_free(c);
	fc_config_init(c);
	c->trace = trace;
	c->verbose = verbose;
	c->no_kvm_check = no_kvm_check;
	c->keep_probes = keep_probes;
	c->no_unpack = no_unpack;
}

static void load_config_file(struct run_options *o)
{
	struct err e;

	firecracker_defaults(o);
	if (fc_config_file(o->cfg, o->config_file, &e) < 0)
		usage_error("%s", e.msg);
}

/* The logger and metrics a config file asked for. */
static int open_outputs(const struct vm_config *c, struct err *e)
{
	if (c->logger.path[0] && log_open(c->logger.path, (enum log_level)c->logger.level,
	                                  c->logger.show_level, c->logger.show_origin, e) < 0)
		return -1;
	return c->metrics_path[0] ? metrics_open(c->metrics_path, e) : 0;
}

/* --restore DIR: the snapshot's VM, running, instead of a boot. */
static int restore(const struct run_options *o, struct vmm *m, struct api *api)
{
	char state[4096], mem[4096];
	struct err e;

	if (snprintf(state, sizeof(state), "%s/vmstate", o->restore) >= (int)sizeof(state) ||
	    snprintf(mem, sizeof(mem), "%s/memory", o->restore) >= (int)sizeof(mem))
		usage_error("--restore %s: path too long", o->restore);
	if (vmm_restore(m, state, mem, true, &e) < 0) {
		if (api)
			api_close(api);
		die("--restore %s: %s", o->restore, e.msg);
	}
	return api ? api_run(api, m) : vmm_run(m, NULL, NULL);
}

/* --incoming URL: the VM a migration brings, running. */
static int incoming(const struct run_options *o, struct vmm *m, struct api *api)
{
	struct err e;

	if (migrate_receive(m, o->incoming, &e) < 0) {
		if (api)
			api_close(api);
		die("--incoming %s: %s", o->incoming, e.msg);
	}
	return api ? api_run(api, m) : vmm_run(m, NULL, NULL);
}

static int cmd_run(int argc, char **argv)
{
	struct run_options o = {0};
	struct api *api = NULL;
	struct vmm m;
	struct err e;
	int status;

	vmm_init(&m);
	o.cfg = &m.cfg;
	if (parse_run(argc, argv, &o) < 0)
		return 2;
	raise_fd_limit();
	if (o.config_file)
		load_config_file(&o);
	else if (o.api_sock && !m.cfg.kernel[0])
		firecracker_defaults(&o); /* configured through the API */
	/* the devices' rules are the command line's: as before, exit 2 */
	if (config_check(&m.cfg.devs, &e) < 0 || open_outputs(&m.cfg, &e) < 0)
		usage_error("%s", e.msg);
	if (o.api_sock && api_open(&api, o.api_sock, &m, &e) < 0)
		die("%s", e.msg);
	if (api && vmm_precreate(&m, &e) < 0) {
		api_close(api);
		die("%s", e.msg);
	}
	if (o.restore) {
		status = restore(&o, &m, api);
	} else if (o.incoming) {
		status = incoming(&o, &m, api);
	} else if (!m.cfg.kernel[0]) {
		/* Firecracker's way: configure and start through the API */
		status = api_wait_start(api, &m);
	} else if (vmm_build(&m, &e) < 0) {
		if (api)
			api_close(api);
		die("%s", e.msg);
	} else {
		status = api ? api_run(api, &m) : vmm_run(&m, NULL, NULL);
	}
	if (api)
		api_close(api);
	vmm_destroy(&m);
	return status;
}

static void migrate_usage(FILE *out)
{
	fputs("usage: mote migrate --api-sock PATH [--max-downtime-ms N] tcp:HOST:PORT|unix:PATH\n"
	      "\n"
	      "Moves the VM of the mote serving the API socket PATH to the mote waiting with\n"
	      "mote run --incoming at the address (PUT /migration/send): memory is copied while\n"
	      "the guest runs, then the guest stops for at most about N ms (default 300) while\n"
	      "the rest goes. Prints what was sent; the source mote then exits 0.\n",
	      out);
}

static int cmd_migrate(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"api-sock", required_argument, NULL, 'a'},
	    {"max-downtime-ms", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *sock = NULL;
	unsigned long downtime = 300;
	char body[1024], answer[4096], *end;
	struct err e;
	int c, status;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': sock = optarg; break;
		case 'd':
			downtime = strtoul(optarg, &end, 10);
			if (*end || !*optarg || downtime > 3600000)
				usage_error(
				    "--max-downtime-ms %s: not a number of ms up to 3600000",
				    optarg);
			break;
		case 'h': migrate_usage(stdout); return 0;
		default: migrate_usage(stderr); return 2;
		}
	}
	if (!sock || optind != argc - 1)
		usage_error(
		    "migrate: give --api-sock PATH and one destination (see mote migrate --help)");
	if (strchr(argv[optind], '"') || strchr(argv[optind], '\\') ||
	    snprintf(body, sizeof(body), "{\"destination_url\":\"%s\",\"max_downtime_ms\":%lu}",
	             argv[optind], downtime) >= (int)sizeof(body))
		usage_error("migrate: %s: not a destination", argv[optind]);
	if (api_client_call(sock, "PUT", "/migration/send", body, &status, answer, sizeof(answer),
	                    &e) < 0)
		die("%s", e.msg);
	printf("%s\n", answer);
	return status == 200 ? 0 : 1;
}

static void merge_usage(FILE *out)
{
	fputs("usage: mote merge-diff BASE DIFF\n"
	      "\n"
	      "Copies the pages of DIFF, the memory file of a Diff snapshot, over BASE, the\n"
	      "memory file of the snapshot it was taken after, and syncs BASE: BASE then goes\n"
	      "with the Diff's state file. BASE is changed in place (copy it first to keep it).\n",
	      out);
}

static int cmd_merge_diff(int argc, char **argv)
{
	uint64_t bytes;
	struct err e;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		merge_usage(stdout);
		return 0;
	}
	if (argc != 3) {
		merge_usage(stderr);
		return 2;
	}
	if (mem_merge_diff(argv[1], argv[2], &bytes, &e) < 0)
		die("merge-diff: %s", e.msg);
	printf("merged %llu bytes of %s into %s\n", (unsigned long long)bytes, argv[2], argv[1]);
	return 0;
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
	if (!strcmp(argv[1], "migrate"))
		return cmd_migrate(argc - 1, argv + 1);
	if (!strcmp(argv[1], "merge-diff"))
		return cmd_merge_diff(argc - 1, argv + 1);
	if (!strcmp(argv[1], "kvm-check"))
		return kvm_check_cmd(argc - 1, argv + 1);
	fprintf(stderr, "mote: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
