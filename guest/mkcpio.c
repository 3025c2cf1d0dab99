// SPDX-License-Identifier: MIT
/* mkcpio: writes a cpio "newc" archive (an initramfs) from a list, as any
 * user: owners are root and device nodes are described, not copied.
 *
 * Usage: mkcpio OUT < LIST, where each line of LIST is one of
 *   dir   PATH MODE
 *   file  PATH MODE SOURCE
 *   slink PATH TARGET
 *   nod   PATH MODE c|b MAJOR MINOR
 * MODE is octal permission bits. Blank lines and # comments are skipped. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct entry {
	const char *path;
	unsigned mode;
	unsigned rmajor, rminor;
	const char *data; /* file contents or link target */
	size_t size;
};

static unsigned ino = 1;

static void pad4(FILE *out)
{
	long pos = ftell(out);

	while (pos++ % 4)
		fputc(0, out);
}

static void put(FILE *out, const struct entry *e)
{
	size_t namelen = strlen(e->path) + 1;

	fprintf(out, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", ino++, e->mode,
	        0U, 0U, 1U, 0U, e->size, 0U, 0U, e->rmajor, e->rminor, namelen, 0U);
	fwrite(e->path, 1, namelen, out);
	pad4(out);
	fwrite(e->data, 1, e->size, out);
	pad4(out);
}

static char *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0) {
		fprintf(stderr, "mkcpio: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "mkcpio: %s: read failed\n", path);
		exit(1);
	}
	fclose(f);
	*size = (size_t)n;
	return buf;
}

static int line(FILE *out, const char *l, int lineno)
{
	char kind[8], path[512], arg[1024], type = 'c';
	unsigned mode = 0, ma = 0, mi = 0;
	struct entry e = {.data = ""};

	if (sscanf(l, "%7s", kind) != 1 || kind[0] == '#')
		return 0;
	if (!strcmp(kind, "dir") && sscanf(l, "%*s %511s %o", path, &mode) == 2) {
		e.mode = S_IFDIR | mode;
	} else if (!strcmp(kind, "file") &&
	           sscanf(l, "%*s %511s %o %1023s", path, &mode, arg) == 3) {
		e.mode = S_IFREG | mode;
		e.data = slurp(arg, &e.size);
	} else if (!strcmp(kind, "slink") && sscanf(l, "%*s %511s %1023s", path, arg) == 2) {
		e.mode = S_IFLNK | 0777;
		e.data = arg;
		e.size = strlen(arg);
	} else if (!strcmp(kind, "nod") &&
	           sscanf(l, "%*s %511s %o %c %u %u", path, &mode, &type, &ma, &mi) == 5) {
		e.mode = (type == 'b' ? S_IFBLK : S_IFCHR) | mode;
		e.rmajor = ma;
		e.rminor = mi;
	} else {
		fprintf(stderr, "mkcpio: line %d: cannot parse: %s", lineno, l);
		return -1;
	}
	e.path = path[0] == '/' ? path + 1 : path;
	put(out, &e);
	return 0;
}

int main(int argc, char **argv)
{
	struct entry trailer = {.path = "TRAILER!!!", .data = ""};
	char l[2048], tmp[4096];
	int lineno = 0;
	FILE *out;

	if (argc != 2) {
		fprintf(stderr, "usage: mkcpio OUT < LIST\n");
		return 2;
	}
	/* Written aside and renamed: a running VM maps the old file. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	out = fopen(tmp, "wb");
	if (!out) {
		fprintf(stderr, "mkcpio: %s: %s\n", tmp, strerror(errno));
		return 1;
	}
	while (fgets(l, sizeof(l), stdin))
		if (line(out, l, ++lineno) < 0) {
			remove(tmp);
			return 1;
		}
	put(out, &trailer);
	if (fclose(out) || rename(tmp, argv[1])) {
		fprintf(stderr, "mkcpio: %s: %s\n", argv[1], strerror(errno));
		remove(tmp);
		return 1;
	}
	return 0;
}
