/* SPDX-License-Identifier: MIT */
/* mote's cache directory on the host: $MOTE_CACHE, else $XDG_CACHE_HOME/mote, else ~/.cache/mote.
 */
#ifndef MOTE_CACHEDIR_H
#define MOTE_CACHEDIR_H

#include <stddef.h>

/* Writes the cache directory + "/" + @sub into @out; -1 if no variable
 * names a home for it or it does not fit in @n bytes. */
int cache_dir(const char *sub, char *out, size_t n);

/* Makes the directories above @path (mode 0755); errors show when the
 * caller makes the file. */
void cache_make_parents(const char *path);

#endif
