// SPDX-License-Identifier: MIT
/* kvm-check without KVM: which module is at work (fake /sys and cpuinfo
 * trees), and the per-boot verdict cache that mote run trusts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kvm_check.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];

/* Writes @text to @root/@path, making the folders above it. */
static void put(const char *path, const char *text)
{
	char full[256], cmd[512];
	FILE *f;

	snprintf(full, sizeof(full), "%s/%s", root, path);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", full);
	assert_int_equal(system(cmd), 0);
	f = fopen(full, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int make_root(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/mote-kvm-check-XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int remove_root(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

#define AMD_CPU   "processor\t: 0\nflags\t\t: fpu vme svm lm\n\n"
#define INTEL_CPU "processor\t: 0\nflags\t\t: fpu vmx lm\n"
#define PLAIN_CPU "processor\t: 0\nflags\t\t: fpu lm hypervisor\n"

static const char *detect(void)
{
	const struct kvm_module *m = kvm_module_detect(root);

	return m ? m->name : "none";
}

static void test_loaded_module_that_is_live(void **state)
{
	(void)state;
	put("proc/cpuinfo", AMD_CPU);
	put("sys/module/kvm_amd/initstate", "live\n");
	assert_string_equal(detect(), "kvm_amd");
	assert_true(kvm_module_detect(root)->ordinary);
}

static void test_module_still_loading_does_not_count(void **state)
{
	(void)state;
	put("proc/cpuinfo", AMD_CPU);
	put("sys/module/kvm_amd/initstate", "coming\n");
	assert_string_equal(detect(), "none");
}

static void test_builtin_pvm_on_a_cpu_without_vmx_or_svm(void **state)
{
	(void)state;
	/* This project's machines: PVM built in, no hardware virtualization. */
	put("proc/cpuinfo", PLAIN_CPU);
	put("sys/module/kvm_pvm/parameters/pvm_native", "N\n");
	assert_string_equal(detect(), "kvm_pvm");
	assert_false(kvm_module_detect(root)->ordinary);
}

static void test_builtin_intel_needs_vmx(void **state)
{
	(void)state;
	put("proc/cpuinfo", PLAIN_CPU);
	put("sys/module/kvm_intel/parameters/nested", "Y\n");
	assert_string_equal(detect(), "none");
	put("proc/cpuinfo", INTEL_CPU);
	assert_string_equal(detect(), "kvm_intel");
	put("sys/module/kvm_pvm/parameters/pvm_native", "N\n");
	assert_string_equal(detect(), "kvm_intel"); /* the hardware one is at work */
}

static void test_flag_is_matched_as_a_word(void **state)
{
	(void)state;
	put("proc/cpuinfo", "flags\t\t: fpu svmx lm\n"); /* the first line, no "vmx" word */
	put("sys/module/kvm_intel/parameters/nested", "Y\n");
	put("sys/module/kvm_amd/parameters/nested", "1\n");
	assert_string_equal(detect(), "none");
	put("proc/cpuinfo", "flags\t\t: svm\n");
	assert_string_equal(detect(), "kvm_amd");
}

static void test_nothing_at_all(void **state)
{
	(void)state;
	assert_string_equal(detect(), "none");
}

/* ---- The cache. mote run reads it; an absent device is never cached. ---- */

static char cache_file[256], device[128], identity[64];

/* The cache's first three lines for @device as it is now. */
static const char *head(void)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "mote-kvm-check 2\n%s\n%s\n", device, identity);
	return buf;
}

static int use_cache(void **state)
{
	struct stat st;
	char id[64] = {0};
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	make_root(state);
	assert_non_null(f);
	assert_non_null(fgets(id, sizeof(id), f));
	fclose(f);
	id[strcspn(id, "\n")] = '\0';
	snprintf(cache_file, sizeof(cache_file), "%s/kvm-check/%s", root, id);
	snprintf(device, sizeof(device), "%s/kvm", root);
	put("kvm", "not a KVM device\n");
	assert_int_equal(stat(device, &st), 0);
	snprintf(identity, sizeof(identity), "%llx:%llx:%lld", (unsigned long long)st.st_rdev,
	         (unsigned long long)st.st_ino, (long long)st.st_ctime);
	setenv("MOTE_CACHE", root, 1);
	setenv("MOTE_KVM_DEVICE", device, 1);
	return 0;
}

static void cache(const char *text)
{
	put(strstr(cache_file, "/kvm-check/") + 1, text);
}

/* Caches @head() followed by @tail. */
static void cache_tail(const char *tail)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s%s", head(), tail);
	cache(buf);
}

/* kvm-check --cached: the verdict of the cache, or of a check (2 here). */
static int cached_status(void)
{
	char a0[] = "kvm-check", a1[] = "--cached";
	char *argv[] = {a0, a1, NULL};

	optind = 0;
	return kvm_check_cmd(2, argv);
}

static void test_no_device_is_left_to_open_and_not_cached(void **state)
{
	struct err e;

	(void)state;
	assert_int_equal(kvm_check_for_run(&e), 0); /* not KVM: opening it says why */
	assert_int_equal(access(cache_file, F_OK), -1);
	setenv("MOTE_KVM_DEVICE", "/nonexistent/kvm", 1);
	assert_int_equal(kvm_check_for_run(&e), 0);
	assert_int_equal(access(cache_file, F_OK), -1);
}

static void test_cached_unusable_verdict_refuses(void **state)
{
	struct err e;

	(void)state;
	cache_tail("1\nthe probe VM stopped in step 5\n");
	assert_int_equal(kvm_check_for_run(&e), -1);
	assert_non_null(
	    strstr(e.msg, "cannot run ordinary guests: the probe VM stopped in step 5"));
	assert_non_null(strstr(e.msg, device));
	assert_non_null(strstr(e.msg, "mote kvm-check checks again"));
	assert_non_null(strstr(e.msg, "--no-kvm-check"));
}

static void test_cached_usable_verdict_runs(void **state)
{
	struct err e;

	(void)state;
	cache_tail("0\n\n");
	assert_int_equal(kvm_check_for_run(&e), 0);
	assert_int_equal(cached_status(), 0);
}

static void test_cache_of_another_device_or_version_is_ignored(void **state)
{
	char text[3][512];

	(void)state;
	snprintf(text[0], sizeof(text[0]), "mote-kvm-check 2\n/dev/other\n%s\n1\nr\n", identity);
	snprintf(text[1], sizeof(text[1]), "mote-kvm-check 1\n%s\n%s\n1\nr\n", device, identity);
	/* the same path, but the node was made anew (a module reload) */
	snprintf(text[2], sizeof(text[2]), "mote-kvm-check 2\n%s\nae8:1:1\n1\nr\n", device);
	for (size_t i = 0; i < 3; i++) {
		cache(text[i]);
		assert_int_equal(cached_status(), 2); /* checked anew: not a KVM device */
	}
}

static void test_corrupt_cache_is_ignored(void **state)
{
	static const char *const corrupt[] = {
	    "",
	    "7\nreason\n",
	    "1x\nreason\n",
	    "\nreason\n",
	    "-1\nreason\n",
	    "01\nreason\n",
	    "2\nreason\n",
	    "1",
	    "\177ELF\2\1\1",
	};
	struct err e;

	(void)state;
	cache("mote-kvm-check 2\n"); /* cut short */
	assert_int_equal(cached_status(), 2);
	for (size_t i = 0; i < sizeof(corrupt) / sizeof(corrupt[0]); i++) {
		cache_tail(corrupt[i]);
		assert_int_equal(kvm_check_for_run(&e), 0);
		assert_int_equal(cached_status(), 2); /* checked anew: no device here */
	}
	cache_tail("0\n\n"); /* and a sound one is taken */
	assert_int_equal(cached_status(), 0);
}

static void test_command_reports_cached_verdict_as_status(void **state)
{
	char a0[] = "kvm-check", b1[] = "extra";
	char *bad[] = {a0, b1, NULL};

	(void)state;
	cache_tail("1\nfake reason\n");
	assert_int_equal(cached_status(), 1);
	unlink(cache_file);
	assert_int_equal(cached_status(), 2); /* no device: checked, not cached */
	assert_int_equal(access(cache_file, F_OK), -1);
	optind = 0;
	assert_int_equal(kvm_check_cmd(2, bad), 2);
}

/* ---- The verdict from the facts. ---- */

static enum kvm_verdict verdict(struct kvm_facts f, char *reason, bool *transient)
{
	return kvm_decide(&f, reason, 1024, transient);
}

static void test_verdicts(void **state)
{
	static const struct kvm_module amd = {"kvm_amd", "svm", "AMD SVM", true, NULL};
	static const struct kvm_module pvm = {"kvm_pvm", NULL, "PVM, for PVM kernels only", false,
	                                      "c"};
	struct kvm_facts ok = {.device = "/dev/kvm", .api = 12, .module = &amd, .probe_ok = true};
	struct kvm_facts f;
	char reason[1024];
	bool transient;

	(void)state;
	assert_int_equal(verdict(ok, reason, &transient), KVM_USABLE);
	assert_false(transient);
	f = ok, f.module = NULL; /* an unknown module with good evidence */
	assert_int_equal(verdict(f, reason, &transient), KVM_USABLE);
	f = ok, f.api = 11;
	assert_int_equal(verdict(f, reason, &transient), KVM_UNUSABLE);
	assert_string_equal(reason, "/dev/kvm speaks KVM API 11, mote needs 12");
	f = ok, f.missing = "KVM_CAP_IRQCHIP (in-kernel irqchip)", f.probe_ok = false;
	assert_int_equal(verdict(f, reason, &transient), KVM_UNUSABLE);
	assert_string_equal(reason, "this KVM lacks KVM_CAP_IRQCHIP (in-kernel irqchip)");
	f = ok, f.probe_ok = false, f.probe_why = "stopped in step 5";
	assert_int_equal(verdict(f, reason, &transient), KVM_UNUSABLE);
	assert_string_equal(reason, "stopped in step 5");
	assert_false(transient);
	f.module = &pvm; /* the same evidence on PVM: the module is named too */
	assert_int_equal(verdict(f, reason, &transient), KVM_UNUSABLE);
	assert_string_equal(reason, "stopped in step 5. The KVM module is kvm_pvm: PVM, for PVM "
	                            "kernels only");
	f = ok, f.module = &pvm; /* PVM whose probe got through: still not for ordinary kernels */
	assert_int_equal(verdict(f, reason, &transient), KVM_UNUSABLE);
	assert_non_null(strstr(reason, "the probe got through, but the KVM module is kvm_pvm"));
	f = ok, f.probe_ok = false, f.probe_transient = true, f.probe_why = "did not finish";
	assert_int_equal(verdict(f, reason, &transient), KVM_UNUSABLE);
	assert_true(transient);
}

static void test_reason_is_cut_to_its_buffer(void **state)
{
	static const struct kvm_module pvm = {"kvm_pvm", NULL, "PVM", false, "c"};
	struct kvm_facts f = {.device = "/dev/kvm", .api = 12, .module = &pvm, .probe_why = "x"};
	char reason[8];
	bool transient;

	(void)state;
	memset(reason, 'z', sizeof(reason));
	assert_int_equal(kvm_decide(&f, reason, sizeof(reason), &transient), KVM_UNUSABLE);
	assert_string_equal(reason, "x. The ");
	f.probe_why = "a long reason that fills it";
	assert_int_equal(kvm_decide(&f, reason, sizeof(reason), &transient), KVM_UNUSABLE);
	assert_string_equal(reason, "a long ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verdicts),
	    cmocka_unit_test(test_reason_is_cut_to_its_buffer),
	    cmocka_unit_test_setup_teardown(test_loaded_module_that_is_live, make_root,
	                                    remove_root),
	    cmocka_unit_test_setup_teardown(test_module_still_loading_does_not_count, make_root,
	                                    remove_root),
	    cmocka_unit_test_setup_teardown(test_builtin_pvm_on_a_cpu_without_vmx_or_svm, make_root,
	                                    remove_root),
	    cmocka_unit_test_setup_teardown(test_builtin_intel_needs_vmx, make_root, remove_root),
	    cmocka_unit_test_setup_teardown(test_flag_is_matched_as_a_word, make_root, remove_root),
	    cmocka_unit_test_setup_teardown(test_nothing_at_all, make_root, remove_root),
	    cmocka_unit_test_setup_teardown(test_no_device_is_left_to_open_and_not_cached,
	                                    use_cache, remove_root),
	    cmocka_unit_test_setup_teardown(test_cached_unusable_verdict_refuses, use_cache,
	                                    remove_root),
	    cmocka_unit_test_setup_teardown(test_cached_usable_verdict_runs, use_cache,
	                                    remove_root),
	    cmocka_unit_test_setup_teardown(test_cache_of_another_device_or_version_is_ignored,
	                                    use_cache, remove_root),
	    cmocka_unit_test_setup_teardown(test_corrupt_cache_is_ignored, use_cache, remove_root),
	    cmocka_unit_test_setup_teardown(test_command_reports_cached_verdict_as_status,
	                                    use_cache, remove_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
