// SPDX-License-Identifier: MIT
/* cmdline_build and cmdline_init_args, checked against a copy of the way
 * Linux itself reads its command line (kernel/params.c parse_args and
 * lib/cmdline.c next_arg, with lib/ctype.c's isspace).
 *
 * Input: the user's command line, a NUL, mote's device words, and
 * optionally a NUL and one byte k: the output buffer is k bytes smaller
 * than the most the result can take. No NUL: the words are a virtio-mmio
 * device's. The device words are made what mote's are (printable, no
 * quotes, no "--" word); the user's text is taken as it is. */
#include "fuzz.h"

#include "boot/cmdline.h"

#include <string.h>

#define MAX_WORDS 1024

/* Linux's isspace: lib/ctype.c marks 9-13, 32 and 160 (Latin-1 NBSP). */
static int lx_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}

static char *lx_skip_spaces(char *s)
{
	while (lx_space((unsigned char)*s))
		s++;
	return s;
}

/* lib/cmdline.c next_arg, as Linux 6.x has it; @open set if the word ran
 * to the end of the line inside quotes. */
static char *lx_next_arg(char *args, char **param, char **val, int *open)
{
	unsigned int i, equals = 0;
	int in_quote = 0, quoted = 0;
	char *next;

	if (*args == '"') {
		args++;
		in_quote = 1;
		quoted = 1;
	}
	for (i = 0; args[i]; i++) {
		if (lx_space((unsigned char)args[i]) && !in_quote)
			break;
		if (equals == 0 && args[i] == '=')
			equals = i;
		if (args[i] == '"')
			in_quote = !in_quote;
	}
	*open = in_quote;
	*param = args;
	if (!equals) {
		*val = NULL;
	} else {
		args[equals] = '\0';
		*val = args + equals + 1;
		if (**val == '"') {
			(*val)++;
			if (args[i - 1] == '"')
				args[i - 1] = '\0';
		}
	}
	if (quoted && i > 0 && args[i - 1] == '"')
		args[i - 1] = '\0';
	if (args[i]) {
		args[i] = '\0';
		next = args + i + 1;
	} else {
		next = args + i;
	}
	return lx_skip_spaces(next);
}

/* What Linux makes of @s: its own parameters up to "--" (name, and value
 * if it has one), the offset of the "--" word (-1 if none), and whether the
 * parameters end inside an open quote. */
struct lx_words {
	int n;
	long sep;
	int open;
	char *buf;
	char *param[MAX_WORDS], *val[MAX_WORDS]; /* val NULL: no "=" */
};

static void lx_parse(const char *s, struct lx_words *w)
{
	char *args = w->buf = strdup(s);

	if (!args)
		abort();
	w->n = 0;
	w->sep = -1;
	w->open = 0;
	args = lx_skip_spaces(args);
	while (*args) {
		long start = args - w->buf;
		char *param, *val;

		args = lx_next_arg(args, &param, &val, &w->open);
		if (!val && !strcmp(param, "--")) {
			w->sep = start;
			return;
		}
		FUZZ_CHECK(w->n < MAX_WORDS, "too many words");
		w->param[w->n] = param;
		w->val[w->n++] = val;
	}
}

/* Makes @d what mote's device words are: printable ASCII, no quotes (the
 * words a virtio-mmio device gives have none), no "--" word. */
static void sanitise_devices(char *d)
{
	for (char *p = d; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c >= 0x7f)
			*p = ' ';
		else if (c == '"')
			*p = 'q';
	}
	for (char *p = d; *p; p++)
		if (p[0] == '-' && p[1] == '-' && (p == d || p[-1] == ' ') &&
		    (p[2] == ' ' || !p[2]))
			p[1] = '_';
}

static void check_init_args(const char *s, const struct lx_words *w, const char *what)
{
	const char *found = cmdline_init_args(s);
	long at = found ? found - s : -1;

	FUZZ_CHECK(at == w->sep,
	           "cmdline_init_args finds \"--\" at %ld of the %s \"%s\", Linux at %ld", at, what,
	           s, w->sep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char default_devices[] = "virtio_mmio.device=4K@0xd0000000:5";
	char *user, *devices, *out, *big;
	const uint8_t *nul = memchr(data, 0, size), *nul2;
	size_t user_len = nul ? (size_t)(nul - data) : size, dev_len, n, max;
	unsigned k = 0;
	struct lx_words wu, wd, wo;
	struct err e;
	int ret, big_ret;

	user = strndup((const char *)data, user_len);
	if (nul) {
		const uint8_t *d = nul + 1;
		size_t left = size - user_len - 1;

		nul2 = memchr(d, 0, left);
		dev_len = nul2 ? (size_t)(nul2 - d) : left;
		devices = strndup((const char *)d, dev_len);
		if (nul2 && (size_t)(nul2 - data) + 1 < size)
			k = nul2[1];
	} else {
		devices = strdup(default_devices);
	}
	if (!user || !devices)
		abort();
	sanitise_devices(devices);
	dev_len = strlen(devices);
	max = user_len + dev_len + 3; /* head, space, devices, space, tail, NUL */
	n = k < max ? max - k : 0;
	out = malloc(n ? n : 1);
	big = malloc(max);
	if (!out || !big)
		abort();

	lx_parse(user, &wu);
	lx_parse(devices, &wd);
	check_init_args(user, &wu, "user's line");

	ret = cmdline_build(user, devices, out, n, &e);
	big_ret = cmdline_build(user, devices, big, max, &e);
	if (big_ret < 0 && wu.sep < 0 && wu.open && dev_len) {
		/* Refusing a line whose quote would swallow the device words is fine. */
		FUZZ_CHECK(ret < 0, "refused with room, accepted without");
		FUZZ_CHECK(strstr(e.msg, "quote"), "refused an open quote saying: %s", e.msg);
		goto out;
	}
	FUZZ_CHECK(big_ret >= 0, "does not fit in %zu bytes: %s", max, e.msg);
	FUZZ_CHECK((size_t)big_ret == strlen(big), "returned %d for a %zu-byte line", big_ret,
	           strlen(big));
	if (ret < 0) {
		FUZZ_CHECK((size_t)big_ret >= n, "refused %d bytes in %zu", big_ret, n);
		FUZZ_CHECK(strstr(e.msg, "too long"), "message: %s", e.msg);
	} else {
		FUZZ_CHECK((size_t)ret < n, "returned %d for a buffer of %zu", ret, n);
		FUZZ_CHECK(ret == big_ret && !strcmp(out, big), "depends on the buffer size");
	}

	/* The device words, whole, before the "--" that cmdline_init_args finds. */
	if (dev_len) {
		const char *sep = cmdline_init_args(big), *at = strstr(big, devices);
		size_t end = sep ? (size_t)(sep - big) : (size_t)big_ret;

		FUZZ_CHECK(at && (size_t)(at - big) + dev_len <= end,
		           "device words \"%s\" not before the \"--\" in \"%s\"", devices, big);
	}

	/* What Linux sees: the user's parameters then the devices', and init's
	 * arguments exactly as the user wrote them. */
	lx_parse(big, &wo);
	check_init_args(big, &wo, "built line");
	FUZZ_CHECK(wd.sep < 0, "devices \"%s\" hold a \"--\"", devices);
	FUZZ_CHECK(wo.n == wu.n + wd.n,
	           "Linux sees %d parameters in \"%s\", not the user's %d and mote's %d", wo.n, big,
	           wu.n, wd.n);
	for (int i = 0; i < wo.n; i++) {
		const struct lx_words *w = i < wu.n ? &wu : &wd;
		int j = i < wu.n ? i : i - wu.n;
		const char *val = wo.val[i] ? wo.val[i] : "(none)";
		const char *want = w->val[j] ? w->val[j] : "(none)";

		FUZZ_CHECK(!strcmp(wo.param[i], w->param[j]) && !wo.val[i] == !w->val[j] &&
		               !strcmp(val, want),
		           "parameter %d of \"%s\" is \"%s\" = \"%s\", not \"%s\" = \"%s\"", i, big,
		           wo.param[i], val, w->param[j], want);
	}
	FUZZ_CHECK((wo.sep < 0) == (wu.sep < 0), "separator %ld in the user's line, %ld built",
	           wu.sep, wo.sep);
	if (wu.sep >= 0)
		FUZZ_CHECK(!strcmp(big + wo.sep, user + wu.sep), "init's arguments changed: \"%s\"",
		           big + wo.sep);

	free(wo.buf);
out:
	free(wu.buf);
	free(wd.buf);
	free(big);
	free(out);
	free(user);
	free(devices);
	return 0;
}
