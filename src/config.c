// SPDX-License-Identifier: MIT
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Splits the next ","-separated word off *@s into @word (of @size bytes);
 * false at the end. A word that does not fit is cut and ends in "...". */
static bool next_word(const char **s, char *word, size_t size)
{
	const char *end;
	size_t n;

	if (!*s || !**s)
		return false;
	end = strchr(*s, ',');
	n = end ? (size_t)(end - *s) : strlen(*s);
	if (n >= size && size > 4) {
		/* too long: the start of it, marked, so that the error names it */
		memcpy(word, *s, size - 4);
		memcpy(word + size - 4, "...", 4);
	} else if (n >= size) {
		word[0] = '\0';
	} else {
		memcpy(word, *s, n);
		word[n] = '\0';
	}
	*s = end ? end + 1 : NULL;
	return true;
}

/* Returns the value of "key=value" in @word, or NULL if the key differs. */
static const char *value_of(const char *word, const char *key)
{
	size_t n = strlen(key);

	return !strncmp(word, key, n) && word[n] == '=' ? word + n + 1 : NULL;
}

static int disk_word(const char *arg, const char *w, struct disk_config *d, struct err *e)
{
	const char *v;

	if (!strcmp(w, "ro")) {
		d->ro = true;
	} else if ((v = value_of(w, "id"))) {
		if (!*v || strlen(v) > BLK_ID_LEN)
			return err_set(e, "--disk %s: id '%s' must be 1 to %d bytes", arg, v,
			               BLK_ID_LEN);
		snprintf(d->id, sizeof(d->id), "%s", v);
	} else if ((v = value_of(w, "io"))) {
		if (!strcmp(v, "io_uring"))
			d->io = DISK_IO_URING;
		else if (!strcmp(v, "sync"))
			d->io = DISK_IO_SYNC;
		else
			return err_set(e, "--disk %s: io=%s is not io_uring or sync", arg, v);
	} else if ((v = value_of(w, "cache"))) {
		if (strcmp(v, "none") && strcmp(v, "writeback"))
			return err_set(e, "--disk %s: cache=%s is not none or writeback", arg, v);
		d->direct = !strcmp(v, "none");
	} else {
		return err_set(e,
		               "--disk %s: '%s' is not ro, id=ID, io=io_uring|sync or "
		               "cache=none|writeback",
		               arg, w);
	}
	return 0;
}

int config_parse_disk(const char *arg, struct disk_config *d, struct err *e)
{
	const char *s = arg;
	char w[4096];

	memset(d, 0, sizeof(*d));
	if (!next_word(&s, d->path, sizeof(d->path)) || !d->path[0])
		return err_set(e, "--disk '%s': no image path (or one of 4096 bytes or more)", arg);
	while (next_word(&s, w, sizeof(w)))
		if (disk_word(arg, w, d, e) < 0)
			return -1;
	return 0;
}

int config_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
	                              &b[4], &b[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (s[3 * i] == ' ' || s[3 * i] == '+' || s[3 * i] == '-')
			return -1; /* sscanf's %x would take a sign or a blank */
		mac[i] = (uint8_t)b[i];
	}
	return (mac[0] & 1) ? -1 : 0; /* a multicast address cannot be a NIC's */
}

int config_parse_net(const char *arg, struct net_config *n, struct err *e)
{
	const char *s = arg, *v;
	char w[64];

	memset(n, 0, sizeof(*n));
	while (next_word(&s, w, sizeof(w))) {
		if ((v = value_of(w, "tap"))) {
			if (!*v || strlen(v) >= sizeof(n->tap))
				return err_set(e, "--net %s: tap name must be 1 to %zu bytes", arg,
				               sizeof(n->tap) - 1);
			snprintf(n->tap, sizeof(n->tap), "%s", v);
		} else if ((v = value_of(w, "mac"))) {
			if (config_parse_mac(v, n->mac) < 0)
				return err_set(e,
				               "--net %s: mac=%s is not a unicast MAC "
				               "(aa:bb:cc:dd:ee:ff)",
				               arg, v);
			n->has_mac = true;
		} else {
			return err_set(e, "--net %s: '%s' is not tap=NAME or mac=MAC", arg, w);
		}
	}
	if (!n->tap[0])
		return err_set(e, "--net '%s': no tap=NAME", arg);
	return 0;
}

static int parse_cid(const char *arg, const char *v, uint32_t *cid, struct err *e)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || end == v || *end || *v == '-' || *v == '+' || n < 3 || n > 0xfffffffeULL)
		return err_set(e, "--vsock %s: cid=%s is not a guest CID (3 to 4294967294)", arg,
		               v);
	*cid = (uint32_t)n;
	return 0;
}

int config_parse_vsock(const char *arg, struct vsock_config *vs, struct err *e)
{
	const char *s = arg, *v;
	char w[256];

	memset(vs, 0, sizeof(*vs));
	while (next_word(&s, w, sizeof(w))) {
		if ((v = value_of(w, "cid"))) {
			if (parse_cid(arg, v, &vs->cid, e) < 0)
				return -1;
		} else if ((v = value_of(w, "uds"))) {
			/* PATH_P must fit too: room for "_" and a 10-digit port */
			if (!*v || strlen(v) + 11 >= sizeof(vs->uds))
				return err_set(e, "--vsock %s: uds path must be 1 to %zu bytes",
				               arg, sizeof(vs->uds) - 12);
			snprintf(vs->uds, sizeof(vs->uds), "%s", v);
		} else {
			return err_set(e, "--vsock %s: '%s' is not cid=N or uds=PATH", arg, w);
		}
	}
	if (!vs->cid || !vs->uds[0])
		return err_set(e, "--vsock '%s': needs both cid=N and uds=PATH", arg);
	vs->on = true;
	return 0;
}

/* Whether disks @a and @b are one image: the same file, or the same path. */
static bool same_image(const struct disk_config *a, const struct disk_config *b)
{
	struct stat sa, sb;

	if (!strcmp(a->path, b->path))
		return true;
	return stat(a->path, &sa) == 0 && stat(b->path, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int config_check(const struct vm_devices *d, struct err *e)
{
	char name[4200];
	int root = -1;

	for (int i = 0; i < d->nr_disks; i++) {
		for (int j = 0; j < i; j++)
			if (same_image(&d->disks[i], &d->disks[j]))
				return err_set(e,
				               "%s: the same image as disk %d (%s): a VM "
				               "gets each image once",
				               config_disk_name(&d->disks[i], name, sizeof(name)),
				               j, d->disks[j].path);
		if (d->disks[i].is_root && root >= 0)
			return err_set(e, "A root block device already exists! (%s and disk %d)",
			               config_disk_name(&d->disks[i], name, sizeof(name)), root);
		if (d->disks[i].is_root)
			root = i;
	}
	for (int i = 0; i < d->nr_nets; i++)
		for (int j = 0; j < i; j++) {
			if (!strcmp(d->nets[i].tap, d->nets[j].tap))
				return err_set(e,
				               "--net tap=%s: given twice (a tap serves one "
				               "interface)",
				               d->nets[i].tap);
			if (d->nets[i].has_mac && d->nets[j].has_mac &&
			    !memcmp(d->nets[i].mac, d->nets[j].mac, 6))
				return err_set(e,
				               "The MAC address is already in use: tap %s and tap "
				               "%s have %02x:%02x:%02x:%02x:%02x:%02x",
				               d->nets[i].tap, d->nets[j].tap, d->nets[i].mac[0],
				               d->nets[i].mac[1], d->nets[i].mac[2],
				               d->nets[i].mac[3], d->nets[i].mac[4],
				               d->nets[i].mac[5]);
		}
	return 0;
}

#define DEFAULT_MEMORY_MIB 128

void config_init(struct vm_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mem_size = (uint64_t)DEFAULT_MEMORY_MIB << 20;
	c->cpus = 1;
	c->devs.balloon.on = true;
	c->devs.balloon.free_page_reporting = true;
}

void config_free(struct vm_config *c)
{
	free(c->cmdline);
	c->cmdline = NULL;
}

int config_set_cmdline(struct vm_config *c, const char *s, struct err *e)
{
	char *copy = NULL;

	if (s && !(copy = strdup(s)))
		return err_set(e, "no memory for a command line of %zu bytes", strlen(s));
	free(c->cmdline);
	c->cmdline = copy;
	return 0;
}

const char *config_cmdline(const struct vm_config *c)
{
	return c->cmdline ? c->cmdline : CONFIG_DEFAULT_CMDLINE;
}

int config_find_disk(const struct vm_devices *d, const char *id)
{
	char name[16];

	for (int i = 0; i < d->nr_disks; i++) {
		snprintf(name, sizeof(name), "disk%d", i);
		if (!strcmp(d->disks[i].drive_id, id) ||
		    (!d->disks[i].drive_id[0] && !strcmp(name, id)))
			return i;
	}
	return -1;
}

/* How an error names disk @d: by its drive_id, or as the user gave it. */
const char *config_disk_name(const struct disk_config *d, char *buf, size_t size)
{
	if (d->drive_id[0])
		snprintf(buf, size, "drive '%s'", d->drive_id);
	else
		snprintf(buf, size, "--disk %s", d->path);
	return buf;
}

int config_check_balloon(const struct balloon_config *b, uint64_t mem_size, struct err *e)
{
	if (b->on && ((uint64_t)b->amount_mib << 20) > mem_size)
		return err_set(e, "balloon: amount_mib %u is more than the VM's %llu MiB",
		               b->amount_mib, (unsigned long long)(mem_size >> 20));
	return 0;
}

int config_check_vm(const struct vm_config *c, struct err *e)
{
	if (!c->kernel[0])
		return err_set(e, "no kernel: give --kernel, or boot-source's kernel_image_path");
	if (mem_check_size(c->mem_size, e) < 0)
		return -1;
	if (c->cpus < 1)
		return err_set(e, "%d vCPUs: a VM has at least 1", c->cpus);
	if (config_check_balloon(&c->devs.balloon, c->mem_size, e) < 0)
		return -1;
	return config_check(&c->devs, e);
}
