// SPDX-License-Identifier: MIT
/* Firecracker's config file on any bytes (fc_parse, fc_config_object): what
 * is accepted must pass config_check_vm's device rules, and what /vm/config
 * says of it must parse and be taken back the same way. */
#include "fuzz.h"

#include "fc_config.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_config c, d;
	json_object *o, *back;
	const char *s;
	struct err e;

	if (fc_parse((const char *)data, size, &o, &e) < 0)
		return 0;
	FUZZ_CHECK(json_object_is_type(o, json_type_object), "not an object");
	fc_config_init(&c);
	if (fc_config_object(&c, o, &e) == 0) {
		FUZZ_CHECK(c.kernel[0], "no kernel accepted");
		FUZZ_CHECK(c.cpus >= 1 && c.cpus <= CONFIG_MAX_CPUS, "%d vCPUs", c.cpus);
		FUZZ_CHECK(config_check(&c.devs, &e) == 0, "devices: %s", e.msg);
		back = fc_vm_config_json(&c);
		s = json_object_to_json_string_ext(back, JSON_C_TO_STRING_PLAIN);
		json_object_put(o);
		FUZZ_CHECK(fc_parse(s, strlen(s), &o, &e) == 0, "/vm/config does not parse: %s",
		           e.msg);
		fc_config_init(&d);
		FUZZ_CHECK(fc_config_object(&d, o, &e) == 0, "/vm/config refused: %s: %s", e.msg,
		           s);
		FUZZ_CHECK(d.cpus == c.cpus && d.mem_size == c.mem_size &&
		               d.devs.nr_disks == c.devs.nr_disks &&
		               d.devs.nr_nets == c.devs.nr_nets,
		           "/vm/config read back differs");
		json_object_put(back);
		config_free(&d);
	}
	json_object_put(o);
	config_free(&c);
	return 0;
}
