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

/*
 * The bytes a fingerprint hashes, gathered on the stack while they fit (a
 * view's row does): a refresh fingerprints every customer's row, and a
 * StringInfo would cost an allocation per row and a call per value.
 */
typedef struct HashInput
{
	char	   *data;
	Size		len;
	Size		size;
	char		local[1024];
} HashInput;

/* Make room for more bytes, moving the input off the stack. */
static void
hash_input_grow(HashInput *input, Size more)
{
	Size		size = Max(input->size * 2, input->len + more);
	char	   *data = palloc(size);

	memcpy(data, input->data, input->len);
	if (input->data != input->local)
		pfree(input->data);
	input->data = data;
	input->size = size;
}

/* Room for len more bytes; returns where they go. */
static inline char *
hash_input_room(HashInput *input, Size len)
{
	char	   *room;

	if (unlikely(input->len + len > input->size))
		hash_input_grow(input, len);
	room = input->data + input->len;
	input->len += len;
	return room;
}

/* Append a length (-1: NULL). */
static inline void
append_length(HashInput *input, int32 len)
{
	memcpy(hash_input_room(input, sizeof(len)), &len, sizeof(len));
}

/* Append one value of a column of the given attribute, as its bytes, behind their length. */
static void
append_value(HashInput *input, Form_pg_attribute att, Datum value)
{
	char		byval[sizeof(Datum)];
	int32		len;
	const char *bytes = value_bytes(att, value, byval, &len);

	append_length(input, len);
	memcpy(hash_input_room(input, len), bytes, len);
}

/*
 * The fingerprint of columns from..to-1 of a row of desc (the same for the
 * same values at other places): one hash of their bytes, each behind its
 * length (-1: NULL).
 */
uint64
row_fingerprint(TupleDesc desc, const Datum *values, const bool *nulls, int from, int to)
{
	HashInput	input;
	uint64		hash;

	input.data = input.local;
	input.len = 0;
	input.size = sizeof(input.local);
	for (int i = from; i < to; i++)
	{
		if (nulls[i])
			append_length(&input, -1);
		else
			append_value(&input, TupleDescAttr(desc, i), values[i]);
	}
	hash = hash_bytes_extended((const unsigned char *) input.data, input.len, 0);
	if (input.data != input.local)
		pfree(input.data);
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
