// SPDX-License-Identifier: MIT
#include "cmdline.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

/* Ends the word at @s; sets @w and @len to it without the quotes Linux
 * removes (a leading one, and the last byte if that is one too). */
static const char *word(const char *s, const char **w, size_t *len)
{
	bool quoted = *s == '"', in_quote = quoted;
	const char *p = s + quoted;

	for (; *p && (in_quote || !isspace((unsigned char)*p)); p++)
		if (*p == '"')
			in_quote = !in_quote;
	*w = s + quoted;
	*len = (size_t)(p - *w);
	if (quoted && *len && (*w)[*len - 1] == '"')
		(*len)--;
	return p;
}

const char *cmdline_init_args(const char *s)
{
	while (*s) {
		const char *start, *w;
		size_t len;

		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		start = s;
		s = word(s, &w, &len);
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
	size_t need;

	while (head && isspace((unsigned char)user[head - 1]))
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
