/*
 * modelfit.c
 *	  What the model-fitting aggregates share: their state (the distinct
 *	  input rows with their total weights), its transition, combine, portable
 *	  serialize/deserialize functions, the checks on a customer's history,
 *	  running a fit, and the model composites in and out.
 *
 * The state is a hash table keyed by the row's values, so that customers
 * with identical histories become one row carrying their total weight:
 * memory grows with the number of distinct rows, not customers.  Rows with
 * a NULL argument are left out, as aggregates do.  The fit itself happens in
 * the final functions (bgnbd.c, gammagamma.c), over the rows sorted by
 * value, so that every plan (serial, parallel, any input order) adds the
 * same numbers in the same order and gets the same estimate.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "compat.h"
#include "models.h"

/* Version of the serialized state; bump on any change of layout. */
#define MODEL_STATE_FORMAT	1

/* What a state's rows are. */
#define KIND_PURCHASE	'p'		/* (frequency, recency, T) */
#define KIND_SPEND		's'		/* (frequency, mean spend) */

typedef struct RowKey
{
	double		x;
	double		v;
	double		t;
} RowKey;

typedef struct RowEntry
{
	RowKey		key;
	double		weight;
	char		status;
} RowEntry;

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

/* Hash of a row key, from the bits of its three doubles. */
static inline uint32
row_key_hash(RowKey key)
{
	uint64		bits[3];

	memcpy(bits, &key, sizeof(bits));
	return (uint32) mix64(hash_combine64(hash_combine64(mix64(bits[0]), mix64(bits[1])),
										 mix64(bits[2])));
}

#define SH_PREFIX		rowhash
#define SH_ELEMENT_TYPE RowEntry
#define SH_KEY_TYPE		RowKey
#define SH_KEY			key
#define SH_HASH_KEY(tb, k) row_key_hash(k)
#define SH_EQUAL(tb, a, b) ((a).x == (b).x && (a).v == (b).v && (a).t == (b).t)
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

typedef struct ModelState
{
	char		kind;
	rowhash_hash *rows;
} ModelState;

/* A problem with one input row: what is wrong, and why it matters. */
typedef struct RowProblem
{
	const char *message;
	const char *detail;
} RowProblem;

/* The aggregate's memory context; errors outside an aggregate. */
static MemoryContext
agg_context(FunctionCallInfo fcinfo)
{
	MemoryContext mcxt;

	if (!AggCheckCallContext(fcinfo, &mcxt))
		elog(ERROR, "model fit support function called in non-aggregate context");
	return mcxt;
}

/* A fresh, empty state of the given kind in mcxt, sized for "expected" rows. */
static ModelState *
state_create(MemoryContext mcxt, char kind, uint32 expected)
{
	ModelState *state = MemoryContextAlloc(mcxt, sizeof(ModelState));

	state->kind = kind;
	state->rows = rowhash_create(mcxt, Max(expected, 256), NULL);
	return state;
}

/* True if x is a whole number >= 0. */
static inline bool
is_count(double x)
{
	return isfinite(x) && x >= 0 && x == floor(x);
}

/* Fill *problem and return false when a frequency is not a count. */
static bool
frequency_ok(double x, RowProblem *problem)
{
	if (is_count(x))
		return true;
	problem->message = "frequency must be a non-negative whole number";
	problem->detail = "Frequency counts repeat purchases: purchase days after the first one.";
	return false;
}

/*
 * True if (x, t_x, T) can be a customer's purchase history; otherwise fills
 * *problem.  The first purchase is at age 0, so a customer without repeat
 * purchases has recency 0 and one with repeat purchases a positive recency,
 * never above their age T.
 */
static bool
purchase_history_ok(double x, double t_x, double t, RowProblem *problem)
{
	if (!frequency_ok(x, problem))
		return false;
	problem->detail = "Recency is the customer's age at the last purchase, T the age at the end of the observation.";
	if (!isfinite(t_x) || t_x < 0)
		problem->message = "recency must be a non-negative finite number";
	else if (!isfinite(t) || t < 0)
		problem->message = "T must be a non-negative finite number";
	else if (t_x > t)
		problem->message = "recency must not exceed T";
	else if (x == 0 && t_x != 0)
		problem->message = "recency must be 0 when frequency is 0";
	else if (x > 0 && t_x == 0)
		problem->message = "recency must be positive when frequency is positive";
	else
		return true;
	return false;
}

/* True if (x, m) can be a customer's spend history; otherwise fills *problem. */
static bool
spend_history_ok(double x, double m, RowProblem *problem)
{
	if (!frequency_ok(x, problem))
		return false;
	problem->detail = "The Gamma-Gamma model describes the positive mean spend of the repeat purchases.";
	if (!isfinite(m))
		problem->message = "monetary value must be a finite number";
	else if (x > 0 && m <= 0)
		problem->message = "monetary value must be positive for a customer with repeat purchases";
	else
		return true;
	return false;
}

/* Raise a row problem as an invalid-parameter error. */
static void
report_problem(const RowProblem *problem, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", problem->message),
			 errdetail("%s", problem->detail),
			 errhint("%s", hint)));
}

/* Error unless (x, t_x, T) is a valid purchase history. */
void
check_purchase_history(double x, double t_x, double t)
{
	RowProblem	problem;

	if (!purchase_history_ok(x, t_x, t, &problem))
		report_problem(&problem, "Compute frequency, recency and T with lifecycle.btyd(summary, as_of, time_unit).");
}

/* Error unless (x, m) is a valid spend history. */
void
check_spend_history(double x, double m)
{
	RowProblem	problem;

	if (!spend_history_ok(x, m, &problem))
		report_problem(&problem, "Leave out customers whose repeat purchases have no known positive value.");
}

/* Error unless a row weight is positive and finite. */
static void
check_weight(double weight)
{
	if (!(isfinite(weight) && weight > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weight must be a positive finite number"),
				 errdetail("A weight is the number of customers sharing the row's values."),
				 errhint("Leave out rows that stand for no customer.")));
}

/* Add weight to the row with key (x, v, t), creating it if new. */
static void
state_add(ModelState *state, double x, double v, double t, double weight)
{
	RowKey		key;
	RowEntry   *entry;
	bool		found;

	/* -0.0 == 0.0, but hash_bytes tells them apart */
	key.x = x == 0 ? 0.0 : x;
	key.v = v == 0 ? 0.0 : v;
	key.t = t == 0 ? 0.0 : t;
	entry = rowhash_insert(state->rows, key, &found);
	if (!found)
		entry->weight = weight;
	else
	{
		entry->weight += weight;
		if (!isfinite(entry->weight))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("total weight out of range")));
	}
}

/*
 * The state for a transition call: the existing one, or a new one of the
 * given kind when the first argument is NULL.
 */
static ModelState *
transition_state(FunctionCallInfo fcinfo, char kind)
{
	MemoryContext mcxt = agg_context(fcinfo);

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
	{
		agg_context(fcinfo);
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
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
 * [, weight]).  Customers without repeat purchases have no mean repeat
 * spend and are left out; the state is still created, so that a fit over
 * only such customers can say so.
 */
Datum
model_spend_rows_trans(PG_FUNCTION_ARGS)
{
	ModelState *state;
	double		x,
				m,
				weight;

	if (row_has_null(fcinfo))
	{
		agg_context(fcinfo);
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	x = PG_GETARG_FLOAT8(1);
	m = PG_GETARG_FLOAT8(2);
	check_spend_history(x, m);
	weight = row_weight(fcinfo, 3);
	state = transition_state(fcinfo, KIND_SPEND);
	if (x > 0)
		state_add(state, x, m, 0.0, weight);
	PG_RETURN_POINTER(state);
}

/* Add every row of "from" into "into". */
static void
state_merge(ModelState *into, ModelState *from)
{
	rowhash_iterator iterator;
	RowEntry   *entry;

	if (into->kind != from->kind)
		elog(ERROR, "cannot combine model fit states of different kinds");
	rowhash_start_iterate(from->rows, &iterator);
	while ((entry = rowhash_iterate(from->rows, &iterator)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		state_add(into, entry->key.x, entry->key.v, entry->key.t, entry->weight);
	}
}

PG_FUNCTION_INFO_V1(model_rows_combine);
/*
 * Combine two partial states.  Not strict: either may be NULL (a worker that
 * saw no row), and a NULL first state gets a copy in the aggregate context
 * rather than a pointer to the second one.  The copy is sized for the second
 * state's rows at once, so it never grows while they are copied.
 */
Datum
model_rows_combine(PG_FUNCTION_ARGS)
{
	MemoryContext mcxt = agg_context(fcinfo);
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
		into = state_create(mcxt, from->kind, from->rows->members);
	state_merge(into, from);
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
	rowhash_iterator iterator;
	RowEntry   *entry;
	StringInfoData buf;

	agg_context(fcinfo);
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, MODEL_STATE_FORMAT);
	pq_sendbyte(&buf, state->kind);
	pq_sendint64(&buf, state->rows->members);
	rowhash_start_iterate(state->rows, &iterator);
	while ((entry = rowhash_iterate(state->rows, &iterator)) != NULL)
	{
		pq_sendfloat8(&buf, entry->key.x);
		pq_sendfloat8(&buf, entry->key.v);
		pq_sendfloat8(&buf, entry->key.t);
		pq_sendfloat8(&buf, entry->weight);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Reject a serialized state that cannot be ours. */
static inline void
check_state(bool ok)
{
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid serialized model fit state"),
				 errdetail("The state was written by another version of lifecycle or is damaged.")));
}

PG_FUNCTION_INFO_V1(model_rows_deserialize);
/* Rebuild a state from model_rows_serialize's bytes, validating every row. */
Datum
model_rows_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext mcxt = agg_context(fcinfo);
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	ModelState *state;
	RowProblem	problem;
	char		kind;
	int64		count;

	initReadOnlyStringInfo(&buf, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
	check_state(buf.len >= 2 + 8);
	check_state(pq_getmsgbyte(&buf) == MODEL_STATE_FORMAT);
	kind = pq_getmsgbyte(&buf);
	check_state(kind == KIND_PURCHASE || kind == KIND_SPEND);
	count = pq_getmsgint64(&buf);
	check_state(count >= 0 && count == (buf.len - buf.cursor) / 32 &&
				(buf.len - buf.cursor) % 32 == 0);
	state = state_create(mcxt, kind, (uint32) count);
	for (int64 i = 0; i < count; i++)
	{
		double		x = pq_getmsgfloat8(&buf);
		double		v = pq_getmsgfloat8(&buf);
		double		t = pq_getmsgfloat8(&buf);
		double		weight = pq_getmsgfloat8(&buf);

		CHECK_FOR_INTERRUPTS();
		check_state(isfinite(weight) && weight > 0 &&
					(kind == KIND_PURCHASE ? purchase_history_ok(x, v, t, &problem)
					 : spend_history_ok(x, v, &problem) && x > 0 && t == 0));
		state_add(state, x, v, t, weight);
	}
	PG_RETURN_POINTER(state);
}

/* Order of rows: by x, then v, then t. */
static inline int
row_cmp(const ModelRow *ra, const ModelRow *rb)
{
	if (ra->x != rb->x)
		return ra->x < rb->x ? -1 : 1;
	if (ra->v != rb->v)
		return ra->v < rb->v ? -1 : 1;
	if (ra->t != rb->t)
		return ra->t < rb->t ? -1 : 1;
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
 * In a final function: the state's rows, sorted, with their total weight.
 * False when the aggregate saw no row at all.
 */
bool
model_rows_get(FunctionCallInfo fcinfo, ModelRows *rows)
{
	ModelState *state;
	rowhash_iterator iterator;
	RowEntry   *entry;
	int64		n = 0;

	agg_context(fcinfo);
	if (PG_ARGISNULL(0))
		return false;
	state = (ModelState *) PG_GETARG_POINTER(0);
	rows->nrows = state->rows->members;
	rows->rows = palloc_extended(Max(rows->nrows, 1) * sizeof(ModelRow), MCXT_ALLOC_HUGE);
	rows->customers = 0.0;
	rowhash_start_iterate(state->rows, &iterator);
	while ((entry = rowhash_iterate(state->rows, &iterator)) != NULL)
	{
		ModelRow   *row = &rows->rows[n++];

		row->x = entry->key.x;
		row->v = entry->key.v;
		row->t = entry->key.t;
		row->weight = entry->weight;
	}
	Assert(n == rows->nrows);
	sort_rows(rows->rows, rows->nrows);
	for (int64 i = 0; i < rows->nrows; i++)
		rows->customers += rows->rows[i].weight;
	if (!isfinite(rows->customers))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("total weight out of range")));
	return true;
}

/* The runs of rows with equal frequency, in order, with their weights. */
FrequencyGroup *
model_rows_groups(const ModelRows *rows, int *ngroups)
{
	FrequencyGroup *groups = palloc_extended(Max(rows->nrows, 1) * sizeof(FrequencyGroup),
											 MCXT_ALLOC_HUGE);
	int			n = -1;

	for (int64 i = 0; i < rows->nrows; i++)
	{
		if (n < 0 || rows->rows[i].x != groups[n].x)
		{
			n++;
			groups[n].x = rows->rows[i].x;
			groups[n].weight = 0.0;
			groups[n].first = i;
			groups[n].count = 0;
		}
		groups[n].weight += rows->rows[i].weight;
		groups[n].count++;
	}
	*ngroups = n + 1;
	return groups;
}

/* What an optimizer outcome means for the user. */
static const char *
outcome_message(const OptimResult *result, const char *const *names)
{
	const char *name = result->which >= 0 ? names[result->which] : NULL;

	switch (result->status)
	{
		case OPTIM_CONVERGED:
			return "converged";
		case OPTIM_MAX_ITERATIONS:
			return psprintf("no convergence after %d iterations", result->iterations);
		case OPTIM_TO_ZERO:
			return psprintf("no maximum: the likelihood keeps rising as %s goes to 0", name);
		case OPTIM_TO_INFINITY:
			return psprintf("no maximum: the likelihood keeps rising as %s grows without bound", name);
		case OPTIM_STALLED:
			return "the search stalled: no step improves the likelihood";
		case OPTIM_NOT_IDENTIFIED:
			if (name != NULL)
				return psprintf("the data do not determine %s: its standard error spans orders of magnitude", name);
			return "the data do not determine the parameters: the information matrix is singular";
	}
	return NULL;				/* keep compiler quiet */
}

/*
 * Fit by maximum likelihood from the start in fit->params and fill in the
 * rest of *fit.  Parameters, standard errors and log-likelihood are only
 * given when the search converged to a well-determined maximum.
 */
void
model_fit_run(OptimObjective fn, void *arg, const char *const *names,
			  const ModelRows *rows, ModelFit *fit)
{
	OptimResult result;

	optim_minimize(fn, arg, fit->nparams, rows->customers, fit->params, &result);
	fit->customers = rows->customers;
	fit->iterations = result.iterations;
	fit->converged = result.status == OPTIM_CONVERGED;
	fit->message = outcome_message(&result, names);
	fit->log_likelihood = fit->converged ? -result.value * rows->customers : NAN;
	for (int i = 0; i < fit->nparams; i++)
	{
		if (!fit->converged)
			fit->params[i] = NAN;
		fit->se[i] = fit->converged && result.has_se ? result.se[i] : NAN;
	}
}

/* A float8 datum, NULL for NaN (the fit's "none"). */
static inline void
set_float(Datum *value, bool *isnull, double x)
{
	*isnull = isnan(x);
	*value = Float8GetDatum(x);
}

/*
 * The model composite for *fit: the parameters, their standard errors,
 * log_likelihood, customers, converged, iterations and message.
 */
Datum
model_fit_datum(FunctionCallInfo fcinfo, const ModelFit *fit)
{
	TupleDesc	desc = fcinfo->flinfo->fn_extra;
	Datum		values[2 * OPTIM_MAX_PARAMS + 5];
	bool		nulls[2 * OPTIM_MAX_PARAMS + 5];
	int			n = fit->nparams;

	if (desc == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "model function must return a composite type");
		desc = BlessTupleDesc(CreateTupleDescCopy(desc));
		fcinfo->flinfo->fn_extra = desc;
		MemoryContextSwitchTo(old);
	}
	if (desc->natts != 2 * n + 5)
		elog(ERROR, "model composite has %d attributes, expected %d", desc->natts, 2 * n + 5);
	for (int i = 0; i < n; i++)
	{
		set_float(&values[i], &nulls[i], fit->params[i]);
		set_float(&values[n + i], &nulls[n + i], fit->se[i]);
	}
	set_float(&values[2 * n], &nulls[2 * n], fit->log_likelihood);
	set_float(&values[2 * n + 1], &nulls[2 * n + 1], fit->customers);
	values[2 * n + 2] = BoolGetDatum(fit->converged);
	nulls[2 * n + 2] = false;
	values[2 * n + 3] = Int32GetDatum(fit->iterations);
	nulls[2 * n + 3] = false;
	values[2 * n + 4] = CStringGetTextDatum(fit->message);
	nulls[2 * n + 4] = false;
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

PG_FUNCTION_INFO_V1(model_given);
/*
 * A model from given parameters (published ones, or a stored fit's): the
 * arguments are the parameters in order; they must be positive and finite.
 */
Datum
model_given(PG_FUNCTION_ARGS)
{
	ModelFit	fit;

	fit.nparams = PG_NARGS();
	Assert(fit.nparams <= OPTIM_MAX_PARAMS);
	for (int i = 0; i < fit.nparams; i++)
	{
		fit.params[i] = PG_GETARG_FLOAT8(i);
		fit.se[i] = NAN;
		if (!(isfinite(fit.params[i]) && fit.params[i] > 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("model parameters must be positive finite numbers")));
	}
	fit.log_likelihood = NAN;
	fit.customers = NAN;
	fit.converged = true;
	fit.iterations = 0;
	fit.message = "parameters given";
	PG_RETURN_DATUM(model_fit_datum(fcinfo, &fit));
}

/*
 * Read a model composite's parameters for a prediction.  A model that did
 * not converge has no estimate to predict with: that is an error naming the
 * fit's message, never a prediction from meaningless numbers.
 */
void
model_read(HeapTupleHeader model, int nparams, double *params)
{
	bool		isnull;
	Datum		converged = GetAttributeByNum(model, 2 * nparams + 3, &isnull);

	if (isnull || !DatumGetBool(converged))
	{
		Datum		message = GetAttributeByNum(model, 2 * nparams + 5, &isnull);

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model did not converge"),
				 errdetail("The fit reports: %s.", isnull ? "nothing" : TextDatumGetCString(message)),
				 errhint("Check the fit's converged and message columns before predicting.")));
	}
	for (int i = 0; i < nparams; i++)
	{
		Datum		value = GetAttributeByNum(model, i + 1, &isnull);

		params[i] = isnull ? NAN : DatumGetFloat8(value);
		if (!(isfinite(params[i]) && params[i] > 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("model parameters must be positive finite numbers")));
	}
}
