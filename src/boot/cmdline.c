// SPDX-License-Identifier: MIT
#include "cmdline.h"

#include <stdbool.h>
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
