/*
 * serial.h
 *	  What every aggregate's deserialize function shares: the error for a
 *	  serialized state that cannot be ours.
 */
#ifndef LIFECYCLE_SERIAL_H
#define LIFECYCLE_SERIAL_H

#include "postgres.h"

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
