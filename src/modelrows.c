/*
 * modelrows.c
 *	  The state of the model-fitting aggregates: the distinct input rows and
 *	  their total weights.  Transition, combine, portable serialize and
 *	  deserialize, and the rows a final function fits, sorted and merged.
 *
 * Rows live in a dense array.  During the transitions a hash index (12-byte
 * entries holding a row's position and hash) finds the row equal to a new
 * one, so that customers with identical histories become one row carrying
 * their total weight: memory grows with the number of distinct rows, not
 * customers.  Combining states appends the other state's rows; equal rows
 * coming from different states are merged by the final function after
 * sorting, which also makes every plan (serial, parallel, any input order)
 * add the same numbers in the same order.  Rows with a NULL argument are
 * left out, as aggregates do.
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "libpq/pqformat.h"
#include "aggregate.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "compat.h"
#include "models.h"

/* Version of the serialized state; bump on any change of layout. */
#define MODEL_STATE_FORMAT	1

/* What a state's rows are. */
#define KIND_PURCHASE	'p'		/* (frequency, recency, T) */
#define KIND_SPEND		's'		/* (frequency, mean spend, 0) */

/* Bytes of one serialized row: four float8. */
#define ROW_BYTES		32

/* The index key that stands for the row being looked up (ModelState.probe). */
#define PROBE			PG_UINT32_MAX

/* A hash index entry: the position of a row in the dense array. */
typedef struct RowIndexEntry
{
	uint32		row;
	uint32		hash;
	char		status;
} RowIndexEntry;

typedef struct ModelState
{
	char		kind;
	uint32		nrows;
	uint32		capacity;
	ModelRow   *rows;			/* dense; equal rows only after a combine */
	struct rowindex_hash *index;	/* built by the first transition */
	ModelRow	probe;			/* the row being looked up in the index */
	MemoryContext mcxt;
} ModelState;

/* The 64-bit finalizer of MurmurHash3: every input bit affects every output bit. */
static inline uint64
mix64(uint64 h)
{
	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

/* Hash of a row's values (x, v, t), from the bits of the doubles. */
static inline uint32
row_hash(const ModelRow *row)
{
	uint64		bits[3];

	memcpy(&bits[0], &row->x, sizeof(double));
	memcpy(&bits[1], &row->v, sizeof(double));
	memcpy(&bits[2], &row->t, sizeof(double));
	return (uint32) mix64(hash_combine64(hash_combine64(mix64(bits[0]), mix64(bits[1])),
										 mix64(bits[2])));
}

/* True if two rows have the same values (their weights aside). */
static inline bool
rows_equal(const ModelRow *a, const ModelRow *b)
{
	return a->x == b->x && a->v == b->v && a->t == b->t;
}

/* The row an index key stands for. */
static inline const ModelRow *
key_row(const ModelState *state, uint32 key)
{
	return key == PROBE ? &state->probe : &state->rows[key];
}

#define SH_PREFIX		rowindex
#define SH_ELEMENT_TYPE RowIndexEntry
#define SH_KEY_TYPE		uint32
#define SH_KEY			row
#define SH_HASH_KEY(tb, k) row_hash(key_row((tb)->private_data, k))
#define SH_EQUAL(tb, a, b) rows_equal(key_row((tb)->private_data, a), key_row((tb)->private_data, b))
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* A fresh state of the given kind in mcxt, with room for "capacity" rows. */
static ModelState *
state_create(MemoryContext mcxt, char kind, uint32 capacity)
{
	ModelState *state = MemoryContextAllocZero(mcxt, sizeof(ModelState));

	state->kind = kind;
	state->mcxt = mcxt;
	state->capacity = Max(capacity, 256);
	state->rows = MemoryContextAllocHuge(mcxt, (Size) state->capacity * sizeof(ModelRow));
	return state;
}

/* Make room for "more" further rows. */
static void
state_reserve(ModelState *state, uint32 more)
{
	uint64		needed = (uint64) state->nrows + more;
	uint64		capacity = state->capacity;

	if (needed <= capacity)
		return;
	if (needed >= PROBE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many distinct rows for a model fit")));
	while (capacity < needed)
		capacity *= 2;
	state->capacity = (uint32) Min(capacity, (uint64) PROBE - 1);
	state->rows = repalloc_huge(state->rows, (Size) state->capacity * sizeof(ModelRow));
}

/* Index every row of the state (the first rows of an equal run win). */
static void
index_build(ModelState *state)
{
	state->index = rowindex_create(state->mcxt, Max(state->nrows, 256), state);
	for (uint32 i = 0; i < state->nrows; i++)
	{
		bool		found;

		rowindex_insert(state->index, i, &found);
	}
}

/* Add weight to the row with values (x, v, t), creating it if new. */
static void
state_add(ModelState *state, double x, double v, double t, double weight)
{
	RowIndexEntry *entry;
	bool		found;

	if (state->index == NULL)
		index_build(state);
	/* -0.0 == 0.0, but their bits, which the hash reads, differ */
	state->probe.x = x == 0 ? 0.0 : x;
	state->probe.v = v == 0 ? 0.0 : v;
	state->probe.t = t == 0 ? 0.0 : t;
	state->probe.weight = weight;
	entry = rowindex_insert(state->index, PROBE, &found);
	if (found)
	{
		ModelRow   *row = &state->rows[entry->row];

		row->weight += weight;
		if (!isfinite(row->weight))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("total weight out of range")));
		return;
	}
	state_reserve(state, 1);
	state->rows[state->nrows] = state->probe;
	entry->row = state->nrows++;
}

/*
 * The state for a transition call: the existing one, or a new one of the
 * given kind when the first argument is NULL.
 */
static ModelState *
transition_state(FunctionCallInfo fcinfo, char kind)
{
	MemoryContext mcxt = aggregate_context(fcinfo);

	if (PG_ARGISNULL(0))
		return state_create(mcxt, kind, 0);
	return (ModelState *) PG_GETARG_POINTER(0);
}

/* True if any argument after the state is NULL: such rows are left out. */
static bool
row_has_null(FunctionCallInfo fcinfo)
{
	for (int i = 1; i < PG_NARGS(); i++)
		if (PG_ARGISNULL(i))
			return true;
	return false;
}

/* The row's weight: its last argument if the aggregate has one, else 1. */
static double
row_weight(FunctionCallInfo fcinfo, int unweighted_nargs)
{
	double		weight;

	if (PG_NARGS() == unweighted_nargs)
		return 1.0;
	weight = PG_GETARG_FLOAT8(unweighted_nargs);
	check_weight(weight);
	return weight;
}

/* The unchanged state (possibly NULL) for a row that is left out. */
static Datum
skip_row(FunctionCallInfo fcinfo)
{
	aggregate_context(fcinfo);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_POINTER(PG_GETARG_POINTER(0));
}

PG_FUNCTION_INFO_V1(model_purchase_rows_trans);
/*
 * Transition of bgnbd_fit and mbgnbd_fit: (state, frequency, recency, T
 * [, weight]).  Checks the row and adds its weight.
 */
Datum
model_purchase_rows_trans(PG_FUNCTION_ARGS)
{
	ModelState *state;
	double		x,
				t_x,
				t,
				weight;

	if (row_has_null(fcinfo))
		return skip_row(fcinfo);
	x = PG_GETARG_FLOAT8(1);
	t_x = PG_GETARG_FLOAT8(2);
	t = PG_GETARG_FLOAT8(3);
	check_purchase_history(x, t_x, t);
	weight = row_weight(fcinfo, 4);
	state = transition_state(fcinfo, KIND_PURCHASE);
	state_add(state, x, t_x, t, weight);
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(model_spend_rows_trans);
/*
 * Transition of gammagamma_fit: (state, frequency, monetary_value
 * [, weight]).  Customers without repeat purchases, or whose repeat
 * purchases have no known value (mean 0), tell nothing about spend and are
 * left out; the state is still created, so that a fit over only such
 * customers can say so.
 */
Datum
model_spend_rows_trans(PG_FUNCTION_ARGS)
{
	ModelState *state;
	double		x,
				m,
				weight;

	if (row_has_null(fcinfo))
		return skip_row(fcinfo);
	x = PG_GETARG_FLOAT8(1);
	m = PG_GETARG_FLOAT8(2);
	check_spend_history(x, m);
	weight = row_weight(fcinfo, 3);
	state = transition_state(fcinfo, KIND_SPEND);
	if (spend_is_informative(x, m))
		state_add(state, x, m, 0.0, weight);
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(model_rows_combine);
/*
 * Combine two partial states by appending the second one's rows to the
 * first.  Not strict: either may be NULL (a worker that saw no row), and a
 * NULL first state gets a copy in the aggregate context rather than a
 * pointer to the second one.
 */
Datum
model_rows_combine(PG_FUNCTION_ARGS)
{
	MemoryContext mcxt = aggregate_context(fcinfo);
	ModelState *into = PG_ARGISNULL(0) ? NULL : (ModelState *) PG_GETARG_POINTER(0);
	ModelState *from;

	if (PG_ARGISNULL(1))
	{
		if (into == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(into);
	}
	from = (ModelState *) PG_GETARG_POINTER(1);
	if (into == NULL)
		into = state_create(mcxt, from->kind, from->nrows);
	if (into->kind != from->kind)
		elog(ERROR, "cannot combine model fit states of different kinds");
	state_reserve(into, from->nrows);
	memcpy(&into->rows[into->nrows], from->rows, (Size) from->nrows * sizeof(ModelRow));
	into->nrows += from->nrows;
	PG_RETURN_POINTER(into);
}

PG_FUNCTION_INFO_V1(model_rows_serialize);
/*
 * Serialize a state field by field in network byte order behind a format
 * version byte: version, kind, row count, then (x, v, t, weight) per row.
 */
Datum
model_rows_serialize(PG_FUNCTION_ARGS)
{
	ModelState *state = (ModelState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	aggregate_context(fcinfo);
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, MODEL_STATE_FORMAT);
	pq_sendbyte(&buf, state->kind);
	pq_sendint32(&buf, state->nrows);
	for (uint32 i = 0; i < state->nrows; i++)
	{
		pq_sendfloat8(&buf, state->rows[i].x);
		pq_sendfloat8(&buf, state->rows[i].v);
		pq_sendfloat8(&buf, state->rows[i].t);
		pq_sendfloat8(&buf, state->rows[i].weight);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* True if a deserialized row could have come from a transition of that kind. */
static bool
row_valid(char kind, const ModelRow *row)
{
	if (!(isfinite(row->weight) && row->weight > 0))
		return false;
	if (kind == KIND_PURCHASE)
		return purchase_history_valid(row->x, row->v, row->t);
	return spend_history_valid(row->x, row->v) && spend_is_informative(row->x, row->v) &&
		row->t == 0;
}

PG_FUNCTION_INFO_V1(model_rows_deserialize);
/* Rebuild a state from model_rows_serialize's bytes, validating every row. */
Datum
model_rows_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext mcxt = aggregate_context(fcinfo);
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	ModelState *state;
	char		kind;
	uint32		count;

	initReadOnlyStringInfo(&buf, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
	check_serialized_state(buf.len >= 2 + 4, "model fit");
	check_serialized_state(pq_getmsgbyte(&buf) == MODEL_STATE_FORMAT, "model fit");
	kind = pq_getmsgbyte(&buf);
	check_serialized_state(kind == KIND_PURCHASE || kind == KIND_SPEND, "model fit");
	count = (uint32) pq_getmsgint(&buf, 4);
	check_serialized_state(count < PROBE && (uint64) count * ROW_BYTES == (uint64) (buf.len - buf.cursor),
						   "model fit");
	state = state_create(mcxt, kind, count);
	for (uint32 i = 0; i < count; i++)
	{
		ModelRow   *row = &state->rows[i];

		CHECK_FOR_INTERRUPTS();
		row->x = pq_getmsgfloat8(&buf);
		row->v = pq_getmsgfloat8(&buf);
		row->t = pq_getmsgfloat8(&buf);
		row->weight = pq_getmsgfloat8(&buf);
		check_serialized_state(row_valid(kind, row), "model fit");
	}
	state->nrows = count;
	PG_RETURN_POINTER(state);
}

/* Order of rows: by x, then v, then t, then weight. */
static inline int
row_cmp(const ModelRow *a, const ModelRow *b)
{
	if (a->x != b->x)
		return a->x < b->x ? -1 : 1;
	if (a->v != b->v)
		return a->v < b->v ? -1 : 1;
	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	if (a->weight != b->weight)
		return a->weight < b->weight ? -1 : 1;
	return 0;
}

#if PG_VERSION_NUM >= 140000
/* sort_rows(rows, n): an introsort specialized to ModelRow and row_cmp. */
#define ST_SORT			sort_rows
#define ST_ELEMENT_TYPE ModelRow
#define ST_COMPARE(a, b) row_cmp(a, b)
#define ST_CHECK_FOR_INTERRUPTS
#define ST_SCOPE		static
#define ST_DEFINE
#include "lib/sort_template.h"
#else
/* row_cmp for qsort. */
static int
row_qsort_cmp(const void *a, const void *b)
{
	return row_cmp(a, b);
}

/* sort_rows(rows, n) where PostgreSQL has no sort template: qsort, same order. */
static void
sort_rows(ModelRow *rows, size_t n)
{
	qsort(rows, n, sizeof(ModelRow), row_qsort_cmp);
}
#endif

/*
 * In a final function: the state's rows, sorted, equal rows merged into one
 * with their total weight, and the total weight of all.  The state itself
 * is left as it was.  False when the aggregate saw no row at all.
 */
bool
model_rows_get(FunctionCallInfo fcinfo, ModelRows *rows)
{
	ModelState *state;
	int64		n = 0;

	aggregate_context(fcinfo);
	if (PG_ARGISNULL(0))
		return false;
	state = (ModelState *) PG_GETARG_POINTER(0);
	rows->rows = palloc_extended(Max((Size) state->nrows, 1) * sizeof(ModelRow), MCXT_ALLOC_HUGE);
	memcpy(rows->rows, state->rows, (Size) state->nrows * sizeof(ModelRow));
	sort_rows(rows->rows, state->nrows);
	rows->customers = 0.0;
	for (uint32 i = 0; i < state->nrows; i++)
	{
		if (n > 0 && rows_equal(&rows->rows[n - 1], &rows->rows[i]))
			rows->rows[n - 1].weight += rows->rows[i].weight;
		else
			rows->rows[n++] = rows->rows[i];
		rows->customers += rows->rows[i].weight;
	}
	rows->nrows = n;
	if (!isfinite(rows->customers))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("total weight out of range")));
	return true;
}
