// SPDX-License-Identifier: MIT
/* Snapshot state files: which parts go in, in which order, and the checks on the way back. */
#include "snapshot.h"

#include "../device.h"
#include "../fc_config.h"
#include "../trace.h"
#include "../x86/state.h"
#include "memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int snapshot_write_state(struct vm *vm, const struct vm_config *cfg, struct snap_writer *w,
                         struct err *e)
{
	struct snap_machine mach;
	json_object *c = fc_vm_config_json(cfg);
	const char *json = json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN);
	struct err why;

	snap_put(w, SNAP_CONFIG, 0, json, strlen(json));
	json_object_put(c);
	if (state_machine(vm, &mach, e) < 0)
		return -1;
	snap_put(w, SNAP_MACHINE, 0, &mach, sizeof(mach));
	/* the devices first: finishing their work in flight raises interrupts,
	 * which the interrupt controllers' state must hold */
	if (devices_save(vm, w, e) < 0 || state_save_vm(vm, w, e) < 0)
		return -1;
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (state_save_vcpu(&vm->vcpus[i], w, &why) < 0)
			return err_set(e, "vCPU %d: %s", i, why.msg);
	return 0;
}

int snapshot_save(struct vm *vm, const struct vm_config *cfg, const char *state_path,
                  const char *mem_path, const uint64_t *diff, struct snapshot_stats *st,
                  struct err *e)
{
	struct snap_writer w;
	uint64_t t0 = trace_now();
	int ret = -1;

	snap_writer_init(&w);
	if (snapshot_write_state(vm, cfg, &w, e) < 0 || snap_finish(&w, e) < 0)
		goto out;
	/* memory first: a state file names a whole snapshot */
	if ((diff ? mem_save_diff(&vm->mem, diff, mem_path, &st->mem_bytes, e)
	          : mem_save_file(&vm->mem, mem_path, &st->mem_bytes, e)) < 0 ||
	    snap_write_file(state_path, w.buf, w.len, e) < 0)
		goto out;
	st->state_bytes = w.len;
	st->save_ns = trace_now() - t0;
	ret = 0;
out:
	snap_writer_free(&w);
	return ret;
}

/* The saved configuration through the config file's checks, less what
 * belongs to the old process or its host: its logger and metrics files,
 * and whether its kernel and initrd files still exist (a restored VM does
 * not read them; their paths stay for GET /vm/config). */
static int parse_config(struct snap *s, struct vm_config *cfg, struct err *e)
{
	struct snap_record *r = snap_get(s, SNAP_CONFIG, 0);
	char kernel[sizeof(cfg->kernel)] = "", initrd[sizeof(cfg->initrd)] = "";
	json_object *o, *boot, *v;
	int ret;

	if (!r)
		return err_set(e, "no configuration record");
	if (fc_parse((const char *)r->data, r->len, &o, e) < 0)
		return -1;
	json_object_object_del(o, "logger");
	json_object_object_del(o, "metrics");
	if (json_object_object_get_ex(o, "boot-source", &boot) &&
	    json_object_is_type(boot, json_type_object)) {
		if (json_object_object_get_ex(boot, "kernel_image_path", &v) &&
		    json_object_is_type(v, json_type_string))
			snprintf(kernel, sizeof(kernel), "%s", json_object_get_string(v));
		if (json_object_object_get_ex(boot, "initrd_path", &v) &&
		    json_object_is_type(v, json_type_string))
			snprintf(initrd, sizeof(initrd), "%s", json_object_get_string(v));
		json_object_object_add(boot, "kernel_image_path",
		                       json_object_new_string("/dev/null"));
		json_object_object_del(boot, "initrd_path");
	}
	ret = fc_config_object(cfg, o, e);
	json_object_put(o);
	memcpy(cfg->kernel, kernel, sizeof(kernel));
	memcpy(cfg->initrd, initrd, sizeof(initrd));
	return ret;
}

int snapshot_parse(uint8_t *buf, size_t len, const char *what, struct snapshot_file *f,
                   struct vm_config *cfg, struct err *e)
{
	struct err why;

	memset(f, 0, sizeof(*f));
	f->buf = buf;
	f->len = len;
	f->snap = calloc(1, sizeof(*f->snap));
	if (!f->snap)
		return err_set(e, "%s: out of memory", what);
	if (snap_parse(buf, len, what, f->snap, e) < 0)
		return -1;
	if (snap_get_exact(f->snap, SNAP_MACHINE, 0, &f->machine, sizeof(f->machine), &why) < 0)
		return err_set(e, "%s: %s", what, why.msg);
	if (parse_config(f->snap, cfg, &why) < 0)
		return err_set(e, "%s: its configuration: %s", what, why.msg);
	if (f->machine.mem_size != cfg->mem_size)
		return err_set(e,
		               "%s: %llu bytes of RAM in the machine record, %llu in the "
		               "configuration",
		               what, (unsigned long long)f->machine.mem_size,
		               (unsigned long long)cfg->mem_size);
	if (f->machine.nr_vcpus != (uint32_t)cfg->cpus)
		return err_set(e, "%s: %u vCPUs in the machine record, %d in the configuration",
		               what, f->machine.nr_vcpus, cfg->cpus);
	return 0;
}

int snapshot_read(const char *path, struct snapshot_file *f, struct vm_config *cfg, struct err *e)
{
	uint8_t *buf;
	size_t len;

	memset(f, 0, sizeof(*f));
	if (snap_read_file(path, &buf, &len, e) < 0)
		return -1;
	return snapshot_parse(buf, len, path, f, cfg, e);
}

int snapshot_apply(struct vm *vm, struct snapshot_file *f, const char *mem_path, struct err *e)
{
	struct err why;

	if (state_check_machine(vm, &f->machine, e) < 0)
		return -1;
	if (mem_path && mem_load_file(&vm->mem, mem_path, e) < 0)
		return -1;
	if (state_load_vm(vm, f->snap, &why) < 0)
		return err_set(e, "the VM's state: %s", why.msg);
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (state_load_tsc_khz(&vm->vcpus[i], f->machine.tsc_khz, &why) < 0 ||
		    state_load_vcpu(&vm->vcpus[i], f->snap, &why) < 0)
			return err_set(e, "vCPU %d: %s", i, why.msg);
	if (devices_load(vm, f->snap, e) < 0)
		return -1;
	return snap_check_all_used(f->snap, e);
}

void snapshot_file_free(struct snapshot_file *f)
{
	free(f->buf);
	free(f->snap);
	memset(f, 0, sizeof(*f));
}
