/*
 * modelrows.c
 *	  The state of the model-fitting aggregates: the distinct input rows and
 *	  their total weights.  Transition, combine, portable serialize and
 *	  deserialize, and the rows a final function fits, sorted and merged.
 *
 * Rows live in one array: a sorted prefix of distinct rows, then the rows
 * added since, unsorted.  Transitions and combines append.  Up to a million
 * rows (32 MB) the array just grows; beyond, a full array is compacted
 * first: the new rows are sorted and merged into the prefix, equal rows
 * becoming one row with their total weight, and the array only grows if
 * that left it more than half full.  So memory follows the number of
 * distinct rows, not customers, and no row is ever looked up at random
 * (with a million customers of nearly all distinct histories, a hash
 * index of the rows cost more than the fit itself).  The final function
 * compacts the whole array, which changes its layout but not the rows it
 * stands for, so aggregates sharing the state (bgnbd_fit and mbgnbd_fit in
 * one query) and later transitions see the same rows.  Sorting also makes
 * the fit add the rows in the same order whatever the plan (serial,
 * parallel, any input order).  Rows with a NULL argument are left out, as
 * aggregates do.
 */
#include "postgres.h"

#include <math.h>

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

/* Most rows a state holds. */
#define MAX_ROWS		((uint32) PG_INT32_MAX)

/* Rows an array holds before compactions start: 32 MB. */
#define FREE_GROWTH_ROWS ((uint64) 1 << 20)

/* Rows a new state has room for. */
#define INITIAL_ROWS	1024

typedef struct ModelState
{
	char		kind;
	uint32		nrows;			/* rows in use */
	uint32		nsorted;		/* rows[0 .. nsorted - 1] are sorted and distinct */
	uint32		capacity;
	ModelRow   *rows;
	MemoryContext mcxt;
} ModelState;

/* True if two rows have the same values (their weights aside). */
static inline bool
rows_equal(const ModelRow *a, const ModelRow *b)
{
	return a->x == b->x && a->v == b->v && a->t == b->t;
}

/* Order of rows: by x, then v, then t. */
static inline int
row_cmp(const ModelRow *a, const ModelRow *b)
{
	if (a->x != b->x)
		return a->x < b->x ? -1 : 1;
	if (a->v != b->v)
		return a->v < b->v ? -1 : 1;
	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
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

/* A fresh state of the given kind in mcxt, with room for "capacity" rows. */
static ModelState *
state_create(MemoryContext mcxt, char kind, uint32 capacity)
{
	ModelState *state = MemoryContextAllocZero(mcxt, sizeof(ModelState));

	state->kind = kind;
	state->mcxt = mcxt;
	state->capacity = Max(capacity, INITIAL_ROWS);
	state->rows = MemoryContextAllocHuge(mcxt, (Size) state->capacity * sizeof(ModelRow));
	return state;
}

/* Add weight to a row, which stands for one more set of equal rows. */
static inline void
add_weight(ModelRow *row, double weight)
{
	row->weight += weight;
	if (!isfinite(row->weight))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("total weight out of range")));
}

/*
 * Sort the rows added since the last compaction and merge them into the
 * sorted prefix, in place, equal rows becoming one with their total weight.
 * The merge reads the prefix from a copy; it never writes past the tail
 * rows it has read.
 */
static void
state_compact(ModelState *state)
{
	ModelRow   *rows = state->rows;
	ModelRow   *prefix = NULL;
	uint32		nprefix = state->nsorted,
				i = 0,
				j = nprefix,
				n = 0;

	if (nprefix == state->nrows)
		return;
	sort_rows(rows + nprefix, state->nrows - nprefix);
	if (nprefix > 0)
	{
		prefix = MemoryContextAllocHuge(state->mcxt, (Size) nprefix * sizeof(ModelRow));
		memcpy(prefix, rows, (Size) nprefix * sizeof(ModelRow));
	}
	while (i < nprefix || j < state->nrows)
	{
		ModelRow	next;

		CHECK_FOR_INTERRUPTS();
		if (j == state->nrows || (i < nprefix && row_cmp(&prefix[i], &rows[j]) <= 0))
			next = prefix[i++];
		else
			next = rows[j++];
		if (n > 0 && rows_equal(&rows[n - 1], &next))
			add_weight(&rows[n - 1], next.weight);
		else
			rows[n++] = next;
	}
	if (prefix != NULL)
		pfree(prefix);
	state->nrows = state->nsorted = n;
}

/*
 * Make room for "more" further rows.  Up to FREE_GROWTH_ROWS the array
 * just doubles; beyond, a full array is compacted first and only grows
 * (doubling) if it would still be more than half full.
 */
static void
state_reserve(ModelState *state, uint32 more)
{
	uint64		needed = (uint64) state->nrows + more;
	uint64		capacity = state->capacity;

	if (needed <= capacity)
		return;
	if (needed > FREE_GROWTH_ROWS)
	{
		state_compact(state);
		needed = (uint64) state->nrows + more;
		if (needed <= capacity / 2)
			return;
	}
	if (needed > MAX_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many distinct rows for a model fit")));
	while (capacity < needed || (needed > FREE_GROWTH_ROWS && capacity < 2 * needed))
		capacity *= 2;
	state->capacity = (uint32) Min(capacity, (uint64) MAX_ROWS);
	state->rows = repalloc_huge(state->rows, (Size) state->capacity * sizeof(ModelRow));
}

/* Add a row with values (x, v, t) and a weight. */
static void
state_add(ModelState *state, double x, double v, double t, double weight)
{
	ModelRow   *row;

	state_reserve(state, 1);
	row = &state->rows[state->nrows++];
	row->x = x;
	row->v = v;
	row->t = t;
	row->weight = weight;
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
 * Combine two partial states: append the second one's rows to the first
 * and merge them in.  Partial states arrive sorted (serialized compacted),
 * so the merge is linear.  Not strict: either may be NULL (a worker that saw no row), and a
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
	state_compact(into);
	PG_RETURN_POINTER(into);
}

PG_FUNCTION_INFO_V1(model_rows_serialize);
/*
 * Serialize a state field by field in network byte order behind a format
 * version byte: version, kind, row count, then (x, v, t, weight) per row.
 * The state is compacted first: a parallel worker sorts its own rows, and
 * the leader only merges.
 */
Datum
model_rows_serialize(PG_FUNCTION_ARGS)
{
	ModelState *state = (ModelState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	aggregate_context(fcinfo);
	state_compact(state);
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
/*
 * Rebuild a state from model_rows_serialize's bytes, validating every row;
 * rows that arrive sorted and distinct are the state's sorted prefix.
 */
Datum
model_rows_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext mcxt = aggregate_context(fcinfo);
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	ModelState *state;
	char		kind;
	uint32		count;
	bool		sorted = true;

	initReadOnlyStringInfo(&buf, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
	check_serialized_state(buf.len >= 2 + 4, "model fit");
	check_serialized_state(pq_getmsgbyte(&buf) == MODEL_STATE_FORMAT, "model fit");
	kind = pq_getmsgbyte(&buf);
	check_serialized_state(kind == KIND_PURCHASE || kind == KIND_SPEND, "model fit");
	count = (uint32) pq_getmsgint(&buf, 4);
	check_serialized_state(count <= MAX_ROWS && (uint64) count * ROW_BYTES == (uint64) (buf.len - buf.cursor),
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
		if (sorted && i > 0 && row_cmp(&state->rows[i - 1], row) >= 0)
			sorted = false;
	}
	state->nrows = count;
	state->nsorted = sorted ? count : 0;
	PG_RETURN_POINTER(state);
}

/* The compacted state's rows as a fit reads them, with their total weight. */
static void
state_rows(const ModelState *state, ModelRows *rows)
{
	rows->rows = state->rows;
	rows->nrows = state->nrows;
	rows->customers = 0.0;
	for (uint32 i = 0; i < state->nrows; i++)
		rows->customers += state->rows[i].weight;
	if (!isfinite(rows->customers))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("total weight out of range")));
}

/*
 * In a final function: the state's rows, sorted, equal rows merged into one
 * with their total weight, and the total weight of all.  This compacts the
 * state, which changes its layout but not the rows it stands for.  False
 * when the aggregate saw no row at all.
 */
bool
model_rows_get(FunctionCallInfo fcinfo, ModelRows *rows)
{
	ModelState *state;

	aggregate_context(fcinfo);
	if (PG_ARGISNULL(0))
		return false;
	state = (ModelState *) PG_GETARG_POINTER(0);
	state_compact(state);
	state_rows(state, rows);
	return true;
}

/*
 * The rows of an array (valid rows, as the transitions would accept), sorted
 * and merged in place as a fitting aggregate's final function has them.
 */
void
model_rows_from_array(ModelRow *array, int64 n, ModelRows *rows)
{
	ModelState	state;

	if (n > MAX_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many distinct rows for a model fit")));
	memset(&state, 0, sizeof(state));
	state.rows = array;
	state.nrows = state.capacity = (uint32) n;
	state.mcxt = CurrentMemoryContext;
	state_compact(&state);
	state_rows(&state, rows);
}
