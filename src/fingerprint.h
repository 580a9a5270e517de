/*
 * fingerprint.h
 *	  A 64-bit fingerprint of a row's values (fingerprint.c): how a refresh
 *	  tells a customer's new row from the one it already has.
 */
#ifndef LIFECYCLE_FINGERPRINT_H
#define LIFECYCLE_FINGERPRINT_H

#include "postgres.h"

#include "access/tupdesc.h"

extern uint64 row_fingerprint(TupleDesc desc, const Datum *values, const bool *nulls, int from, int to);
extern bool rows_equal(TupleDesc desc, const Datum *a, const bool *a_nulls, const Datum *b, const bool *b_nulls,
					   int from, int to);
extern uint64 bytes_fingerprint(const bytea *bytes);

#endif
