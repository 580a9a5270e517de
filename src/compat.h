/*
 * compat.h
 *	  What differs between the PostgreSQL versions lifecycle builds on (13-17).
 */
#ifndef LIFECYCLE_COMPAT_H
#define LIFECYCLE_COMPAT_H

#include "postgres.h"

#include "lib/stringinfo.h"

#if PG_VERSION_NUM < 170000
/* PostgreSQL 17's reader over bytes we do not own. */
static inline void
initReadOnlyStringInfo(StringInfo str, char *data, int len)
{
	str->data = data;
	str->len = len;
	str->maxlen = 0;
	str->cursor = 0;
}
#endif

#endif
