/*
 * aggregate.h
 *	  What the extension's aggregates (rfm_agg, rfm_breaks, the model fits)
 *	  share: their memory context, and the error for a serialized state that
 *	  cannot be theirs.
 */
#ifndef LIFECYCLE_AGGREGATE_H
#define LIFECYCLE_AGGREGATE_H

#include "postgres.h"

#include "fmgr.h"

/* The aggregate's memory context; a can't-happen error outside an aggregate. */
static inline MemoryContext
aggregate_context(FunctionCallInfo fcinfo)
{
	MemoryContext mcxt;

	if (!AggCheckCallContext(fcinfo, &mcxt))
		elog(ERROR, "aggregate support function called in non-aggregate context");
	return mcxt;
}

/* Reject a serialized state of the named aggregate unless ok. */
static inline void
check_serialized_state(bool ok, const char *aggregate)
{
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid serialized %s state", aggregate),
				 errdetail("The state was written by another version of lifecycle or is damaged.")));
}

#endif
