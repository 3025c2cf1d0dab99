/* SPDX-License-Identifier: MIT */
/* Firecracker's JSON objects (config file and API bodies) to and from mote's vm_config. */
#ifndef MOTE_FC_CONFIG_H
#define MOTE_FC_CONFIG_H

#include "config.h"
#include "err.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Bodies and config files larger than this are refused (Firecracker's
 * default http_api_max_payload_size). */
#define FC_MAX_PAYLOAD 51200
/* A config file may be larger (many drives and interfaces). */
#define FC_MAX_CONFIG_FILE (1024 * 1024)

/* Parses @len bytes of strict JSON (valid UTF-8, nothing after the value,
 * nesting at most 32 deep) into *@out, which must be an object; -1 with @e
 * saying where it went wrong. */
int fc_parse(const char *buf, size_t len, json_object **out, struct err *e);

/* fc_parse with a limit of @max bytes instead of FC_MAX_PAYLOAD. */
int fc_parse_max(const char *buf, size_t len, size_t max, json_object **out, struct err *e);

/* The mote defaults for a VM made through the API or a config file: as
 * config_init, but no balloon and no entropy device unless asked for, as
 * Firecracker. */
void fc_config_init(struct vm_config *c);

/* Each of these fills part of @c from one Firecracker object, as its PUT
 * (or PATCH, where @patch) takes it: unknown fields, wrong types and
 * values out of range are refused with @e in Firecracker's words; @c is
 * unchanged on failure. */
int fc_boot_source(struct vm_config *c, json_object *o, struct err *e);
int fc_machine_config(struct vm_config *c, json_object *o, bool patch, struct err *e);
/* @id: the {drive_id} of the path, which the body must repeat (NULL: none). */
int fc_drive(struct vm_config *c, json_object *o, const char *id, struct err *e);
int fc_net(struct vm_config *c, json_object *o, const char *id, struct err *e);
int fc_vsock(struct vm_config *c, json_object *o, struct err *e);
int fc_balloon(struct vm_config *c, json_object *o, struct err *e);
int fc_entropy(struct vm_config *c, json_object *o, struct err *e);
int fc_logger(struct vm_config *c, json_object *o, struct err *e);
int fc_metrics(struct vm_config *c, json_object *o, struct err *e);

/* Checks a PATCH body of /drives/{id} (drive_id, path_on_host, rate_limiter)
 * against @c; sets *@path to the new path_on_host or NULL; -1 with @e. */
int fc_drive_patch(const struct vm_config *c, json_object *o, const char *id, const char **path,
                   struct err *e);

/* Checks a PATCH body of /network-interfaces/{id} against @c; -1 with @e. */
int fc_net_patch(const struct vm_config *c, json_object *o, const char *id, struct err *e);

/* Fills @c from a whole config file's object (boot-source, machine-config,
 * drives, network-interfaces, vsock, balloon, logger, metrics, entropy;
 * cpu-config and mmds-config only as null); -1 with @e. */
int fc_config_object(struct vm_config *c, json_object *root, struct err *e);

/* Reads and parses the config file @path into @c; -1 with @e naming it. */
int fc_config_file(struct vm_config *c, const char *path, struct err *e);

/* PUT /snapshot/create's body (SnapshotCreateParams). */
struct fc_snapshot_create {
	char snapshot_path[4096];
	char mem_file_path[4096];
	bool diff; /* snapshot_type "Diff" */
};

/* PUT /snapshot/load's body (SnapshotLoadParams): mem_backend (File) or
 * the older mem_file_path, one of them. */
struct fc_snapshot_load {
	char snapshot_path[4096];
	char mem_path[4096];
	bool track_dirty_pages; /* or its older name enable_diff_snapshots */
	bool resume_vm;
};

/* Parses SnapshotCreateParams @o into @out; -1 with @e in Firecracker's words. */
int fc_snapshot_create(json_object *o, struct fc_snapshot_create *out, struct err *e);

/* Parses SnapshotLoadParams @o into @out; a Uffd backend is refused (mote
 * maps the file); -1 with @e. */
int fc_snapshot_load(json_object *o, struct fc_snapshot_load *out, struct err *e);

/* The objects GET answers with, new references. */
json_object *fc_machine_config_json(const struct vm_config *c);
json_object *fc_balloon_json(const struct vm_config *c);
/* The whole configuration, as --config-file takes it (GET /vm/config). */
json_object *fc_vm_config_json(const struct vm_config *c);

/* Reads a required u32 field @name of @o into *@out; -1 with @e if it is
 * missing or not a u32 (for bodies of actions and PATCHes). */
int fc_get_u32(json_object *o, const char *name, uint32_t *out, struct err *e);

/* Checks that object @o (named @what) has only the fields in the
 * NULL-terminated @names; -1 with @e naming the first other one. */
int fc_only_fields(json_object *o, const char *what, const char *const *names, struct err *e);

#endif
