/*
 * fingerprint.c
 *	  A 64-bit fingerprint of a row's values, from the bytes of each value
 *	  (a varlena's data, whatever its header) behind its length, and where
 *	  its NULLs are.  Two
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
#include "lib/stringinfo.h"

#include "compat.h"
#include "fingerprint.h"

/* Append one value of a column of the given attribute, as its bytes, behind their length. */
static void
append_value(StringInfo buf, Form_pg_attribute att, Datum value)
{
	const char *bytes;
	int32		len;
	char		byval[sizeof(Datum)];
	struct varlena *datum = NULL;

	if (att->attbyval)
	{
		store_att_byval(byval, value, att->attlen);
		bytes = byval;
		len = att->attlen;
	}
	else if (att->attlen == -1)
	{
		datum = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(value));
		bytes = VARDATA_ANY(datum);
		len = VARSIZE_ANY_EXHDR(datum);
	}
	else if (att->attlen == -2)
	{
		bytes = DatumGetCString(value);
		len = strlen(bytes);
	}
	else
	{
		bytes = DatumGetPointer(value);
		len = att->attlen;
	}
	appendBinaryStringInfo(buf, (const char *) &len, sizeof(len));
	appendBinaryStringInfo(buf, bytes, len);
	if (datum != NULL && (Pointer) datum != DatumGetPointer(value))
		pfree(datum);
}

/*
 * The fingerprint of columns from..to-1 of a row of desc (the same for the
 * same values at other places): one hash of their bytes, each behind its
 * length (-1: NULL).
 */
uint64
row_fingerprint(TupleDesc desc, const Datum *values, const bool *nulls, int from, int to)
{
	StringInfoData buf;
	uint64		hash;

	initStringInfo(&buf);
	for (int i = from; i < to; i++)
	{
		if (nulls[i])
		{
			int32		null = -1;

			appendBinaryStringInfo(&buf, (const char *) &null, sizeof(null));
		}
		else
			append_value(&buf, TupleDescAttr(desc, i), values[i]);
	}
	hash = hash_bytes_extended((const unsigned char *) buf.data, buf.len, 0);
	pfree(buf.data);
	return hash;
}

/* The fingerprint of a bytea's data. */
uint64
bytes_fingerprint(const bytea *bytes)
{
	return hash_bytes_extended((const unsigned char *) VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes), 0);
}
