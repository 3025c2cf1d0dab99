// SPDX-License-Identifier: MIT
#include "cachedir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cache_dir(const char *sub, char *out, size_t n)
{
	const char *dir = getenv("MOTE_CACHE"), *mid = "";
	int w;

	if (!dir || !*dir) {
		dir = getenv("XDG_CACHE_HOME");
		mid = "/mote";
	}
	if (!dir || !*dir) {
		dir = getenv("HOME");
		mid = "/.cache/mote";
	}
	if (!dir || !*dir)
		return -1;
	w = snprintf(out, n, "%s%s/%s", dir, mid, sub);
	return w > 0 && (size_t)w < n ? 0 : -1;
}

void cache_make_parents(const char *path)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *s = strchr(dir + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(dir, 0755);
		*s = '/';
	}
}
