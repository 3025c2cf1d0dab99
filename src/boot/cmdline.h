/* SPDX-License-Identifier: MIT */
/* The guest's command line: the user's words with mote's device words put
 * before the "--" after which Linux hands the words to init. */
#ifndef MOTE_BOOT_CMDLINE_H
#define MOTE_BOOT_CMDLINE_H

#include "../err.h"

#include <stdbool.h>
#include <stddef.h>

/* The start of the word in @s that Linux takes as "--", the end of its own
 * parameters, or NULL. Words split as Linux's next_arg splits them: at
 * blanks outside double quotes, a word's opening quote and the quote that
 * ends it removed, so "--" in quotes counts too. */
const char *cmdline_init_args(const char *s);

/* Writes into @out (@n bytes) the words of @user before its "--" (trailing
 * blanks dropped), then @devices (mote's words, may be ""), then the rest
 * of @user from the "--" on. Returns the length, or -1 with @e saying how
 * many bytes are the user's and how many mote's when it does not fit. */
int cmdline_build(const char *user, const char *devices, char *out, size_t n, struct err *e);

/* Whether the words of @user before its "--" set parameter @key ("key" or
 * "key=..."). */
bool cmdline_has_param(const char *user, const char *key);

/* One word mote adds so that Linux does not probe for hardware mote never
 * has, and why. */
struct cmdline_skip {
	const char *key;  /* the parameter; a user's own setting of it wins */
	const char *word; /* what mote adds */
	const char *why;
};

/* Writes into @out (@n bytes) the skip words @user does not set itself,
 * blank-separated, each with a blank before it; returns their length, or
 * -1 if they do not fit. With @verbose, names each on stderr. */
int cmdline_skip_words(const char *user, char *out, size_t n, bool verbose);

#endif
