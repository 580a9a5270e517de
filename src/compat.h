/*
 * compat.h
 *	  What differs between the PostgreSQL versions lifecycle builds on (13-18).
 */
#ifndef LIFECYCLE_COMPAT_H
#define LIFECYCLE_COMPAT_H

#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

/* Since PostgreSQL 16 the varlena macros (VARDATA_ANY, VARSIZE, ...) live here. */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/* A qualified name's parts; PostgreSQL 16 added a soft-error context. */
#if PG_VERSION_NUM >= 160000
#define string_to_qualified_name_list(string) stringToQualifiedNameList(string, NULL)
#else
#define string_to_qualified_name_list(string) stringToQualifiedNameList(string)
#endif

#if PG_VERSION_NUM < 160000 && defined(__GNUC__)
/*
 * PostgreSQL 16's exported symbols.  Modules are compiled with
 * -fvisibility=hidden (16's PGXS does it; the Makefile adds it before 16), so
 * only what PGDLLEXPORT marks is visible to the server: Pg_magic_func and the
 * PG_FUNCTION_INFO_V1 functions with their info functions.  Before 16,
 * PGDLLEXPORT is empty outside Windows and PG_FUNCTION_INFO_V1 does not mark
 * the function itself.  Every file with a PG_FUNCTION_INFO_V1 includes this.
 */
#undef PGDLLEXPORT
#define PGDLLEXPORT __attribute__((visibility("default")))
#undef PG_FUNCTION_INFO_V1
#define PG_FUNCTION_INFO_V1(funcname) \
extern PGDLLEXPORT Datum funcname(PG_FUNCTION_ARGS); \
extern PGDLLEXPORT const Pg_finfo_record * CppConcat(pg_finfo_,funcname)(void); \
const Pg_finfo_record * \
CppConcat(pg_finfo_,funcname) (void) \
{ \
	static const Pg_finfo_record my_finfo = { 1 }; \
	return &my_finfo; \
} \
extern int no_such_variable
#endif

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

#if PG_VERSION_NUM < 140000
/* PostgreSQL 14's int64 to numeric. */
static inline Numeric
int64_to_numeric(int64 val)
{
	return DatumGetNumeric(DirectFunctionCall1(int8_numeric, Int64GetDatum(val)));
}

/*
 * PostgreSQL 14's val1 / 10^log10val2 as a numeric with display scale
 * log10val2 (>= 0), here through the numeric's text form.
 */
static inline Numeric
int64_div_fast_to_numeric(int64 val1, int log10val2)
{
	char		digits[MAXINT8LEN + 24];
	char		text[MAXINT8LEN + 28];
	uint64		magnitude = val1 < 0 ? -(uint64) val1 : (uint64) val1;
	int			len = snprintf(digits, sizeof(digits), UINT64_FORMAT, magnitude);

	if (log10val2 >= len)
	{
		/* leading zeros, so that a digit stays before the point */
		int			pad = log10val2 - len + 1;

		memmove(digits + pad, digits, len + 1);
		memset(digits, '0', pad);
		len += pad;
	}
	snprintf(text, sizeof(text), "%s%.*s%s%s", val1 < 0 ? "-" : "",
			 len - log10val2, digits, log10val2 > 0 ? "." : "", digits + len - log10val2);
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(text),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
}
#endif

#endif
