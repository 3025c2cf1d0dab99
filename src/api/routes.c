// SPDX-License-Identifier: MIT
/*
 * Firecracker's API resources (firecracker.yaml) on mote's VMM: a table of
 * method, path and handler, each saying whether it belongs before the boot,
 * after it, or to both, and refused in Firecracker's words otherwise. The
 * handlers run on the thread that owns the VMM (the main thread before the
 * boot, the I/O thread after it) and change m->cfg through fc_config.c's
 * checks, the same ones a config file goes through.
 */
#include "api.h"

#include "../fc_config.h"
#include "../hw/i8042.h"
#include "../log.h"
#include "../metrics.h"
#include "../snapshot/migrate.h"
#include "../snapshot/snapshot.h"
#include "../trace.h"
#include "../virtio/balloon.h"
#include "../virtio/blk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum when { PRE_BOOT, POST_BOOT, ANY_TIME };

/* What a handler gets: the VMM, the {id} of the path, the body, the answer. */
struct call {
	struct vmm *m;
	const char *id;
	json_object *body;
	struct http_response *r;
	bool *deferred;
};

typedef int route_fn(struct call *c, struct err *e);

struct route {
	enum http_method method;
	const char *path; /* a trailing "/" takes one more segment: the {id} */
	enum when when;
	bool body;
	route_fn *fn;
};

/* Answers 200 with @o (consumed). */
static int reply_json(struct call *c, json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                      JSON_C_TO_STRING_NOSLASHESCAPE);

	c->r->status = 200;
	c->r->body = strdup(s);
	c->r->body_len = c->r->body ? strlen(s) : 0;
	json_object_put(o);
	return 0;
}

static const char *state_name(enum vmm_state s)
{
	switch (s) {
	case VMM_NOT_STARTED: return "Not started";
	case VMM_RUNNING: return "Running";
	case VMM_PAUSED: return "Paused";
	case VMM_FAILED: return "Not started";
	}
	return "?";
}

static int get_info(struct call *c, struct err *e)
{
	json_object *o = json_object_new_object();

	(void)e;
	json_object_object_add(o, "id", json_object_new_string("anonymous-instance"));
	json_object_object_add(o, "state", json_object_new_string(state_name(c->m->state)));
	json_object_object_add(o, "vmm_version", json_object_new_string(MOTE_VERSION));
	json_object_object_add(o, "app_name", json_object_new_string("mote"));
	return reply_json(c, o);
}

static int get_version(struct call *c, struct err *e)
{
	json_object *o = json_object_new_object();

	(void)e;
	json_object_object_add(o, "firecracker_version",
	                       json_object_new_string(MOTE_FIRECRACKER_API));
	json_object_object_add(o, "mote_version", json_object_new_string(MOTE_VERSION));
	return reply_json(c, o);
}

static int get_machine(struct call *c, struct err *e)
{
	(void)e;
	return reply_json(c, fc_machine_config_json(&c->m->cfg));
}

static int put_machine(struct call *c, struct err *e)
{
	return fc_machine_config(&c->m->cfg, c->body, false, e);
}

static int patch_machine(struct call *c, struct err *e)
{
	return fc_machine_config(&c->m->cfg, c->body, true, e);
}

static int put_boot_source(struct call *c, struct err *e)
{
	return fc_boot_source(&c->m->cfg, c->body, e);
}

static int put_drive(struct call *c, struct err *e)
{
	return fc_drive(&c->m->cfg, c->body, c->id, e);
}

static int patch_drive(struct call *c, struct err *e)
{
	const char *path;

	if (fc_drive_patch(&c->m->cfg, c->body, c->id, &path, e) < 0)
		return -1;
	return path ? blk_change_image(&c->m->vm, c->id, path, e) : 0;
}

static int put_net(struct call *c, struct err *e)
{
	return fc_net(&c->m->cfg, c->body, c->id, e);
}

static int patch_net(struct call *c, struct err *e)
{
	return fc_net_patch(&c->m->cfg, c->body, c->id, e);
}

static int put_vsock(struct call *c, struct err *e)
{
	return fc_vsock(&c->m->cfg, c->body, e);
}

static int put_entropy(struct call *c, struct err *e)
{
	return fc_entropy(&c->m->cfg, c->body, e);
}

static int put_balloon(struct call *c, struct err *e)
{
	return fc_balloon(&c->m->cfg, c->body, e);
}

static int no_balloon(const struct vmm *m, struct err *e)
{
	return m->cfg.devs.balloon.on ? 0 : err_set(e, "No balloon device configured.");
}

static int get_balloon(struct call *c, struct err *e)
{
	struct vm_config cfg = c->m->cfg;
	uint32_t actual;

	if (no_balloon(c->m, e) < 0)
		return -1;
	if (c->m->state != VMM_NOT_STARTED && balloon_get_actual(&c->m->vm, &actual, e) == 0) {
		json_object *o = fc_balloon_json(&cfg);

		json_object_object_add(o, "actual_mib", json_object_new_int64(actual));
		return reply_json(c, o);
	}
	return reply_json(c, fc_balloon_json(&cfg));
}

static int patch_balloon(struct call *c, struct err *e)
{
	static const char *const fields[] = {"amount_mib", NULL};
	uint32_t mib;

	if (no_balloon(c->m, e) < 0 || fc_only_fields(c->body, "balloon", fields, e) < 0 ||
	    fc_get_u32(c->body, "amount_mib", &mib, e) < 0 ||
	    balloon_set_target(&c->m->vm, mib, e) < 0)
		return -1;
	c->m->cfg.devs.balloon.amount_mib = mib;
	return 0;
}

static const char *const stat_names[] = {
    "swap_in",      "swap_out",         "major_faults", "minor_faults",        "free_memory",
    "total_memory", "available_memory", "disk_caches",  "hugetlb_allocations", "hugetlb_failures",
};

static int get_balloon_stats(struct call *c, struct err *e)
{
	struct balloon_stats s;
	json_object *o;

	if (no_balloon(c->m, e) < 0 || balloon_get_stats(&c->m->vm, &s, e) < 0)
		return -1;
	o = json_object_new_object();
	json_object_object_add(o, "target_pages", json_object_new_int64(s.target_pages));
	json_object_object_add(o, "actual_pages", json_object_new_int64(s.actual_pages));
	json_object_object_add(o, "target_mib", json_object_new_int64(s.target_mib));
	json_object_object_add(o, "actual_mib", json_object_new_int64(s.actual_mib));
	for (size_t i = 0; i < sizeof(stat_names) / sizeof(stat_names[0]); i++)
		if (s.has[i])
			json_object_object_add(o, stat_names[i],
			                       json_object_new_int64((int64_t)s.val[i]));
	return reply_json(c, o);
}

static int patch_balloon_stats(struct call *c, struct err *e)
{
	static const char *const fields[] = {"stats_polling_interval_s", NULL};
	uint32_t s;

	if (no_balloon(c->m, e) < 0 || fc_only_fields(c->body, "balloon", fields, e) < 0 ||
	    fc_get_u32(c->body, "stats_polling_interval_s", &s, e) < 0 ||
	    balloon_set_stats_interval(&c->m->vm, s, e) < 0)
		return -1;
	c->m->cfg.devs.balloon.stats_polling_interval_s = s;
	return 0;
}

static int put_logger(struct call *c, struct err *e)
{
	struct vm_config n = c->m->cfg;

	if (fc_logger(&n, c->body, e) < 0)
		return -1;
	if (n.logger.path[0] && log_open(n.logger.path, (enum log_level)n.logger.level,
	                                 n.logger.show_level, n.logger.show_origin, e) < 0)
		return -1;
	c->m->cfg.logger = n.logger;
	return 0;
}

static int put_metrics(struct call *c, struct err *e)
{
	struct vm_config n = c->m->cfg;

	if (fc_metrics(&n, c->body, e) < 0 || metrics_open(n.metrics_path, e) < 0)
		return -1;
	memcpy(c->m->cfg.metrics_path, n.metrics_path, sizeof(n.metrics_path));
	return 0;
}

static int get_metrics(struct call *c, struct err *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return err_set(e, "no memory for the metrics");
	metrics_write_prometheus(f);
	fclose(f);
	c->r->status = 200;
	c->r->content_type = "text/plain; version=0.0.4";
	c->r->body = buf;
	c->r->body_len = len;
	return 0;
}

static int get_vm_config(struct call *c, struct err *e)
{
	(void)e;
	return reply_json(c, fc_vm_config_json(&c->m->cfg));
}

static int instance_start(struct call *c, struct err *e)
{
	if (c->m->state == VMM_FAILED)
		return err_set(e, "a start failed before (see its answer); this mote process "
		                  "cannot start a VM any more: start a new one");
	if (c->m->state != VMM_NOT_STARTED)
		return err_set(e, "The requested operation is not supported after starting the "
		                  "microVM.");
	c->m->start_ns = trace_now();
	trace_instance_start();
	if (vmm_build(c->m, e) < 0)
		return -1;
	*c->deferred = true; /* answered once the vCPUs run */
	return 0;
}

static int put_actions(struct call *c, struct err *e)
{
	static const char *const fields[] = {"action_type", NULL};
	json_object *v = NULL;
	const char *t;

	if (fc_only_fields(c->body, "actions", fields, e) < 0)
		return -1;
	if (!json_object_object_get_ex(c->body, "action_type", &v) || !v)
		return err_set(e, "actions: missing field `action_type`");
	if (!json_object_is_type(v, json_type_string))
		return err_set(e, "actions: invalid type for `action_type`: expected a string");
	t = json_object_get_string(v);
	if (!strcmp(t, "InstanceStart"))
		return instance_start(c, e);
	if (!strcmp(t, "FlushMetrics"))
		return metrics_flush(e);
	if (!strcmp(t, "SendCtrlAltDel")) {
		if (c->m->state == VMM_NOT_STARTED || c->m->state == VMM_FAILED)
			return err_set(e, "The requested operation is not supported before "
			                  "starting the microVM.");
		return i8042_send_ctrl_alt_del(e);
	}
	return err_set(e,
	               "actions: unknown variant `%.64s`, expected one of `InstanceStart`, "
	               "`SendCtrlAltDel`, `FlushMetrics`",
	               t);
}

static int patch_vm(struct call *c, struct err *e)
{
	static const char *const fields[] = {"state", NULL};
	json_object *v = NULL;
	const char *s;

	if (fc_only_fields(c->body, "vm", fields, e) < 0)
		return -1;
	if (!json_object_object_get_ex(c->body, "state", &v) || !v ||
	    !json_object_is_type(v, json_type_string))
		return err_set(e, "vm: missing field `state` (Paused or Resumed)");
	s = json_object_get_string(v);
	if (!strcmp(s, "Paused"))
		return vmm_pause(c->m, e);
	if (!strcmp(s, "Resumed"))
		return vmm_resume(c->m, e);
	return err_set(e, "vm: unknown variant `%.64s`, expected `Paused` or `Resumed`", s);
}

static int snapshot_create(struct call *c, struct err *e)
{
	struct fc_snapshot_create p;
	struct snapshot_stats st;

	if (fc_snapshot_create(c->body, &p, e) < 0)
		return -1;
	return vmm_snapshot(c->m, p.snapshot_path, p.mem_file_path, p.diff, &st, e);
}

static int snapshot_load(struct call *c, struct err *e)
{
	struct fc_snapshot_load p;

	if (fc_snapshot_load(c->body, &p, e) < 0)
		return -1;
	if (c->m->state == VMM_NOT_STARTED)
		c->m->cfg.track_dirty_pages = p.track_dirty_pages;
	return vmm_restore(c->m, p.snapshot_path, p.mem_path, p.resume_vm, e);
}

static int migration_send(struct call *c, struct err *e)
{
	static const char *const fields[] = {"destination_url", "max_downtime_ms", NULL};
	struct migrate_stats st;
	uint32_t downtime = MIGRATE_DOWNTIME_MS;
	json_object *v = NULL, *o;
	char msg[ERR_MAX];
	const char *url;

	if (fc_only_fields(c->body, "migration", fields, e) < 0)
		return -1;
	if (!json_object_object_get_ex(c->body, "destination_url", &v) || !v ||
	    !json_object_is_type(v, json_type_string))
		return err_set(e, "migration: missing field `destination_url` (tcp:HOST:PORT or "
		                  "unix:PATH)");
	url = json_object_get_string(v);
	if (json_object_object_get_ex(c->body, "max_downtime_ms", NULL) &&
	    fc_get_u32(c->body, "max_downtime_ms", &downtime, e) < 0)
		return -1;
	if (migrate_send(c->m, url, downtime, &st, e) < 0)
		return -1;
	o = json_object_new_object();
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)st.bytes));
	json_object_object_add(o, "pages", json_object_new_int64((int64_t)st.pages));
	json_object_object_add(o, "zero_pages", json_object_new_int64((int64_t)st.zero_pages));
	json_object_object_add(o, "rounds", json_object_new_int(st.rounds));
	json_object_object_add(o, "total_ms", json_object_new_double((double)st.total_ns / 1e6));
	json_object_object_add(o, "downtime_ms",
	                       json_object_new_double((double)st.downtime_ns / 1e6));
	snprintf(msg, sizeof(msg), "the VM moved to %s (%llu bytes in %d rounds, %.1f ms down)",
	         url, (unsigned long long)st.bytes, st.rounds, (double)st.downtime_ns / 1e6);
	vm_stop(&c->m->vm, VM_EXIT_MIGRATED, msg); /* the answer goes out before mote exits */
	return reply_json(c, o);
}

static const struct route routes[] = {
    {HTTP_M_GET, "/", ANY_TIME, false, get_info},
    {HTTP_M_GET, "/version", ANY_TIME, false, get_version},
    {HTTP_M_GET, "/machine-config", ANY_TIME, false, get_machine},
    {HTTP_M_PUT, "/machine-config", PRE_BOOT, true, put_machine},
    {HTTP_M_PATCH, "/machine-config", PRE_BOOT, true, patch_machine},
    {HTTP_M_PUT, "/boot-source", PRE_BOOT, true, put_boot_source},
    {HTTP_M_PUT, "/drives/", PRE_BOOT, true, put_drive},
    {HTTP_M_PATCH, "/drives/", POST_BOOT, true, patch_drive},
    {HTTP_M_PUT, "/network-interfaces/", PRE_BOOT, true, put_net},
    {HTTP_M_PATCH, "/network-interfaces/", POST_BOOT, true, patch_net},
    {HTTP_M_PUT, "/vsock", PRE_BOOT, true, put_vsock},
    {HTTP_M_PUT, "/entropy", PRE_BOOT, true, put_entropy},
    {HTTP_M_PUT, "/balloon", PRE_BOOT, true, put_balloon},
    {HTTP_M_GET, "/balloon", ANY_TIME, false, get_balloon},
    {HTTP_M_PATCH, "/balloon", POST_BOOT, true, patch_balloon},
    {HTTP_M_GET, "/balloon/statistics", POST_BOOT, false, get_balloon_stats},
    {HTTP_M_PATCH, "/balloon/statistics", POST_BOOT, true, patch_balloon_stats},
    {HTTP_M_PUT, "/logger", PRE_BOOT, true, put_logger},
    {HTTP_M_PUT, "/metrics", PRE_BOOT, true, put_metrics},
    {HTTP_M_GET, "/metrics", ANY_TIME, false, get_metrics},
    {HTTP_M_PUT, "/actions", ANY_TIME, true, put_actions},
    {HTTP_M_PATCH, "/vm", POST_BOOT, true, patch_vm},
    {HTTP_M_GET, "/vm/config", ANY_TIME, false, get_vm_config},
    {HTTP_M_PUT, "/snapshot/create", POST_BOOT, true, snapshot_create},
    {HTTP_M_PUT, "/snapshot/load", PRE_BOOT, true, snapshot_load},
    {HTTP_M_PUT, "/migration/send", POST_BOOT, true, migration_send},
};

/* Whether @path is @r's, and its {id} (one segment of 1 to 63 bytes). */
static bool match(const struct route *r, const char *path, const char **id)
{
	size_t n = strlen(r->path);

	*id = NULL;
	if (n > 1 && r->path[n - 1] == '/') {
		if (strncmp(path, r->path, n) || !path[n] || strchr(path + n, '/') ||
		    strlen(path + n) >= CONFIG_ID_LEN)
			return false;
		*id = path + n;
		return true;
	}
	return !strcmp(path, r->path);
}

static const struct route *find(const struct http_request *req, const char **id)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].method == req->method && match(&routes[i], req->path, id))
			return &routes[i];
	return NULL;
}

/* Refuses a call that belongs to the other side of the boot. */
static int check_when(const struct route *r, const struct vmm *m, struct err *e)
{
	bool booted = m->state == VMM_RUNNING || m->state == VMM_PAUSED;

	if (r->when == PRE_BOOT && m->state != VMM_NOT_STARTED)
		return err_set(e, "The requested operation is not supported after starting the "
		                  "microVM.");
	if (r->when == POST_BOOT && !booted)
		return err_set(e, "The requested operation is not supported before starting the "
		                  "microVM.");
	return 0;
}

void api_route(struct vmm *m, const struct http_request *req, struct http_response *resp,
               bool *deferred)
{
	struct call c = {.m = m, .r = resp, .deferred = deferred};
	const struct route *r = find(req, &c.id);
	struct err e;
	char msg[HTTP_MAX_URL + 96];
	int ret;

	*deferred = false;
	resp->status = 204;
	if (!r) {
		snprintf(msg, sizeof(msg), "Invalid request method and/or path: %s %s.",
		         req->method_name ? req->method_name : "?", req->path);
		http_fault(resp, 400, msg);
		return;
	}
	if (check_when(r, m, &e) < 0 ||
	    (r->body && fc_parse(req->body ? req->body : "", req->body_len, &c.body, &e) < 0)) {
		http_fault(resp, 400, e.msg);
		return;
	}
	ret = r->fn(&c, &e);
	json_object_put(c.body);
	if (ret < 0) {
		log_msg(LOG_WARN, "api", "%s %s: %s", req->method_name, req->path, e.msg);
		http_fault(resp, 400, e.msg);
	}
}
