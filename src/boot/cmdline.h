/* SPDX-License-Identifier: MIT */
/* The guest's command line: the user's words with mote's device words put
 * before the "--" after which Linux hands the words to init. */
#ifndef MOTE_BOOT_CMDLINE_H
#define MOTE_BOOT_CMDLINE_H

#include "../err.h"

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

#endif
