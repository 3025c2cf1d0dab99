// SPDX-License-Identifier: MIT
#include "cmdline.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* A blank as Linux's isspace sees one (lib/ctype.c): space, \t to \r, and
 * 0xa0 (Latin-1's no-break space), whatever the C library's locale says. */
static bool blank(char c)
{
	unsigned char u = (unsigned char)c;

	return u == ' ' || (u >= '\t' && u <= '\r') || u == 0xa0;
}

/* Ends the word at @s; sets @w and @len to it without the quotes Linux
 * removes (a leading one, and the last byte if that is one too), and
 * @open if a quote is still open at its end (the end of the line). */
static const char *word(const char *s, const char **w, size_t *len, bool *open)
{
	bool quoted = *s == '"', in_quote = quoted;
	const char *p = s + quoted;

	for (; *p && (in_quote || !blank(*p)); p++)
		if (*p == '"')
			in_quote = !in_quote;
	*w = s + quoted;
	*len = (size_t)(p - *w);
	*open = in_quote;
	if (quoted && *len && (*w)[*len - 1] == '"')
		(*len)--;
	return p;
}

/* True if a double quote is still open at the end of @s. */
static bool open_quote(const char *s)
{
	bool open = false;

	while (*s) {
		const char *w;
		size_t len;

		while (blank(*s))
			s++;
		if (*s)
			s = word(s, &w, &len, &open);
	}
	return open;
}

const char *cmdline_init_args(const char *s)
{
	while (*s) {
		const char *start, *w;
		size_t len;
		bool open;

		while (blank(*s))
			s++;
		if (!*s)
			break;
		start = s;
		s = word(s, &w, &len, &open);
		if (len == 2 && w[0] == '-' && w[1] == '-')
			return start;
	}
	return NULL;
}

int cmdline_build(const char *user, const char *devices, char *out, size_t n, struct err *e)
{
	const char *rest = cmdline_init_args(user);
	size_t head = rest ? (size_t)(rest - user) : strlen(user);
	size_t dev = strlen(devices), tail = rest ? strlen(rest) : 0;
	bool open = !rest && open_quote(user);
	size_t need;

	if (open && dev)
		return err_set(
		    e, "command line: a double quote is never closed, so mote's device words "
		       "would become part of its last word; close it");
	/* Blanks before the "--" or at the end go, unless a quote left open
	 * makes them part of the last word. */
	while (head && blank(user[head - 1]) && !open)
		head--;
	need = head + (head && dev) + dev + (tail && (head || dev)) + tail;
	if (need >= n)
		return err_set(e,
		               "command line is too long with the devices' words: %zu bytes are "
		               "yours, %zu mote's, at most %zu fit",
		               strlen(user), dev, n - 1);
	memcpy(out, user, head);
	need = head;
	if (head && dev)
		out[need++] = ' ';
	memcpy(out + need, devices, dev);
	need += dev;
	if (tail && (head || dev))
		out[need++] = ' ';
	memcpy(out + need, rest ? rest : "", tail);
	need += tail;
	out[need] = '\0';
	return (int)need;
}

/* Whether parameter names @a (@n bytes) and @key are one, as Linux's
 * parameq sees them: '-' and '_' alike. */
static bool param_eq(const char *a, size_t n, const char *key)
{
	if (strlen(key) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = key[i] == '-' ? '_' : key[i];

		if (x != y)
			return false;
	}
	return true;
}

bool cmdline_has_param(const char *user, const char *key)
{
	const char *end = cmdline_init_args(user), *p = user;

	if (!end)
		end = user + strlen(user);
	while (p < end) {
		const char *w;
		size_t len, name;
		bool open;

		while (p < end && blank(*p))
			p++;
		if (p >= end)
			break;
		p = word(p, &w, &len, &open);
		for (name = 0; name < len && w[name] != '='; name++)
			;
		if (param_eq(w, name, key))
			return true;
	}
	return false;
}

/* Hardware a PC has and mote does not, and the words that keep Linux from
 * waiting on it (docs/distro-boot.md has the measurements). */
static const struct cmdline_skip skips[] = {
    {"pci", "pci=off",
     "there is no PCI: without it Linux scans every bus for an AGP bridge through ports "
     "0xcf8/0xcfc, an exit each"},
    {"8250.nr_uarts", "8250.nr_uarts=1",
     "there is one UART (COM1): without it Linux probes four legacy ports"},
};

int cmdline_skip_words(const char *user, char *out, size_t n, bool verbose)
{
	size_t len = 0;

	if (n)
		out[0] = '\0';
	for (size_t i = 0; i < sizeof(skips) / sizeof(skips[0]); i++) {
		int w;

		if (cmdline_has_param(user, skips[i].key))
			continue;
		w = snprintf(out + len, n - len, " %s", skips[i].word);
		if (w < 0 || (size_t)w >= n - len)
			return -1;
		len += (size_t)w;
		if (verbose)
			fprintf(stderr, "mote: added %s: %s (--keep-probes leaves it out)\n",
			        skips[i].word, skips[i].why);
	}
	return (int)len;
}
