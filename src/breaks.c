/*
 * breaks.c
 *	  The aggregate lifecycle.rfm_breaks(days_since_last_order, frequency,
 *	  monetary [, method]): the breaks between RFM scores 1-5 of a customer
 *	  population (PRODUCT.md section 4).
 *
 * One pass collects the three metrics as doubles; the final function finds
 * the order statistics each quantile needs by selection, without sorting the
 * population or running window functions.  The state combines and serializes
 * (portably, behind a format byte) for parallel query.
 *
 * quantile: type-7 quantiles at 0.2, 0.4, 0.6, 0.8, computed exactly as
 *			 percentile_cont computes them.
 * rfm_r:	 R's quantile(type = 7) at seq(0, 1, length.out = 6), plus 1,
 *			 computed exactly as R computes them (rfm 0.3.0, rfm_table_order).
 * ntile:	 no breaks: ntile scores come from ntile(5) windows.
 * bands:	 F and M as quantile; R by fixed bands of the stage thresholds, so
 *			 that scores agree with stages: 5 up to half the active period,
 *			 4 up to active_days, 3 up to halfway to dormant_days, 2 up to
 *			 dormant_days, 1 beyond (dormant and churned customers).
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/int.h"
#include "aggregate.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"

#include "breaks.h"
#include "compat.h"
#include "numeric_double.h"

/* Version of the serialized state; bump on any change of layout. */
#define BREAKS_STATE_FORMAT	1

/* Below this many values, selection finishes with an insertion sort. */
#define SELECT_SMALL	16

static const char *const method_names[METHOD_COUNT] = {"quantile", "rfm_r", "ntile", "bands"};

/* A growing array of one metric's values. */
typedef struct MetricValues
{
	double	   *values;
	int64		count;
	int64		capacity;
} MetricValues;

typedef struct BreaksState
{
	BreaksMethod method;
	int64		customers;		/* rows with a days_since_last_order */
	MetricValues metrics[METRIC_COUNT];
} BreaksState;

/* The method of a name; an error naming the choices otherwise. */
BreaksMethod
breaks_method(const char *name, int len)
{
	int			i;

	for (i = 0; i < METHOD_COUNT; i++)
		if (strlen(method_names[i]) == len && memcmp(method_names[i], name, len) == 0)
			return (BreaksMethod) i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("RFM scoring method \"%.*s\" not recognized", len, name),
			 errhint(BREAKS_METHOD_HINT)));
	return METHOD_QUANTILE;		/* keep compiler quiet */
}

/* The name of a method, as lifecycle.rfm_breaks.method holds it. */
const char *
breaks_method_name(BreaksMethod method)
{
	return method_names[method];
}

/*
 * A frequency or monetary value as the double that scoring compares: the
 * same double as numeric::float8, so the breaks equal percentile_cont's;
 * a value beyond double's range (1e400) counts as the largest double.
 */
double
metric_value(Numeric value, const char *metric)
{
	double		result = numeric_to_double_clamped(value);

	if (isnan(result) || isinf(result))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite number", metric),
				 errdetail("A NaN or infinite value has no place among the scores.")));
	return result;
}

/* A fresh, empty state for a method in the aggregate context. */
static BreaksState *
state_create(MemoryContext mcxt, BreaksMethod method)
{
	BreaksState *state = MemoryContextAllocZero(mcxt, sizeof(BreaksState));

	state->method = method;
	return state;
}

/* Make room for extra more values (huge allocations allowed). */
static void
values_reserve(MetricValues *metric, int64 extra, MemoryContext mcxt)
{
	int64		needed;
	int64		capacity;

	if (pg_add_s64_overflow(metric->count, extra, &needed) ||
		needed > (int64) (MaxAllocHugeSize / sizeof(double)))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many customers to score in one population")));
	if (needed <= metric->capacity)
		return;
	capacity = Max(needed, Max(metric->capacity * 2, 1024));
	capacity = Min(capacity, (int64) (MaxAllocHugeSize / sizeof(double)));
	if (metric->values == NULL)
		metric->values = MemoryContextAllocHuge(mcxt, capacity * sizeof(double));
	else
		metric->values = repalloc_huge(metric->values, capacity * sizeof(double));
	metric->capacity = capacity;
}

/* Append one value. */
static inline void
values_add(MetricValues *metric, double value, MemoryContext mcxt)
{
	if (metric->count == metric->capacity)
		values_reserve(metric, 1, mcxt);
	metric->values[metric->count++] = value;
}

/* The method argument of a five-argument call; quantile for four. */
static BreaksMethod
method_argument(FunctionCallInfo fcinfo)
{
	text	   *name;

	if (PG_NARGS() < 5)
		return METHOD_QUANTILE;
	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("RFM scoring method must not be NULL"),
				 errhint(BREAKS_METHOD_HINT)));
	name = PG_GETARG_TEXT_PP(4);
	return breaks_method(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));
}

/* An error for two different methods within one population. */
static void
check_same_method(BreaksMethod a, BreaksMethod b)
{
	if (a != b)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("RFM scoring method changed within one population: \"%s\" and \"%s\"",
						method_names[a], method_names[b]),
				 errhint("Pass one method, a constant, for the whole aggregate.")));
}

PG_FUNCTION_INFO_V1(rfm_breaks_trans);
/*
 * Transition: add one customer's metrics.  A customer without a
 * days_since_last_order (no purchase) is not scored; a NULL frequency or
 * monetary is left out of that metric only, as percentile_cont would.
 */
Datum
rfm_breaks_trans(PG_FUNCTION_ARGS)
{
	MemoryContext mcxt = aggregate_context(fcinfo);
	BreaksState *state = PG_ARGISNULL(0) ? NULL : (BreaksState *) PG_GETARG_POINTER(0);
	BreaksMethod method = method_argument(fcinfo);

	if (state != NULL)
		check_same_method(state->method, method);
	if (PG_ARGISNULL(1))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}
	if (state == NULL)
		state = state_create(mcxt, method);
	state->customers++;
	if (method != METHOD_NTILE)
	{
		values_add(&state->metrics[METRIC_R], (double) PG_GETARG_INT32(1), mcxt);
		if (!PG_ARGISNULL(2))
			values_add(&state->metrics[METRIC_F], metric_value(PG_GETARG_NUMERIC(2), "frequency"), mcxt);
		if (!PG_ARGISNULL(3))
			values_add(&state->metrics[METRIC_M], metric_value(PG_GETARG_NUMERIC(3), "monetary"), mcxt);
	}
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(rfm_breaks_combine);
/*
 * Combine two partial states.  Not strict: either may be NULL, and a NULL
 * first state gets a copy in the aggregate context.
 */
Datum
rfm_breaks_combine(PG_FUNCTION_ARGS)
{
	MemoryContext mcxt = aggregate_context(fcinfo);
	BreaksState *into = PG_ARGISNULL(0) ? NULL : (BreaksState *) PG_GETARG_POINTER(0);
	BreaksState *from;
	int			i;

	if (PG_ARGISNULL(1))
	{
		if (into == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(into);
	}
	from = (BreaksState *) PG_GETARG_POINTER(1);
	if (into == NULL)
		into = state_create(mcxt, from->method);
	check_same_method(into->method, from->method);
	if (pg_add_s64_overflow(into->customers, from->customers, &into->customers))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many customers to score in one population")));
	for (i = 0; i < METRIC_COUNT; i++)
	{
		MetricValues *a = &into->metrics[i];
		MetricValues *b = &from->metrics[i];

		if (b->count == 0)
			continue;
		values_reserve(a, b->count, mcxt);
		memcpy(a->values + a->count, b->values, b->count * sizeof(double));
		a->count += b->count;
	}
	PG_RETURN_POINTER(into);
}

PG_FUNCTION_INFO_V1(rfm_breaks_serialize);
/* Serialize a state field by field in network byte order, behind a format byte. */
Datum
rfm_breaks_serialize(PG_FUNCTION_ARGS)
{
	BreaksState *state = (BreaksState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	Size		size = 2 + 8;
	int			i;
	int64		j;

	aggregate_context(fcinfo);
	pq_begintypsend(&buf);
	for (i = 0; i < METRIC_COUNT; i++)
		size += 8 + state->metrics[i].count * sizeof(double);
	if (size > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many customers in one parallel worker's part of the population"),
				 errhint("Score the population without parallel workers: SET max_parallel_workers_per_gather = 0.")));
	enlargeStringInfo(&buf, size);	/* one allocation, no regrowth */
	pq_sendbyte(&buf, BREAKS_STATE_FORMAT);
	pq_sendbyte(&buf, (uint8) state->method);
	pq_sendint64(&buf, state->customers);
	for (i = 0; i < METRIC_COUNT; i++)
	{
		pq_sendint64(&buf, state->metrics[i].count);
		for (j = 0; j < state->metrics[i].count; j++)
		{
			union
			{
				double		value;
				uint64		bits;
			}			swap;

			swap.value = state->metrics[i].values[j];
			pq_writeint64(&buf, swap.bits);
		}
		CHECK_FOR_INTERRUPTS();
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(rfm_breaks_deserialize);
/* Rebuild a state from rfm_breaks_serialize's bytes, validating every size. */
Datum
rfm_breaks_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext mcxt = aggregate_context(fcinfo);
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	BreaksState *state;
	int			method;
	int			i;
	int64		j;

	initReadOnlyStringInfo(&buf, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
	check_serialized_state(buf.len >= 2 + 8 * (1 + METRIC_COUNT), "rfm_breaks");
	check_serialized_state(pq_getmsgbyte(&buf) == BREAKS_STATE_FORMAT, "rfm_breaks");
	method = pq_getmsgbyte(&buf);
	check_serialized_state(method >= 0 && method < METHOD_COUNT, "rfm_breaks");
	state = state_create(mcxt, (BreaksMethod) method);
	state->customers = pq_getmsgint64(&buf);
	check_serialized_state(state->customers >= 0, "rfm_breaks");
	for (i = 0; i < METRIC_COUNT; i++)
	{
		int64		count = pq_getmsgint64(&buf);

		check_serialized_state(count >= 0 && count <= state->customers &&
							   count <= (buf.len - buf.cursor) / 8, "rfm_breaks");
		check_serialized_state(method != METHOD_NTILE || count == 0, "rfm_breaks");
		if (count > 0)
			values_reserve(&state->metrics[i], count, mcxt);
		for (j = 0; j < count; j++)
			state->metrics[i].values[j] = pq_getmsgfloat8(&buf);
		state->metrics[i].count = count;
		CHECK_FOR_INTERRUPTS();
	}
	check_serialized_state(buf.cursor == buf.len, "rfm_breaks");
	PG_RETURN_POINTER(state);
}

/* Insertion sort of v[lo, hi): the end of a selection. */
static void
insertion_sort(double *v, int64 lo, int64 hi)
{
	int64		i,
				j;

	for (i = lo + 1; i < hi; i++)
	{
		double		x = v[i];

		for (j = i; j > lo && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* qsort comparator for doubles (no NaN among the values). */
static int
compare_doubles(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Sort a handful of ranks in place (insertion sort). */
static void
sort_ranks(int64 *ranks, int nranks)
{
	int			i,
				j;

	for (i = 1; i < nranks; i++)
		for (j = i; j > 0 && ranks[j - 1] > ranks[j]; j--)
		{
			int64		swap = ranks[j];

			ranks[j] = ranks[j - 1];
			ranks[j - 1] = swap;
		}
}

/* The median of three values. */
static inline double
median3(double a, double b, double c)
{
	if (a < b)
		return b < c ? b : (a < c ? c : a);
	return a < c ? a : (b < c ? c : b);
}

/*
 * Rearrange v[lo, hi) so that each of the given ranks (ascending, within
 * [lo, hi)) holds the value of that rank.  Multiple quickselect: a three-way
 * partition around a median-of-three pivot places a run of ties at once
 * (scores have many), and the ranks on each side are pursued on that side
 * only.  Past a depth of 64 partitions the range is sorted instead, so that
 * no input makes it quadratic.
 */
static void
select_ranks(double *v, int64 lo, int64 hi, const int64 *ranks, int nranks, int depth)
{
	while (nranks > 0 && hi - lo > SELECT_SMALL)
	{
		double		pivot = median3(v[lo], v[lo + (hi - lo) / 2], v[hi - 1]);
		int64		lt = lo,
					i = lo,
					gt = hi;
		int			left,
					right;

		CHECK_FOR_INTERRUPTS();
		if (depth++ == 64)
		{
			qsort(v + lo, hi - lo, sizeof(double), compare_doubles);
			return;
		}
		while (i < gt)
		{
			double		x = v[i];

			if (x < pivot)
			{
				v[i++] = v[lt];
				v[lt++] = x;
			}
			else if (x > pivot)
			{
				v[i] = v[--gt];
				v[gt] = x;
			}
			else
				i++;
		}
		/* ranks [0, left) lie below the ties, [right, nranks) above them */
		for (left = 0; left < nranks && ranks[left] < lt; left++)
			;
		for (right = left; right < nranks && ranks[right] < gt; right++)
			;
		select_ranks(v, lo, lt, ranks, left, depth);
		ranks += right;
		nranks -= right;
		lo = gt;
	}
	if (nranks > 0)
		insertion_sort(v, lo, hi);
}

/*
 * The four quantile breaks of one metric's n > 0 values (reordered).  The
 * ranks each method reads are selected first, then combined exactly as the
 * reference implementation does, so that the doubles agree to the last bit.
 */
void
metric_breaks(double *values, int64 n, BreaksMethod method, double *breaks)
{
	int64		lo[BREAKS_PER_METRIC],
				hi[BREAKS_PER_METRIC],
				ranks[2 * BREAKS_PER_METRIC];
	double		fraction[BREAKS_PER_METRIC];
	int			q;
	const double *x = values;

	for (q = 0; q < BREAKS_PER_METRIC; q++)
	{
		if (method == METHOD_QUANTILE || method == METHOD_BANDS)
		{
			/* percentile_cont: rows floor/ceil of p (n - 1), 0-based */
			static const double p[BREAKS_PER_METRIC] = {0.2, 0.4, 0.6, 0.8};
			double		row = p[q] * (double) (n - 1);

			lo[q] = (int64) floor(row);
			hi[q] = (int64) ceil(row);
			fraction[q] = row - lo[q];
		}
		else
		{
			/*
			 * R: probs = seq(0, 1, length.out = 6), i.e. (1:4) * 0.2; index =
			 * 1 + (n - 1) probs, 1-based.
			 */
			double		index = 1 + (double) (n - 1) * ((q + 1) * 0.2);

			lo[q] = (int64) floor(index) - 1;
			hi[q] = (int64) ceil(index) - 1;
			fraction[q] = index - floor(index);
		}
		ranks[2 * q] = lo[q];
		ranks[2 * q + 1] = hi[q];
	}
	sort_ranks(ranks, 2 * BREAKS_PER_METRIC);
	select_ranks(values, 0, n, ranks, 2 * BREAKS_PER_METRIC, 0);

	for (q = 0; q < BREAKS_PER_METRIC; q++)
	{
		double		a = x[lo[q]];
		double		b = x[hi[q]];
		double		h = fraction[q];

		if (method == METHOD_QUANTILE || method == METHOD_BANDS)
			/* float8_lerp */
			breaks[q] = hi[q] > lo[q] ? a + h * (b - a) : a;
		else
			/* quantile.default, type 7; then rfm's bins() adds 1 */
			breaks[q] = (h > 0 && b != a ? (1 - h) * a + h * b : a) + 1;
	}
}

/*
 * The bands method's recency breaks for stage thresholds: halfway marks of
 * the active period and of the way to dormancy, each half a day above a
 * whole day, so that "1 + the breaks above it" gives 4 at exactly
 * active_days and 1 beyond dormant_days.
 */
void
recency_band_breaks(int32 active_days, int32 dormant_days, double *breaks)
{
	breaks[0] = active_days / 2 + 0.5;
	breaks[1] = active_days + 0.5;
	breaks[2] = active_days + (dormant_days - active_days) / 2 + 0.5;
	breaks[3] = dormant_days + 0.5;
}

/* A float8[] of the breaks. */
static Datum
breaks_array(const double *breaks)
{
	Datum		elems[BREAKS_PER_METRIC];
	int			q;

	for (q = 0; q < BREAKS_PER_METRIC; q++)
		elems[q] = Float8GetDatum(breaks[q]);
	return PointerGetDatum(construct_array(elems, BREAKS_PER_METRIC, FLOAT8OID,
										   sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

PG_FUNCTION_INFO_V1(rfm_breaks_final);
/*
 * Build the lifecycle.rfm_breaks composite: the method and, unless it is
 * ntile, each metric's four breaks (NULL for a metric without values).  NULL
 * when no customer was scored.
 */
Datum
rfm_breaks_final(PG_FUNCTION_ARGS)
{
	BreaksState *state;
	TupleDesc	desc;
	Datum		values[1 + METRIC_COUNT];
	bool		nulls[1 + METRIC_COUNT];
	int			i;

	aggregate_context(fcinfo);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (BreaksState *) PG_GETARG_POINTER(0);
	if (state->customers == 0)
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "rfm_breaks_final must return a composite type");
	desc = BlessTupleDesc(desc);

	values[0] = CStringGetTextDatum(method_names[state->method]);
	nulls[0] = false;
	for (i = 0; i < METRIC_COUNT; i++)
	{
		double		breaks[BREAKS_PER_METRIC];

		nulls[1 + i] = state->method == METHOD_NTILE || state->metrics[i].count == 0;
		if (nulls[1 + i])
			continue;
		if (state->method == METHOD_BANDS && i == METRIC_R)
			recency_band_breaks(BANDS_DEFAULT_ACTIVE_DAYS, BANDS_DEFAULT_DORMANT_DAYS, breaks);
		else
			metric_breaks(state->metrics[i].values, state->metrics[i].count, state->method, breaks);
		values[1 + i] = breaks_array(breaks);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
