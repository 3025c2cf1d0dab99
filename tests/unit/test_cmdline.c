// SPDX-License-Identifier: MIT
/* The guest's command line: mote's words go before the "--" Linux sees. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "boot/cmdline.h"

#include <string.h>

static const char *built(const char *user, const char *devices)
{
	static char out[256];
	struct err e;

	assert_true(cmdline_build(user, devices, out, sizeof(out), &e) >= 0);
	return out;
}

static void test_devices_go_before_init_args(void **state)
{
	(void)state;
	assert_string_equal(built("console=ttyS0 quiet", "dev=1"), "console=ttyS0 quiet dev=1");
	assert_string_equal(built("console=ttyS0 -- hold=3", "dev=1"),
	                    "console=ttyS0 dev=1 -- hold=3");
	assert_string_equal(built("console=ttyS0   -- a -- b", "dev=1"),
	                    "console=ttyS0 dev=1 -- a -- b");
	assert_string_equal(built("-- hold=3", "dev=1"), "dev=1 -- hold=3");
	assert_string_equal(built("", "dev=1"), "dev=1");
	assert_string_equal(built("quiet -- x", ""), "quiet -- x");
	assert_string_equal(built("", ""), "");
}

static void test_quoted_separator_counts(void **state)
{
	(void)state;
	/* Linux's next_arg strips the quotes: "--" ends its parameters too. */
	assert_string_equal(built("quiet \"--\" hold=3", "dev=1"), "quiet dev=1 \"--\" hold=3");
	/* An opening quote that never closes runs to the end: still "--" alone. */
	assert_string_equal(built("quiet \"--", "dev=1"), "quiet dev=1 \"--");
}

static void test_words_that_are_not_the_separator(void **state)
{
	(void)state;
	assert_null(cmdline_init_args("a=\"x -- y\" b")); /* inside quotes */
	assert_null(cmdline_init_args("--x ---  -"));     /* other words */
	assert_null(cmdline_init_args("--\"\""));         /* quotes not at the start */
	assert_null(cmdline_init_args("\"-- rest\""));    /* one quoted word */
	assert_null(cmdline_init_args("   "));
	assert_non_null(cmdline_init_args("\t--\tx"));
}

/* What the fuzzer found: Linux's blanks, and a quote left open. */
static void test_linux_blanks_and_open_quotes(void **state)
{
	char out[64];
	struct err e;

	(void)state;
	/* 0xa0 is a blank to Linux: "--" ends its parameters there. */
	assert_string_equal(built("quiet --\xa0hold=3", "dev=1"), "quiet dev=1 --\xa0hold=3");
	/* An open quote would swallow mote's words: refused, saying why. */
	assert_int_equal(cmdline_build("quiet a=\"x y", "dev=1", out, sizeof(out), &e), -1);
	assert_non_null(strstr(e.msg, "a double quote is never closed"));
	/* Without words to add, it is left as it is, blanks in the quote too. */
	assert_string_equal(built("quiet a=\"x y  ", ""), "quiet a=\"x y  ");
	assert_string_equal(built("quiet  ", ""), "quiet");
}

static void test_too_long_names_both_parts(void **state)
{
	char out[16];
	struct err e;

	(void)state;
	assert_int_equal(cmdline_build("0123456789", "abcde", out, sizeof(out), &e), -1);
	assert_non_null(strstr(e.msg, "10 bytes are yours, 5 mote's, at most 15 fit"));
	assert_int_equal(cmdline_build("012345678", "abcde", out, sizeof(out), &e), 15);
	assert_string_equal(out, "012345678 abcde");
}

/* A parameter counts as the user's when a word before "--" sets it. */
static void test_has_param(void **state)
{
	(void)state;
	assert_true(cmdline_has_param("console=ttyS0 pci=noacpi", "pci"));
	assert_true(cmdline_has_param("pci quiet", "pci"));
	assert_false(cmdline_has_param("pcie_aspm=off", "pci"));
	assert_false(cmdline_has_param("console=ttyS0 -- pci=off", "pci")); /* init's */
	assert_false(cmdline_has_param("", "pci"));
	assert_true(cmdline_has_param("\t8250.nr_uarts=4", "8250.nr_uarts"));
	/* Linux's words: quotes hold blanks, '-' and '_' are one */
	assert_false(cmdline_has_param("foo=\"x pci=1\"", "pci"));
	assert_true(cmdline_has_param("\"pci=nomsi\" quiet", "pci"));
	assert_true(cmdline_has_param("8250.nr-uarts=2", "8250.nr_uarts"));
}

/* mote's skip words, each left out when the user set that parameter. */
static void test_skip_words(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(cmdline_skip_words("console=ttyS0", out, sizeof(out), false),
	                 (int)strlen(" pci=off 8250.nr_uarts=1"));
	assert_string_equal(out, " pci=off 8250.nr_uarts=1");
	cmdline_skip_words("pci=conf1 quiet", out, sizeof(out), false);
	assert_string_equal(out, " 8250.nr_uarts=1");
	cmdline_skip_words("8250.nr_uarts=2 pci=off", out, sizeof(out), false);
	assert_string_equal(out, "");
	assert_int_equal(cmdline_skip_words("", out, 5, false), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_devices_go_before_init_args),
	    cmocka_unit_test(test_quoted_separator_counts),
	    cmocka_unit_test(test_words_that_are_not_the_separator),
	    cmocka_unit_test(test_linux_blanks_and_open_quotes),
	    cmocka_unit_test(test_too_long_names_both_parts),
	    cmocka_unit_test(test_has_param),
	    cmocka_unit_test(test_skip_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
