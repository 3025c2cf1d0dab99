// SPDX-License-Identifier: MIT
/*
 * Firecracker's objects, as its OpenAPI description (firecracker.yaml) and
 * its config file have them, checked field by field: an unknown field, a
 * value of the wrong type or out of range is refused, in words close to
 * Firecracker's (serde's "unknown field `x`", "missing field `x`"), and the
 * configuration is only changed when the whole object is good. The rules
 * about the whole VM are config_check_vm's, shared with the command line.
 */
#include "fc_config.h"

#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FC_MAX_DEPTH 32

enum fc_type { FC_STR, FC_BOOL, FC_U32, FC_OBJ, FC_ARRAY };

struct fc_field {
	const char *name;
	enum fc_type type;
	bool required;
	bool nullable; /* null is taken as "not given" */
};

/* The offset of a single quote outside a string (json-c takes 'key' even
 * in strict mode; JSON does not), or -1. */
static long single_quote(const char *buf, size_t len)
{
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		if (in_str && buf[i] == '\\')
			i++;
		else if (buf[i] == '"')
			in_str = !in_str;
		else if (!in_str && buf[i] == '\'')
			return (long)i;
	}
	return -1;
}

int fc_parse(const char *buf, size_t len, json_object **out, struct err *e)
{
	return fc_parse_max(buf, len, FC_MAX_PAYLOAD, out, e);
}

int fc_parse_max(const char *buf, size_t len, size_t max, json_object **out, struct err *e)
{
	struct json_tokener *tok;
	json_object *o;
	enum json_tokener_error je;
	size_t end;

	*out = NULL;
	if (len > max)
		return err_set(e, "%zu bytes, larger than the limit of %zu", len, max);
	if (len == 0)
		return err_set(e, "the body is empty: a JSON object is expected");
	if (single_quote(buf, len) >= 0)
		return err_set(e, "the body is not valid JSON: a single quote at byte %ld",
		               single_quote(buf, len));
	tok = json_tokener_new_ex(FC_MAX_DEPTH);
	if (!tok)
		return err_set(e, "no memory for a JSON parser");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	je = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (je == json_tokener_continue) {
		json_object_put(o);
		return err_set(e, "the JSON body ends in the middle of a value");
	}
	if (je != json_tokener_success || !o) {
		json_object_put(o);
		return err_set(e, "the body is not valid JSON: %s at byte %zu",
		               json_tokener_error_desc(je), end);
	}
	while (end < len &&
	       (buf[end] == ' ' || buf[end] == '\t' || buf[end] == '\r' || buf[end] == '\n'))
		end++;
	if (end < len) {
		json_object_put(o);
		return err_set(e, "the body is not valid JSON: trailing characters at byte %zu",
		               end);
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return err_set(e, "the body must be a JSON object");
	}
	*out = o;
	return 0;
}

static const char *type_name(enum fc_type t)
{
	switch (t) {
	case FC_STR: return "a string";
	case FC_BOOL: return "a boolean";
	case FC_U32: return "u32";
	case FC_OBJ: return "an object";
	case FC_ARRAY: return "an array";
	}
	return "?";
}

static bool type_ok(json_object *v, enum fc_type t)
{
	switch (t) {
	case FC_STR: /* a "\u0000" would cut a path or an id short */
		return json_object_is_type(v, json_type_string) &&
		       strlen(json_object_get_string(v)) == (size_t)json_object_get_string_len(v);
	case FC_BOOL: return json_object_is_type(v, json_type_boolean);
	case FC_U32:
		if (!json_object_is_type(v, json_type_int))
			return false;
		errno = 0;
		return json_object_get_int64(v) >= 0 && json_object_get_int64(v) <= UINT32_MAX &&
		       !(json_object_get_int64(v) == INT64_MAX && errno);
	case FC_OBJ: return json_object_is_type(v, json_type_object);
	case FC_ARRAY: return json_object_is_type(v, json_type_array);
	}
	return false;
}

/* The fields of @o against @f (ending in a NULL name); -1 with @e. */
static int fc_check(json_object *o, const char *what, const struct fc_field *f, struct err *e)
{
	if (!json_object_is_type(o, json_type_object))
		return err_set(e, "%s: invalid type: expected an object", what);
	json_object_object_foreach(o, key, val)
	{
		const struct fc_field *k = f;
		char names[512] = "";

		while (k->name && strcmp(k->name, key))
			k++;
		if (!k->name) {
			for (k = f; k->name; k++)
				snprintf(names + strlen(names), sizeof(names) - strlen(names),
				         "%s`%s`", k == f ? "" : ", ", k->name);
			return err_set(e, "%s: unknown field `%.64s`, expected one of %s", what,
			               key, names);
		}
		if (val == NULL && k->nullable)
			continue;
		if (!val || !type_ok(val, k->type))
			return err_set(e, "%s: invalid type for `%s`: expected %s", what, key,
			               type_name(k->type));
	}
	for (; f->name; f++)
		if (f->required && !json_object_object_get_ex(o, f->name, NULL))
			return err_set(e, "%s: missing field `%s`", what, f->name);
	return 0;
}

int fc_only_fields(json_object *o, const char *what, const char *const *names, struct err *e)
{
	struct fc_field f[16] = {{0}};
	int n = 0;

	for (; names[n] && n < 15; n++)
		f[n] = (struct fc_field){names[n], FC_OBJ, false, true};
	if (!json_object_is_type(o, json_type_object))
		return err_set(e, "%s: invalid type: expected an object", what);
	json_object_object_foreach(o, key, val)
	{
		int i = 0;

		(void)val;
		while (i < n && strcmp(f[i].name, key))
			i++;
		if (i == n)
			return err_set(e, "%s: unknown field `%.64s`", what, key);
	}
	return 0;
}

/* The field @name of @o, or NULL if absent or null. */
static json_object *field(json_object *o, const char *name)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, name, &v);
	return v;
}

static const char *str_field(json_object *o, const char *name)
{
	json_object *v = field(o, name);

	return v ? json_object_get_string(v) : NULL;
}

static bool bool_field(json_object *o, const char *name, bool dflt)
{
	json_object *v = field(o, name);

	return v ? json_object_get_boolean(v) : dflt;
}

static uint32_t u32_field(json_object *o, const char *name, uint32_t dflt)
{
	json_object *v = field(o, name);

	return v ? (uint32_t)json_object_get_int64(v) : dflt;
}

int fc_get_u32(json_object *o, const char *name, uint32_t *out, struct err *e)
{
	json_object *v = field(o, name);

	if (!v)
		return err_set(e, "missing field `%s`", name);
	if (!type_ok(v, FC_U32))
		return err_set(e, "invalid type for `%s`: expected u32", name);
	*out = (uint32_t)json_object_get_int64(v);
	return 0;
}

/* Copies string @s into @dst of @size bytes; -1 with @e if it is empty or
 * does not fit. */
static int copy_str(char *dst, size_t size, const char *s, const char *what, struct err *e)
{
	if (!s || !*s)
		return err_set(e, "%s must not be empty", what);
	if (strlen(s) >= size)
		return err_set(e, "%s is %zu bytes long; at most %zu", what, strlen(s), size - 1);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* Firecracker's ids: 1 to 64 letters, digits or underscores. */
static int copy_id(char *dst, const char *s, const char *what, struct err *e)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n >= CONFIG_ID_LEN)
		return err_set(e, "%s: an id has 1 to %d characters", what, CONFIG_ID_LEN - 1);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return err_set(e, "%s `%.64s`: an id has only letters, digits and '_'",
			               what, s);
	memcpy(dst, s, n + 1);
	return 0;
}

/* A rate limiter mote cannot honour: only null or an absent one is taken. */
static int no_rate_limiter(json_object *o, const char *name, const char *what, struct err *e)
{
	json_object *v = field(o, name);
	bool set = false;

	if (v && !json_object_is_type(v, json_type_object))
		set = true;
	else if (v) {
		json_object_object_foreach(v, key, val)
		{
			(void)key;
			set |= val != NULL; /* {"bandwidth": null, "ops": null} limits nothing */
		}
	}
	if (set)
		return err_set(e, "%s: `%s` is not supported by mote (no rate limiters yet)", what,
		               name);
	return 0;
}

void fc_config_init(struct vm_config *c)
{
	config_init(c);
	c->devs.balloon.on = false;
	c->devs.no_rng = true;
}

int fc_boot_source(struct vm_config *c, json_object *o, struct err *e)
{
	static const struct fc_field f[] = {
	    {"kernel_image_path", FC_STR, true, false},
	    {"boot_args", FC_STR, false, true},
	    {"initrd_path", FC_STR, false, true},
	    {NULL, 0, false, false},
	};
	char kernel[sizeof(c->kernel)], initrd[sizeof(c->initrd)] = "";
	const char *args;

	if (fc_check(o, "boot-source", f, e) < 0 ||
	    copy_str(kernel, sizeof(kernel), str_field(o, "kernel_image_path"),
	             "boot-source: kernel_image_path", e) < 0)
		return -1;
	if (str_field(o, "initrd_path") &&
	    copy_str(initrd, sizeof(initrd), str_field(o, "initrd_path"),
	             "boot-source: initrd_path", e) < 0)
		return -1;
	args = str_field(o, "boot_args");
	if (args && strlen(args) >= 0x10000)
		return err_set(e, "boot-source: boot_args is %zu bytes; at most 65535",
		               strlen(args));
	if (access(kernel, R_OK) < 0)
		return err_set(e, "boot-source: kernel_image_path %s: %s", kernel, strerror(errno));
	if (initrd[0] && access(initrd, R_OK) < 0)
		return err_set(e, "boot-source: initrd_path %s: %s", initrd, strerror(errno));
	if (config_set_cmdline(c, args, e) < 0)
		return -1;
	memcpy(c->kernel, kernel, sizeof(kernel));
	memcpy(c->initrd, initrd, sizeof(initrd));
	return 0;
}

static int huge_pages(const char *s, enum mem_backend *b, struct err *e)
{
	if (!strcmp(s, "None"))
		*b = MEM_ANON;
	else if (!strcmp(s, "2M"))
		*b = MEM_HUGETLB;
	else
		return err_set(e, "machine-config: huge_pages `%s` is not None or 2M", s);
	return 0;
}

int fc_machine_config(struct vm_config *c, json_object *o, bool patch, struct err *e)
{
	static const struct fc_field f[] = {
	    {"vcpu_count", FC_U32, true, false},
	    {"mem_size_mib", FC_U32, true, false},
	    {"smt", FC_BOOL, false, true},
	    {"track_dirty_pages", FC_BOOL, false, true},
	    {"huge_pages", FC_STR, false, true},
	    {"cpu_template", FC_STR, false, true},
	    {NULL, 0, false, false},
	};
	static const struct fc_field fp[] = {
	    {"vcpu_count", FC_U32, false, true},
	    {"mem_size_mib", FC_U32, false, true},
	    {"smt", FC_BOOL, false, true},
	    {"track_dirty_pages", FC_BOOL, false, true},
	    {"huge_pages", FC_STR, false, true},
	    {"cpu_template", FC_STR, false, true},
	    {NULL, 0, false, false},
	};
	struct vm_config n = *c;
	const char *s;
	uint32_t mib;

	if (fc_check(o, "machine-config", patch ? fp : f, e) < 0)
		return -1;
	n.cpus = (int)u32_field(o, "vcpu_count", (uint32_t)c->cpus);
	mib = u32_field(o, "mem_size_mib", (uint32_t)(c->mem_size >> 20));
	n.mem_size = (uint64_t)mib << 20;
	/* PUT replaces the whole object (what it leaves out goes back to the
	 * default); PATCH changes what it gives */
	n.smt = bool_field(o, "smt", patch && c->smt);
	n.track_dirty_pages = bool_field(o, "track_dirty_pages", patch && c->track_dirty_pages);
	if (!patch)
		n.mem.backend = MEM_ANON;
	if ((s = str_field(o, "huge_pages")) && huge_pages(s, &n.mem.backend, e) < 0)
		return -1;
	if ((s = str_field(o, "cpu_template")) && strcmp(s, "None"))
		return err_set(e,
		               "machine-config: cpu_template `%s` is not supported by mote "
		               "(only None: the guest sees the host's CPU as KVM offers it)",
		               s);
	if (n.cpus < 1 || n.cpus > CONFIG_MAX_CPUS || (n.smt && n.cpus > 1 && n.cpus % 2))
		return err_set(e,
		               "machine-config: the vCPU number %d is invalid: it must be 1 "
		               "to %d, and 1 or even when SMT is enabled",
		               n.cpus, CONFIG_MAX_CPUS);
	if (mem_check_size(n.mem_size, e) < 0) {
		char why[ERR_MAX];

		snprintf(why, sizeof(why), "%s", e->msg);
		return err_set(e, "machine-config: mem_size_mib %u is invalid: %s", mib, why);
	}
	c->cpus = n.cpus;
	c->mem_size = n.mem_size;
	c->smt = n.smt;
	c->track_dirty_pages = n.track_dirty_pages;
	c->mem.backend = n.mem.backend;
	return 0;
}

static int find_drive(const struct vm_config *c, const char *id)
{
	for (int i = 0; i < c->devs.nr_disks; i++)
		if (!strcmp(c->devs.disks[i].drive_id, id))
			return i;
	return -1;
}

/* Fills @d from drive object @o. */
static int drive_from(struct disk_config *d, json_object *o, struct err *e)
{
	const char *s;

	memset(d, 0, sizeof(*d));
	if (copy_id(d->drive_id, str_field(o, "drive_id"), "drive_id", e) < 0 ||
	    copy_str(d->path, sizeof(d->path), str_field(o, "path_on_host"), "drives: path_on_host",
	             e) < 0)
		return -1;
	d->is_root = bool_field(o, "is_root_device", false);
	d->ro = bool_field(o, "is_read_only", false);
	if ((s = str_field(o, "partuuid")) &&
	    copy_str(d->partuuid, sizeof(d->partuuid), s, "drives: partuuid", e) < 0)
		return -1;
	if ((s = str_field(o, "cache_type")) && strcmp(s, "Unsafe") && strcmp(s, "Writeback"))
		return err_set(e, "drive '%s': cache_type `%s` is not Unsafe or Writeback",
		               d->drive_id, s);
	d->writeback = s && !strcmp(s, "Writeback");
	if ((s = str_field(o, "io_engine")) && strcmp(s, "Sync") && strcmp(s, "Async"))
		return err_set(e, "drive '%s': io_engine `%s` is not Sync or Async", d->drive_id,
		               s);
	d->io = !s ? DISK_IO_AUTO : !strcmp(s, "Sync") ? DISK_IO_SYNC : DISK_IO_URING;
	if (access(d->path, d->ro ? R_OK : R_OK | W_OK) < 0)
		return err_set(e, "drive '%s': path_on_host %s: %s", d->drive_id, d->path,
		               strerror(errno));
	return 0;
}

int fc_drive(struct vm_config *c, json_object *o, const char *id, struct err *e)
{
	static const struct fc_field f[] = {
	    {"drive_id", FC_STR, true, false},        {"path_on_host", FC_STR, false, true},
	    {"is_root_device", FC_BOOL, true, false}, {"is_read_only", FC_BOOL, false, true},
	    {"partuuid", FC_STR, false, true},        {"cache_type", FC_STR, false, true},
	    {"io_engine", FC_STR, false, true},       {"rate_limiter", FC_OBJ, false, true},
	    {"socket", FC_STR, false, true},          {NULL, 0, false, false},
	};
	struct vm_devices n = c->devs;
	struct disk_config d;
	int i;

	if (fc_check(o, "drives", f, e) < 0 || no_rate_limiter(o, "rate_limiter", "drives", e) < 0)
		return -1;
	if (id && strcmp(id, str_field(o, "drive_id")))
		return err_set(e, "The id from the path does not match the id from the body!");
	if (str_field(o, "socket"))
		return err_set(e,
		               "drive '%s': vhost-user drives (`socket`) are not supported by "
		               "mote",
		               str_field(o, "drive_id"));
	if (!str_field(o, "path_on_host"))
		return err_set(e, "drive '%s': missing field `path_on_host`",
		               str_field(o, "drive_id"));
	if (drive_from(&d, o, e) < 0)
		return -1;
	i = find_drive(c, d.drive_id);
	if (i < 0 && n.nr_disks == CONFIG_MAX_DISKS)
		return err_set(e, "drive '%s': at most %d drives", d.drive_id, CONFIG_MAX_DISKS);
	if (i < 0)
		i = n.nr_disks++;
	n.disks[i] = d;
	if (config_check(&n, e) < 0)
		return -1;
	c->devs = n;
	return 0;
}

int fc_drive_patch(const struct vm_config *c, json_object *o, const char *id, const char **path,
                   struct err *e)
{
	static const struct fc_field f[] = {
	    {"drive_id", FC_STR, true, false},
	    {"path_on_host", FC_STR, false, true},
	    {"rate_limiter", FC_OBJ, false, true},
	    {NULL, 0, false, false},
	};

	struct vm_devices *n;
	int i, ret = 0;

	*path = NULL;
	if (fc_check(o, "drives", f, e) < 0 || no_rate_limiter(o, "rate_limiter", "drives", e) < 0)
		return -1;
	if (strcmp(id, str_field(o, "drive_id")))
		return err_set(e, "The id from the path does not match the id from the body!");
	i = config_find_disk(&c->devs, id);
	if (i < 0)
		return err_set(e, "Invalid block device ID: '%s'", id);
	if (!str_field(o, "path_on_host"))
		return 0;
	/* the new image goes through the same checks as the drives given at the start */
	n = malloc(sizeof(*n));
	if (!n)
		return err_set(e, "no memory");
	*n = c->devs;
	if (copy_str(n->disks[i].path, sizeof(n->disks[i].path), str_field(o, "path_on_host"),
	             "drives: path_on_host", e) < 0 ||
	    config_check(n, e) < 0)
		ret = -1;
	free(n);
	*path = ret ? NULL : str_field(o, "path_on_host");
	return ret;
}

static int find_net(const struct vm_config *c, const char *id)
{
	for (int i = 0; i < c->devs.nr_nets; i++)
		if (!strcmp(c->devs.nets[i].iface_id, id))
			return i;
	return -1;
}

int fc_net(struct vm_config *c, json_object *o, const char *id, struct err *e)
{
	static const struct fc_field f[] = {
	    {"iface_id", FC_STR, true, false},        {"host_dev_name", FC_STR, true, false},
	    {"guest_mac", FC_STR, false, true},       {"rx_rate_limiter", FC_OBJ, false, true},
	    {"tx_rate_limiter", FC_OBJ, false, true}, {NULL, 0, false, false},
	};
	struct vm_devices n = c->devs;
	struct net_config d = {0};
	const char *mac;
	int i;

	if (fc_check(o, "network-interfaces", f, e) < 0 ||
	    no_rate_limiter(o, "rx_rate_limiter", "network-interfaces", e) < 0 ||
	    no_rate_limiter(o, "tx_rate_limiter", "network-interfaces", e) < 0)
		return -1;
	if (id && strcmp(id, str_field(o, "iface_id")))
		return err_set(e, "The id from the path does not match the id from the body!");
	if (copy_id(d.iface_id, str_field(o, "iface_id"), "iface_id", e) < 0 ||
	    copy_str(d.tap, sizeof(d.tap), str_field(o, "host_dev_name"),
	             "network-interfaces: host_dev_name", e) < 0)
		return -1;
	mac = str_field(o, "guest_mac");
	if (mac && config_parse_mac(mac, d.mac) < 0)
		return err_set(e, "interface '%s': guest_mac `%s` is not a unicast MAC", d.iface_id,
		               mac);
	d.has_mac = mac != NULL;
	i = find_net(c, d.iface_id);
	if (i < 0 && n.nr_nets == CONFIG_MAX_NETS)
		return err_set(e, "interface '%s': at most %d network interfaces", d.iface_id,
		               CONFIG_MAX_NETS);
	if (i < 0)
		i = n.nr_nets++;
	n.nets[i] = d;
	if (config_check(&n, e) < 0)
		return -1;
	c->devs = n;
	return 0;
}

int fc_net_patch(const struct vm_config *c, json_object *o, const char *id, struct err *e)
{
	static const struct fc_field f[] = {
	    {"iface_id", FC_STR, true, false},
	    {"rx_rate_limiter", FC_OBJ, false, true},
	    {"tx_rate_limiter", FC_OBJ, false, true},
	    {NULL, 0, false, false},
	};

	if (fc_check(o, "network-interfaces", f, e) < 0 ||
	    no_rate_limiter(o, "rx_rate_limiter", "network-interfaces", e) < 0 ||
	    no_rate_limiter(o, "tx_rate_limiter", "network-interfaces", e) < 0)
		return -1;
	if (strcmp(id, str_field(o, "iface_id")))
		return err_set(e, "The id from the path does not match the id from the body!");
	if (find_net(c, id) < 0)
		return err_set(e, "Invalid network interface ID: '%s'", id);
	return 0;
}

int fc_vsock(struct vm_config *c, json_object *o, struct err *e)
{
	static const struct fc_field f[] = {
	    {"guest_cid", FC_U32, true, false},
	    {"uds_path", FC_STR, true, false},
	    {"vsock_id", FC_STR, false, true},
	    {NULL, 0, false, false},
	};
	struct vsock_config v = {.on = true};
	const char *s;

	if (fc_check(o, "vsock", f, e) < 0)
		return -1;
	v.cid = u32_field(o, "guest_cid", 0);
	if (v.cid < 3 || v.cid == UINT32_MAX)
		return err_set(e, "vsock: guest_cid %u is not a guest CID (3 to 4294967294)",
		               v.cid);
	s = str_field(o, "uds_path");
	if (!s || !*s || strlen(s) + 11 >= sizeof(v.uds))
		return err_set(e, "vsock: uds_path must be 1 to %zu bytes", sizeof(v.uds) - 12);
	memcpy(v.uds, s, strlen(s) + 1);
	if ((s = str_field(o, "vsock_id")) && copy_id(v.vsock_id, s, "vsock: vsock_id", e) < 0)
		return -1;
	c->devs.vsock = v;
	return 0;
}

int fc_balloon(struct vm_config *c, json_object *o, struct err *e)
{
	static const struct fc_field f[] = {
	    {"amount_mib", FC_U32, true, false},
	    {"deflate_on_oom", FC_BOOL, true, false},
	    {"stats_polling_interval_s", FC_U32, false, true},
	    {"free_page_reporting", FC_BOOL, false, true},
	    {NULL, 0, false, false},
	};
	struct balloon_config b = {.on = true};

	if (fc_check(o, "balloon", f, e) < 0)
		return -1;
	b.amount_mib = u32_field(o, "amount_mib", 0);
	b.deflate_on_oom = bool_field(o, "deflate_on_oom", false);
	b.stats_polling_interval_s = u32_field(o, "stats_polling_interval_s", 0);
	b.free_page_reporting = bool_field(o, "free_page_reporting", true);
	if (config_check_balloon(&b, c->mem_size, e) < 0)
		return -1;
	c->devs.balloon = b;
	return 0;
}

int fc_entropy(struct vm_config *c, json_object *o, struct err *e)
{
	static const struct fc_field f[] = {
	    {"rate_limiter", FC_OBJ, false, true},
	    {NULL, 0, false, false},
	};

	if (fc_check(o, "entropy", f, e) < 0 ||
	    no_rate_limiter(o, "rate_limiter", "entropy", e) < 0)
		return -1;
	c->devs.no_rng = false;
	return 0;
}

int fc_logger(struct vm_config *c, json_object *o, struct err *e)
{
	static const struct fc_field f[] = {
	    {"log_path", FC_STR, false, true},    {"level", FC_STR, false, true},
	    {"show_level", FC_BOOL, false, true}, {"show_log_origin", FC_BOOL, false, true},
	    {"module", FC_STR, false, true},      {NULL, 0, false, false},
	};
	struct log_config l = {.level = LOG_INFO};
	enum log_level level;
	const char *s;

	if (fc_check(o, "logger", f, e) < 0)
		return -1;
	if ((s = str_field(o, "log_path")) &&
	    copy_str(l.path, sizeof(l.path), s, "logger: log_path", e) < 0)
		return -1;
	if ((s = str_field(o, "level"))) {
		if (log_parse_level(s, &level) < 0)
			return err_set(e,
			               "logger: level `%s` is not Error, Warning, Info, Debug, "
			               "Trace or Off",
			               s);
		l.level = (int)level;
	}
	l.show_level = bool_field(o, "show_level", false);
	l.show_origin = bool_field(o, "show_log_origin", false);
	c->logger = l;
	return 0;
}

int fc_metrics(struct vm_config *c, json_object *o, struct err *e)
{
	static const struct fc_field f[] = {
	    {"metrics_path", FC_STR, true, false},
	    {NULL, 0, false, false},
	};

	if (fc_check(o, "metrics", f, e) < 0)
		return -1;
	return copy_str(c->metrics_path, sizeof(c->metrics_path), str_field(o, "metrics_path"),
	                "metrics: metrics_path", e);
}

/* Runs @fn over every element of array @a (named @what). */
static int each(struct vm_config *c, json_object *a, const char *what,
                int (*fn)(struct vm_config *, json_object *, const char *, struct err *),
                struct err *e)
{
	if (!json_object_is_type(a, json_type_array))
		return err_set(e, "%s: invalid type: expected an array", what);
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (fn(c, json_object_array_get_idx(a, i), NULL, e) < 0)
			return -1;
	return 0;
}

int fc_config_object(struct vm_config *c, json_object *root, struct err *e)
{
	static const struct fc_field f[] = {
	    {"boot-source", FC_OBJ, true, false}, {"machine-config", FC_OBJ, false, true},
	    {"drives", FC_ARRAY, false, true},    {"network-interfaces", FC_ARRAY, false, true},
	    {"vsock", FC_OBJ, false, true},       {"balloon", FC_OBJ, false, true},
	    {"logger", FC_OBJ, false, true},      {"metrics", FC_OBJ, false, true},
	    {"entropy", FC_OBJ, false, true},     {"cpu-config", FC_OBJ, false, true},
	    {"mmds-config", FC_OBJ, false, true}, {NULL, 0, false, false},
	};
	json_object *v;

	if (fc_check(root, "config file", f, e) < 0)
		return -1;
	if (field(root, "cpu-config") || field(root, "mmds-config"))
		return err_set(e, "config file: `%s` is not supported by mote (give null)",
		               field(root, "cpu-config") ? "cpu-config" : "mmds-config");
	/* machine-config first: the balloon's amount is checked against it */
	if ((v = field(root, "machine-config")) && fc_machine_config(c, v, false, e) < 0)
		return -1;
	if (fc_boot_source(c, field(root, "boot-source"), e) < 0)
		return -1;
	if ((v = field(root, "drives")) && each(c, v, "drives", fc_drive, e) < 0)
		return -1;
	if ((v = field(root, "network-interfaces")) &&
	    each(c, v, "network-interfaces", fc_net, e) < 0)
		return -1;
	if ((v = field(root, "vsock")) && fc_vsock(c, v, e) < 0)
		return -1;
	if ((v = field(root, "balloon")) && fc_balloon(c, v, e) < 0)
		return -1;
	if ((v = field(root, "logger")) && fc_logger(c, v, e) < 0)
		return -1;
	if ((v = field(root, "metrics")) && fc_metrics(c, v, e) < 0)
		return -1;
	if ((v = field(root, "entropy")) && fc_entropy(c, v, e) < 0)
		return -1;
	return 0;
}

int fc_config_file(struct vm_config *c, const char *path, struct err *e)
{
	char *buf = NULL;
	json_object *root;
	struct stat st;
	ssize_t n = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, "--config-file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > FC_MAX_CONFIG_FILE) {
		close(fd);
		return err_set(e, "--config-file %s: not a regular file of at most %d bytes", path,
		               FC_MAX_CONFIG_FILE);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf)
		n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (!buf || n != st.st_size) {
		free(buf);
		return err_set(e, "--config-file %s: cannot read it", path);
	}
	ret = fc_parse_max(buf, (size_t)n, FC_MAX_CONFIG_FILE, &root, e);
	free(buf);
	if (ret == 0) {
		ret = fc_config_object(c, root, e);
		json_object_put(root);
	}
	if (ret < 0) {
		char msg[ERR_MAX];

		snprintf(msg, sizeof(msg), "%s", e->msg);
		return err_set(e, "--config-file %s: %s", path, msg);
	}
	return 0;
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static void add_bool(json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

static void add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

json_object *fc_machine_config_json(const struct vm_config *c)
{
	json_object *o = json_object_new_object();

	add_int(o, "vcpu_count", c->cpus);
	add_int(o, "mem_size_mib", (int64_t)(c->mem_size >> 20));
	add_bool(o, "smt", c->smt);
	add_bool(o, "track_dirty_pages", c->track_dirty_pages);
	add_str(o, "huge_pages", c->mem.backend == MEM_HUGETLB ? "2M" : "None");
	return o;
}

json_object *fc_balloon_json(const struct vm_config *c)
{
	const struct balloon_config *b = &c->devs.balloon;
	json_object *o = json_object_new_object();

	add_int(o, "amount_mib", b->amount_mib);
	add_bool(o, "deflate_on_oom", b->deflate_on_oom);
	add_int(o, "stats_polling_interval_s", b->stats_polling_interval_s);
	add_bool(o, "free_page_reporting", b->free_page_reporting);
	return o;
}

static json_object *drive_json(const struct disk_config *d)
{
	json_object *o = json_object_new_object();

	add_str(o, "drive_id", d->drive_id);
	add_str(o, "path_on_host", d->path);
	add_bool(o, "is_root_device", d->is_root);
	add_bool(o, "is_read_only", d->ro);
	add_str(o, "partuuid", d->partuuid[0] ? d->partuuid : NULL);
	add_str(o, "cache_type", d->writeback ? "Writeback" : "Unsafe");
	add_str(o, "io_engine", d->io == DISK_IO_SYNC ? "Sync" : "Async");
	return o;
}

static json_object *net_json(const struct net_config *n)
{
	json_object *o = json_object_new_object();
	char mac[18];

	add_str(o, "iface_id", n->iface_id);
	add_str(o, "host_dev_name", n->tap);
	if (n->has_mac) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1],
		         n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
		add_str(o, "guest_mac", mac);
	}
	return o;
}

/* Gives ids to what the command line made without them ("disk0", "net0"),
 * so that /vm/config names every device. */
static void name_of(char *buf, size_t size, const char *id, const char *kind, int i)
{
	if (id[0])
		snprintf(buf, size, "%s", id);
	else
		snprintf(buf, size, "%s%d", kind, i);
}

json_object *fc_vm_config_json(const struct vm_config *c)
{
	json_object *o = json_object_new_object(), *a, *v;

	v = json_object_new_object();
	add_str(v, "kernel_image_path", c->kernel);
	add_str(v, "boot_args", config_cmdline(c));
	add_str(v, "initrd_path", c->initrd[0] ? c->initrd : NULL);
	json_object_object_add(o, "boot-source", v);
	json_object_object_add(o, "machine-config", fc_machine_config_json(c));
	a = json_object_new_array();
	for (int i = 0; i < c->devs.nr_disks; i++) {
		struct disk_config d = c->devs.disks[i];

		name_of(d.drive_id, sizeof(d.drive_id), c->devs.disks[i].drive_id, "disk", i);
		json_object_array_add(a, drive_json(&d));
	}
	json_object_object_add(o, "drives", a);
	a = json_object_new_array();
	for (int i = 0; i < c->devs.nr_nets; i++) {
		struct net_config n = c->devs.nets[i];

		name_of(n.iface_id, sizeof(n.iface_id), c->devs.nets[i].iface_id, "net", i);
		json_object_array_add(a, net_json(&n));
	}
	json_object_object_add(o, "network-interfaces", a);
	v = NULL;
	if (c->devs.vsock.on) {
		v = json_object_new_object();
		add_int(v, "guest_cid", c->devs.vsock.cid);
		add_str(v, "uds_path", c->devs.vsock.uds);
		if (c->devs.vsock.vsock_id[0])
			add_str(v, "vsock_id", c->devs.vsock.vsock_id);
	}
	json_object_object_add(o, "vsock", v);
	json_object_object_add(o, "balloon", c->devs.balloon.on ? fc_balloon_json(c) : NULL);
	json_object_object_add(o, "entropy", c->devs.no_rng ? NULL : json_object_new_object());
	v = NULL;
	if (c->logger.path[0]) {
		v = json_object_new_object();
		add_str(v, "log_path", c->logger.path);
		add_str(v, "level", log_level_name((enum log_level)c->logger.level));
		add_bool(v, "show_level", c->logger.show_level);
		add_bool(v, "show_log_origin", c->logger.show_origin);
	}
	json_object_object_add(o, "logger", v);
	v = NULL;
	if (c->metrics_path[0]) {
		v = json_object_new_object();
		add_str(v, "metrics_path", c->metrics_path);
	}
	json_object_object_add(o, "metrics", v);
	return o;
}

int fc_snapshot_create(json_object *o, struct fc_snapshot_create *out, struct err *e)
{
	static const struct fc_field f[] = {
	    {"snapshot_type", FC_STR, false, false},
	    {"snapshot_path", FC_STR, true, false},
	    {"mem_file_path", FC_STR, true, false},
	    {"version", FC_STR, false, false},
	    {NULL, 0, false, false},
	};
	const char *type;

	memset(out, 0, sizeof(*out));
	if (fc_check(o, "snapshot", f, e) < 0)
		return -1;
	type = str_field(o, "snapshot_type");
	if (type && strcmp(type, "Full") && strcmp(type, "Diff"))
		return err_set(e, "snapshot: unknown variant `%.64s`, expected `Full` or `Diff`",
		               type);
	out->diff = type && !strcmp(type, "Diff");
	if (copy_str(out->snapshot_path, sizeof(out->snapshot_path), str_field(o, "snapshot_path"),
	             "snapshot_path", e) < 0 ||
	    copy_str(out->mem_file_path, sizeof(out->mem_file_path), str_field(o, "mem_file_path"),
	             "mem_file_path", e) < 0)
		return -1;
	return 0;
}

static int fc_mem_backend(json_object *o, struct fc_snapshot_load *out, struct err *e)
{
	static const struct fc_field f[] = {
	    {"backend_path", FC_STR, true, false},
	    {"backend_type", FC_STR, true, false},
	    {NULL, 0, false, false},
	};
	const char *type;

	if (fc_check(o, "mem_backend", f, e) < 0)
		return -1;
	type = str_field(o, "backend_type");
	if (!strcmp(type, "Uffd"))
		return err_set(e, "mem_backend: backend_type `Uffd` is not supported by mote: use "
		                  "`File` (the file is mapped, pages come in on first touch)");
	if (strcmp(type, "File"))
		return err_set(e, "mem_backend: unknown variant `%.64s`, expected `File` or `Uffd`",
		               type);
	return copy_str(out->mem_path, sizeof(out->mem_path), str_field(o, "backend_path"),
	                "backend_path", e);
}

int fc_snapshot_load(json_object *o, struct fc_snapshot_load *out, struct err *e)
{
	static const struct fc_field f[] = {
	    {"snapshot_path", FC_STR, true, false},
	    {"mem_file_path", FC_STR, false, false},
	    {"mem_backend", FC_OBJ, false, false},
	    {"enable_diff_snapshots", FC_BOOL, false, false},
	    {"track_dirty_pages", FC_BOOL, false, false},
	    {"resume_vm", FC_BOOL, false, false},
	    {NULL, 0, false, false},
	};
	json_object *mb;

	memset(out, 0, sizeof(*out));
	if (fc_check(o, "snapshot", f, e) < 0)
		return -1;
	mb = field(o, "mem_backend");
	if (!mb == !field(o, "mem_file_path"))
		return err_set(e, "snapshot: give one of `mem_backend` and `mem_file_path`");
	if (copy_str(out->snapshot_path, sizeof(out->snapshot_path), str_field(o, "snapshot_path"),
	             "snapshot_path", e) < 0)
		return -1;
	if (mb ? fc_mem_backend(mb, out, e) < 0
	       : copy_str(out->mem_path, sizeof(out->mem_path), str_field(o, "mem_file_path"),
	                  "mem_file_path", e) < 0)
		return -1;
	/* enable_diff_snapshots is Firecracker's older name of track_dirty_pages */
	out->track_dirty_pages = bool_field(o, "enable_diff_snapshots", false) ||
	                         bool_field(o, "track_dirty_pages", false);
	out->resume_vm = bool_field(o, "resume_vm", false);
	return 0;
}
