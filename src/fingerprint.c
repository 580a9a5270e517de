/*
 * fingerprint.c
 *	  A 64-bit fingerprint of a row's values, from the bytes of each value
 *	  (a varlena's data, whatever its header) and where its NULLs are.  Two
 *	  rows of the same column types with equal bytes have equal
 *	  fingerprints; different rows collide with a chance of about 2^-64, so
 *	  a refresh that rewrites only the rows whose fingerprint changed misses
 *	  a change to one row of a million with a chance of about 10^-13.
 */
#include "postgres.h"

#include "access/tupdesc.h"
#include "access/tupmacs.h"
#include "common/hashfn.h"
#include "fmgr.h"

#include "fingerprint.h"

/* What a NULL in column i adds. */
#define NULL_SEED(i)	(UINT64CONST(0x9E3779B97F4A7C15) * ((uint64) (i) + 1))

/* Fold one value of a column of the given attribute into the fingerprint. */
static uint64
value_fingerprint(Form_pg_attribute att, Datum value, uint64 seed)
{
	if (att->attbyval)
	{
		/* the value's own bytes, as it would be stored */
		char		bytes[sizeof(Datum)];

		store_att_byval(bytes, value, att->attlen);
		return hash_bytes_extended((const unsigned char *) bytes, att->attlen, seed);
	}
	if (att->attlen == -1)
	{
		struct varlena *datum = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(value));
		uint64		hash = hash_bytes_extended((const unsigned char *) VARDATA_ANY(datum),
											   VARSIZE_ANY_EXHDR(datum), seed);

		if ((Pointer) datum != DatumGetPointer(value))
			pfree(datum);
		return hash;
	}
	if (att->attlen == -2)
		return hash_bytes_extended((const unsigned char *) DatumGetCString(value),
								   strlen(DatumGetCString(value)), seed);
	return hash_bytes_extended((const unsigned char *) DatumGetPointer(value), att->attlen, seed);
}

/* The fingerprint of columns from..to-1 of a row of desc (the same for the same values at other places). */
uint64
row_fingerprint(TupleDesc desc, const Datum *values, const bool *nulls, int from, int to)
{
	uint64		hash = 0;

	for (int i = from; i < to; i++)
	{
		if (nulls[i])
			hash = hash_combine64(hash, NULL_SEED(i - from));
		else
			hash = value_fingerprint(TupleDescAttr(desc, i), values[i], hash + (uint64) (i - from));
	}
	return hash;
}

/* The fingerprint of a bytea's data. */
uint64
bytes_fingerprint(const bytea *bytes)
{
	return hash_bytes_extended((const unsigned char *) VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes), 0);
}
