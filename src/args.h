/*
 * args.h
 *	  Arguments a C function needs given.
 */
#ifndef LIFECYCLE_ARGS_H
#define LIFECYCLE_ARGS_H

#include "postgres.h"

#include "fmgr.h"

/* Argument argno, an error naming it (and hinting, if hint is given) if NULL. */
static inline Datum
required_arg(FunctionCallInfo fcinfo, int argno, const char *name, const char *hint)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name),
				 hint != NULL ? errhint("%s", hint) : 0));
	return PG_GETARG_DATUM(argno);
}

#endif
