// SPDX-License-Identifier: MIT
/* Firecracker's JSON objects: every field's success and each refusal, the
 * parser's strictness, and /vm/config read back by the config-file path. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fc_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/mote-fc-XXXXXX";
static char kernel[64], disk1[64], disk2[64], rodisk[64];

static void touch(char *out, const char *name)
{
	FILE *f;

	snprintf(out, 64, "%s/%s", dir, name);
	f = fopen(out, "w");
	assert_non_null(f);
	fputs("0123456789abcdef", f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	touch(kernel, "vmlinux");
	touch(disk1, "d1.img");
	touch(disk2, "d2.img");
	touch(rodisk, "ro.img");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(kernel), unlink(disk1), unlink(disk2), unlink(rodisk);
	rmdir(dir);
	return 0;
}

/* Parses @fmt with @K, @1 and @2 replaced by the kernel's and disks' paths. */
static json_object *obj(const char *fmt)
{
	char buf[4096];
	size_t n = 0;
	json_object *o;
	struct err e;

	for (const char *p = fmt; *p && n < sizeof(buf) - 80; p++) {
		const char *v = NULL;

		if (p[0] == '@' && p[1] == 'K')
			v = kernel;
		else if (p[0] == '@' && p[1] == '1')
			v = disk1;
		else if (p[0] == '@' && p[1] == '2')
			v = disk2;
		if (v) {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", v);
			p++;
		} else {
			buf[n++] = *p;
		}
	}
	buf[n] = '\0';
	if (fc_parse(buf, strlen(buf), &o, &e) < 0)
		fail_msg("test JSON does not parse: %s: %s", buf, e.msg);
	return o;
}

enum which { BOOT, MACHINE, MACHINE_PATCH, DRIVE, NET, VSOCK, BALLOON, LOGGER, METRICS, ENTROPY };

struct fc_case {
	enum which which;
	const char *json;
	const char *id;    /* the path's {id} */
	const char *error; /* NULL: accepted; else a substring of the refusal */
};

static const struct fc_case cases[] = {
    {BOOT, "{\"kernel_image_path\":\"@K\",\"boot_args\":\"console=ttyS0 quiet\"}", NULL, NULL},
    {BOOT, "{\"kernel_image_path\":\"@K\",\"initrd_path\":null}", NULL, NULL},
    {BOOT, "{\"boot_args\":\"x\"}", NULL, "missing field `kernel_image_path`"},
    {BOOT, "{\"kernel_image_path\":\"/nonexistent/vmlinux\"}", NULL, "/nonexistent/vmlinux"},
    {BOOT, "{\"kernel_image_path\":\"@K\",\"kernel\":1}", NULL, "unknown field `kernel`"},
    {BOOT, "{\"kernel_image_path\":7}", NULL, "invalid type for `kernel_image_path`"},
    {BOOT, "{\"kernel_image_path\":\"\"}", NULL, "must not be empty"},
    {MACHINE, "{\"vcpu_count\":2,\"mem_size_mib\":256}", NULL, NULL},
    {MACHINE, "{\"vcpu_count\":2,\"mem_size_mib\":256,\"smt\":false,\"huge_pages\":\"2M\"}", NULL,
     NULL},
    {MACHINE, "{\"mem_size_mib\":256}", NULL, "missing field `vcpu_count`"},
    {MACHINE, "{\"vcpu_count\":0,\"mem_size_mib\":256}", NULL, "vCPU number 0 is invalid"},
    {MACHINE, "{\"vcpu_count\":3,\"mem_size_mib\":256,\"smt\":true}", NULL, "SMT"},
    {MACHINE, "{\"vcpu_count\":-1,\"mem_size_mib\":256}", NULL, "expected u32"},
    {MACHINE, "{\"vcpu_count\":\"2\",\"mem_size_mib\":256}", NULL, "expected u32"},
    {MACHINE, "{\"vcpu_count\":1.5,\"mem_size_mib\":256}", NULL, "expected u32"},
    {MACHINE, "{\"vcpu_count\":1,\"mem_size_mib\":4294967296}", NULL, "expected u32"},
    {MACHINE, "{\"vcpu_count\":1,\"mem_size_mib\":1}", NULL, "mem_size_mib 1 is invalid"},
    {MACHINE, "{\"vcpu_count\":1,\"mem_size_mib\":64,\"huge_pages\":\"1G\"}", NULL,
     "huge_pages `1G`"},
    {MACHINE, "{\"vcpu_count\":1,\"mem_size_mib\":64,\"cpu_template\":\"T2\"}", NULL,
     "cpu_template `T2`"},
    {MACHINE, "{\"vcpu_count\":1,\"mem_size_mib\":64,\"vcpus\":1}", NULL, "unknown field `vcpus`"},
    {MACHINE_PATCH, "{\"mem_size_mib\":512}", NULL, NULL},
    {MACHINE_PATCH, "{}", NULL, NULL},
    {MACHINE_PATCH, "{\"vcpu_count\":255}", NULL, "vCPU number 255"},
    {DRIVE, "{\"drive_id\":\"rootfs\",\"path_on_host\":\"@1\",\"is_root_device\":true}", "rootfs",
     NULL},
    {DRIVE,
     "{\"drive_id\":\"d\",\"path_on_host\":\"@1\",\"is_root_device\":false,"
     "\"is_read_only\":true,\"cache_type\":\"Writeback\",\"io_engine\":\"Sync\","
     "\"rate_limiter\":null,\"partuuid\":\"1234-01\"}",
     "d", NULL},
    {DRIVE, "{\"drive_id\":\"other\",\"path_on_host\":\"@1\",\"is_root_device\":true}", "rootfs",
     "does not match the id"},
    {DRIVE, "{\"drive_id\":\"rootfs\",\"path_on_host\":\"@1\"}", "rootfs",
     "missing field `is_root_device`"},
    {DRIVE, "{\"drive_id\":\"rootfs\",\"is_root_device\":true}", "rootfs",
     "missing field `path_on_host`"},
    {DRIVE, "{\"drive_id\":\"r\",\"path_on_host\":\"/nonexistent.img\",\"is_root_device\":true}",
     "r", "/nonexistent.img"},
    {DRIVE,
     "{\"drive_id\":\"r\",\"path_on_host\":\"@1\",\"is_root_device\":true,"
     "\"io_engine\":\"Fast\"}",
     "r", "io_engine `Fast`"},
    {DRIVE,
     "{\"drive_id\":\"r\",\"path_on_host\":\"@1\",\"is_root_device\":true,"
     "\"cache_type\":\"None\"}",
     "r", "cache_type `None`"},
    {DRIVE,
     "{\"drive_id\":\"r\",\"path_on_host\":\"@1\",\"is_root_device\":true,"
     "\"rate_limiter\":{\"bandwidth\":{\"size\":1,\"refill_time\":1}}}",
     "r", "rate_limiter"},
    {DRIVE,
     "{\"drive_id\":\"r\",\"path_on_host\":\"@1\",\"is_root_device\":true,"
     "\"socket\":\"/x\"}",
     "r", "vhost-user"},
    {NET, "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\",\"guest_mac\":\"06:00:AC:10:00:02\"}",
     "eth0", NULL},
    {NET, "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\",\"guest_mac\":\"01:00:00:00:00:00\"}",
     "eth0", "not a unicast MAC"},
    {NET, "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\"}", "eth1", "does not match"},
    {NET, "{\"iface_id\":\"eth/0\",\"host_dev_name\":\"tap0\"}", NULL, "only letters"},
    {NET,
     "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\",\"rx_rate_limiter\":{\"bandwidth\":null,"
     "\"ops\":null}}",
     "eth0", NULL},
    {DRIVE,
     "{\"drive_id\":\"a234567890123456789012345678901234567890123456789012345678901234\","
     "\"path_on_host\":\"@1\",\"is_root_device\":false}",
     NULL, NULL},
    {DRIVE,
     "{\"drive_id\":\"a2345678901234567890123456789012345678901234567890123456789012345\","
     "\"path_on_host\":\"@1\",\"is_root_device\":false}",
     NULL, "1 to 64 characters"},
    {BOOT, "{\"kernel_image_path\":\"@K\\u0000.bak\"}", NULL, "invalid type"},
    {NET, "{\"iface_id\":\"eth0\"}", "eth0", "missing field `host_dev_name`"},
    {NET, "{\"iface_id\":\"eth0\",\"host_dev_name\":\"a-tap-name-too-long\"}", "eth0",
     "bytes long"},
    {VSOCK, "{\"guest_cid\":3,\"uds_path\":\"/tmp/v.sock\"}", NULL, NULL},
    {VSOCK, "{\"guest_cid\":2,\"uds_path\":\"/tmp/v.sock\"}", NULL, "guest_cid 2"},
    {VSOCK, "{\"guest_cid\":3}", NULL, "missing field `uds_path`"},
    {BALLOON, "{\"amount_mib\":16,\"deflate_on_oom\":true,\"stats_polling_interval_s\":1}", NULL,
     NULL},
    {BALLOON, "{\"amount_mib\":16}", NULL, "missing field `deflate_on_oom`"},
    {BALLOON, "{\"amount_mib\":100000,\"deflate_on_oom\":false}", NULL, "amount_mib 100000"},
    {LOGGER, "{\"log_path\":\"/tmp/x.log\",\"level\":\"Debug\",\"show_level\":true}", NULL, NULL},
    {LOGGER, "{\"log_path\":\"/tmp/x.log\",\"level\":\"Loud\"}", NULL, "level `Loud`"},
    {METRICS, "{\"metrics_path\":\"/tmp/m.fifo\"}", NULL, NULL},
    {METRICS, "{}", NULL, "missing field `metrics_path`"},
    {ENTROPY, "{}", NULL, NULL},
    {ENTROPY, "{\"rate_limiter\":{\"ops\":{\"size\":1}}}", NULL, "rate_limiter"},
};

static int apply(struct vm_config *c, const struct fc_case *k, json_object *o, struct err *e)
{
	switch (k->which) {
	case BOOT: return fc_boot_source(c, o, e);
	case MACHINE: return fc_machine_config(c, o, false, e);
	case MACHINE_PATCH: return fc_machine_config(c, o, true, e);
	case DRIVE: return fc_drive(c, o, k->id, e);
	case NET: return fc_net(c, o, k->id, e);
	case VSOCK: return fc_vsock(c, o, e);
	case BALLOON: return fc_balloon(c, o, e);
	case LOGGER: return fc_logger(c, o, e);
	case METRICS: return fc_metrics(c, o, e);
	case ENTROPY: return fc_entropy(c, o, e);
	}
	return -1;
}

static void test_objects(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct fc_case *k = &cases[i];
		struct vm_config c, before;
		json_object *o = obj(k->json);
		struct err e = {""};
		int r;

		fc_config_init(&c);
		before = c;
		r = apply(&c, k, o, &e);
		if (k->error) {
			if (r == 0 || !strstr(e.msg, k->error))
				fail_msg("case %zu %s: want refusal with '%s', got %d '%s'", i,
				         k->json, k->error, r, e.msg);
			/* a refused object leaves the configuration as it was */
			before.cmdline = c.cmdline;
			if (memcmp(&c, &before, sizeof(c)))
				fail_msg("case %zu: refused, yet changed the configuration", i);
		} else if (r < 0) {
			fail_msg("case %zu %s: refused: %s", i, k->json, e.msg);
		}
		json_object_put(o);
		config_free(&c);
	}
}

static void test_values_land(void **state)
{
	struct vm_config c;
	json_object *o;
	struct err e;

	(void)state;
	fc_config_init(&c);
	o = obj("{\"vcpu_count\":4,\"mem_size_mib\":300,\"huge_pages\":\"2M\"}");
	assert_int_equal(fc_machine_config(&c, o, false, &e), 0);
	json_object_put(o);
	assert_int_equal(c.cpus, 4);
	assert_int_equal(c.mem_size, 300ULL << 20);
	assert_int_equal(c.mem.backend, MEM_HUGETLB);
	o = obj("{\"drive_id\":\"root\",\"path_on_host\":\"@1\",\"is_root_device\":true,"
	        "\"io_engine\":\"Async\",\"is_read_only\":true}");
	assert_int_equal(fc_drive(&c, o, "root", &e), 0);
	json_object_put(o);
	assert_int_equal(c.devs.nr_disks, 1);
	assert_true(c.devs.disks[0].is_root && c.devs.disks[0].ro);
	assert_int_equal(c.devs.disks[0].io, DISK_IO_URING);
	assert_string_equal(c.devs.disks[0].path, disk1);
	/* the same id again replaces the drive */
	o = obj("{\"drive_id\":\"root\",\"path_on_host\":\"@2\",\"is_root_device\":true}");
	assert_int_equal(fc_drive(&c, o, "root", &e), 0);
	json_object_put(o);
	assert_int_equal(c.devs.nr_disks, 1);
	assert_string_equal(c.devs.disks[0].path, disk2);
	/* a second root drive is refused */
	o = obj("{\"drive_id\":\"data\",\"path_on_host\":\"@1\",\"is_root_device\":true}");
	assert_int_equal(fc_drive(&c, o, "data", &e), -1);
	assert_non_null(strstr(e.msg, "root block device already exists"));
	json_object_put(o);
	/* the same image twice is refused by the shared check */
	o = obj("{\"drive_id\":\"data\",\"path_on_host\":\"@2\",\"is_root_device\":false}");
	assert_int_equal(fc_drive(&c, o, "data", &e), -1);
	assert_non_null(strstr(e.msg, "the same image"));
	json_object_put(o);
	config_free(&c);
}

static void test_rules_shared(void **state)
{
	struct vm_config c;
	const char *path;
	json_object *o;
	struct err e;

	(void)state;
	fc_config_init(&c);
	/* PUT replaces machine-config whole: huge_pages goes back to None */
	o = obj("{\"vcpu_count\":1,\"mem_size_mib\":64,\"huge_pages\":\"2M\"}");
	assert_int_equal(fc_machine_config(&c, o, false, &e), 0);
	json_object_put(o);
	assert_int_equal(c.mem.backend, MEM_HUGETLB);
	o = obj("{\"vcpu_count\":1,\"mem_size_mib\":64}");
	assert_int_equal(fc_machine_config(&c, o, false, &e), 0);
	json_object_put(o);
	assert_int_equal(c.mem.backend, MEM_ANON);
	/* the same MAC twice: config_check's rule, for the API and --net alike */
	o = obj(
	    "{\"iface_id\":\"a\",\"host_dev_name\":\"tapa\",\"guest_mac\":\"06:00:00:00:00:01\"}");
	assert_int_equal(fc_net(&c, o, "a", &e), 0);
	json_object_put(o);
	o = obj(
	    "{\"iface_id\":\"b\",\"host_dev_name\":\"tapb\",\"guest_mac\":\"06:00:00:00:00:01\"}");
	assert_int_equal(fc_net(&c, o, "b", &e), -1);
	assert_non_null(strstr(e.msg, "already in use"));
	json_object_put(o);
	/* PATCH /drives to an image another drive has is refused */
	o = obj("{\"drive_id\":\"one\",\"path_on_host\":\"@1\",\"is_root_device\":false}");
	assert_int_equal(fc_drive(&c, o, "one", &e), 0);
	json_object_put(o);
	o = obj("{\"drive_id\":\"two\",\"path_on_host\":\"@2\",\"is_root_device\":false}");
	assert_int_equal(fc_drive(&c, o, "two", &e), 0);
	json_object_put(o);
	o = obj("{\"drive_id\":\"two\",\"path_on_host\":\"@1\"}");
	assert_int_equal(fc_drive_patch(&c, o, "two", &path, &e), -1);
	assert_null(path);
	assert_non_null(strstr(e.msg, "the same image"));
	json_object_put(o);
	o = obj("{\"drive_id\":\"two\",\"path_on_host\":\"@2\"}");
	assert_int_equal(fc_drive_patch(&c, o, "two", &path, &e), 0);
	assert_string_equal(path, disk2);
	json_object_put(o);
	config_free(&c);
}

static void test_parse_strict(void **state)
{
	static const char *const bad[] = {
	    "",
	    "{",
	    "[1,2]",
	    "\"str\"",
	    "{\"a\":1} x",
	    "{\"a\":\"\xff\xfe\"}",
	    "{'a':1}",
	    "{\"a\":1,}",
	    "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	};
	json_object *o;
	struct err e;
	char *big;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = NULL;
		if (fc_parse(bad[i], strlen(bad[i]), &o, &e) == 0)
			fail_msg("accepted bad JSON %zu: %s", i, bad[i]);
		assert_null(o);
	}
	assert_int_equal(fc_parse("{\"a\":1}\n", 8, &o, &e), 0);
	json_object_put(o);
	big = calloc(1, FC_MAX_PAYLOAD + 2);
	memset(big, ' ', FC_MAX_PAYLOAD + 1);
	big[0] = '{';
	big[FC_MAX_PAYLOAD] = '}';
	assert_int_equal(fc_parse(big, FC_MAX_PAYLOAD + 1, &o, &e), -1);
	assert_non_null(strstr(e.msg, "larger than the limit"));
	free(big);
}

static void test_config_file_round_trip(void **state)
{
	char file[128], json[4096];
	struct vm_config c, d;
	json_object *o;
	const char *s1;
	struct err e;
	FILE *f;

	(void)state;
	snprintf(json, sizeof(json),
	         "{\"boot-source\":{\"kernel_image_path\":\"%s\",\"boot_args\":\"console=ttyS0 "
	         "reboot=k\"},\"machine-config\":{\"vcpu_count\":2,\"mem_size_mib\":256},"
	         "\"drives\":[{\"drive_id\":\"rootfs\",\"path_on_host\":\"%s\",\"is_root_device\":"
	         "true,\"is_read_only\":false}],\"network-interfaces\":[{\"iface_id\":\"eth0\","
	         "\"host_dev_name\":\"tap0\",\"guest_mac\":\"06:00:ac:10:00:02\"}],"
	         "\"vsock\":{\"guest_cid\":3,\"uds_path\":\"/tmp/v.sock\"},\"balloon\":"
	         "{\"amount_mib\":0,\"deflate_on_oom\":false},\"entropy\":{},\"logger\":null,"
	         "\"metrics\":null,\"cpu-config\":null,\"mmds-config\":null}",
	         kernel, disk1);
	snprintf(file, sizeof(file), "%s/vm.json", dir);
	f = fopen(file, "w");
	fputs(json, f);
	fclose(f);
	fc_config_init(&c);
	if (fc_config_file(&c, file, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(c.cpus, 2);
	assert_string_equal(config_cmdline(&c), "console=ttyS0 reboot=k");
	assert_true(c.devs.balloon.on && !c.devs.no_rng && c.devs.vsock.on);
	/* what GET /vm/config says, a config file takes back to the same */
	o = fc_vm_config_json(&c);
	s1 = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	f = fopen(file, "w");
	fputs(s1, f);
	fclose(f);
	fc_config_init(&d);
	if (fc_config_file(&d, file, &e) < 0)
		fail_msg("/vm/config not taken back: %s: %s", e.msg, s1);
	assert_int_equal(d.cpus, c.cpus);
	assert_int_equal(d.mem_size, c.mem_size);
	assert_int_equal(d.devs.nr_disks, 1);
	assert_int_equal(d.devs.nr_nets, 1);
	assert_memory_equal(d.devs.nets[0].mac, c.devs.nets[0].mac, 6);
	assert_string_equal(config_cmdline(&d), config_cmdline(&c));
	json_object_put(o);
	/* unknown sections and unsupported ones are refused, naming the file */
	f = fopen(file, "w");
	fprintf(f, "{\"boot-source\":{\"kernel_image_path\":\"%s\"},\"mmds-config\":{}}", kernel);
	fclose(f);
	assert_int_equal(fc_config_file(&d, file, &e), -1);
	assert_non_null(strstr(e.msg, "mmds-config"));
	assert_non_null(strstr(e.msg, file));
	f = fopen(file, "w");
	fprintf(f, "{\"boot-source\":{\"kernel_image_path\":\"%s\"},\"gpu\":{}}", kernel);
	fclose(f);
	assert_int_equal(fc_config_file(&d, file, &e), -1);
	assert_non_null(strstr(e.msg, "unknown field `gpu`"));
	f = fopen(file, "w");
	fputs("{\"machine-config\":{\"vcpu_count\":1,\"mem_size_mib\":64}}", f);
	fclose(f);
	assert_int_equal(fc_config_file(&d, file, &e), -1);
	assert_non_null(strstr(e.msg, "missing field `boot-source`"));
	assert_int_equal(fc_config_file(&d, "/nonexistent.json", &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent.json"));
	unlink(file);
	config_free(&c);
	config_free(&d);
}

static void test_check_vm(void **state)
{
	struct vm_config c;
	struct err e;

	(void)state;
	config_init(&c);
	assert_int_equal(config_check_vm(&c, &e), -1);
	assert_non_null(strstr(e.msg, "no kernel"));
	snprintf(c.kernel, sizeof(c.kernel), "%s", kernel);
	assert_int_equal(config_check_vm(&c, &e), 0);
	c.mem_size = 1 << 20;
	assert_int_equal(config_check_vm(&c, &e), -1);
	assert_non_null(strstr(e.msg, "at least"));
	c.mem_size = 64 << 20;
	c.devs.balloon.amount_mib = 65;
	assert_int_equal(config_check_vm(&c, &e), -1);
	assert_non_null(strstr(e.msg, "balloon"));
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_objects),
	    cmocka_unit_test(test_values_land),
	    cmocka_unit_test(test_parse_strict),
	    cmocka_unit_test(test_rules_shared),
	    cmocka_unit_test(test_config_file_round_trip),
	    cmocka_unit_test(test_check_vm),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
