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

/*
 * A value of a column of the given attribute as its bytes (a varlena's data,
 * whatever its header); byval is room for a value passed by value.
 */
static const char *
value_bytes(Form_pg_attribute att, Datum value, char *byval, int32 *len)
{
	if (att->attbyval)
	{
		store_att_byval(byval, value, att->attlen);
		*len = att->attlen;
		return byval;
	}
	if (att->attlen == -1)
	{
		struct varlena *datum = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(value));

		*len = VARSIZE_ANY_EXHDR(datum);
		return VARDATA_ANY(datum);
	}
	if (att->attlen == -2)
	{
		*len = strlen(DatumGetCString(value));
		return DatumGetCString(value);
	}
	*len = att->attlen;
	return DatumGetPointer(value);
}

/* Append one value of a column of the given attribute, as its bytes, behind their length. */
static void
append_value(StringInfo buf, Form_pg_attribute att, Datum value)
{
	char		byval[sizeof(Datum)];
	int32		len;
	const char *bytes = value_bytes(att, value, byval, &len);

	appendBinaryStringInfo(buf, (const char *) &len, sizeof(len));
	appendBinaryStringInfo(buf, bytes, len);
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

/*
 * Whether columns from..to-1 of two rows of desc hold the same bytes, with
 * their NULLs in the same places: what comparing their fingerprints tells,
 * without the chance of a collision.
 */
bool
rows_equal(TupleDesc desc, const Datum *a, const bool *a_nulls, const Datum *b, const bool *b_nulls, int from,
		   int to)
{
	for (int i = from; i < to; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		char		a_byval[sizeof(Datum)],
					b_byval[sizeof(Datum)];
		int32		a_len,
					b_len;
		const char *a_bytes,
				   *b_bytes;

		if (a_nulls[i] || b_nulls[i])
		{
			if (a_nulls[i] != b_nulls[i])
				return false;
			continue;
		}
		a_bytes = value_bytes(att, a[i], a_byval, &a_len);
		b_bytes = value_bytes(att, b[i], b_byval, &b_len);
		if (a_len != b_len || memcmp(a_bytes, b_bytes, a_len) != 0)
			return false;
	}
	return true;
}

/* The fingerprint of a bytea's data. */
uint64
bytes_fingerprint(const bytea *bytes)
{
	return hash_bytes_extended((const unsigned char *) VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes), 0);
}
