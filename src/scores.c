/*
 * scores.c
 *	  The RFM scores 1-5 of one customer given a population's breaks
 *	  (lifecycle.r_score, f_score, m_score; PRODUCT.md section 4).
 *
 * quantile: F and M score 1 + the breaks strictly below the value, R scores
 *			 1 + the breaks strictly above the days: equal values, equal scores.
 * rfm_r:	 R's bins [lower_i, upper_i) with lower = (min, breaks) and
 *			 upper = (breaks, max + 1): F and M score 1 + the breaks at or below
 *			 the value, R scores 6 minus that.
 * ntile:	 scores come from window functions; asking here is an error.
 *
 * The breaks are parsed once per call site and reused while the same
 * lifecycle.rfm_breaks value keeps coming, as it does over a population.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "breaks.h"
#include "compat.h"

/* One metric's breaks, parsed; absent when the population had no value. */
typedef struct MetricBreaks
{
	bool		present;
	double		breaks[BREAKS_PER_METRIC];
} MetricBreaks;

/* A parsed lifecycle.rfm_breaks value and the bytes it was parsed from. */
typedef struct BreaksCache
{
	Size		len;
	char	   *bytes;
	BreaksMethod method;
	MetricBreaks metrics[METRIC_COUNT];
} BreaksCache;

static const char *const metric_names[METRIC_COUNT] = {"r", "f", "m"};

/* An error for a lifecycle.rfm_breaks value no aggregate could have made. */
static void
invalid_breaks(const char *metric, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid RFM breaks for %s", metric),
			 errdetail("%s", detail),
			 errhint("Compute breaks with lifecycle.rfm_breaks, or give four ascending numbers per metric.")));
}

/* Parse one metric's float8[] of breaks: four ascending numbers. */
static void
parse_metric(Datum array_datum, bool isnull, const char *metric, MetricBreaks *out)
{
	ArrayType  *array;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			q;

	out->present = !isnull;
	if (isnull)
		return;
	array = DatumGetArrayTypeP(array_datum);
	if (ARR_NDIM(array) != 1)
		invalid_breaks(metric, "Breaks are a one-dimensional array.");
	deconstruct_array(array, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &n);
	if (n != BREAKS_PER_METRIC)
		invalid_breaks(metric, "Five scores need four breaks.");
	for (q = 0; q < n; q++)
	{
		if (nulls[q] || isnan(DatumGetFloat8(elems[q])))
			invalid_breaks(metric, "A break must be a number.");
		out->breaks[q] = DatumGetFloat8(elems[q]);
		if (q > 0 && out->breaks[q] < out->breaks[q - 1])
			invalid_breaks(metric, "Breaks must be in ascending order.");
	}
}

/* Parse a lifecycle.rfm_breaks composite into the cache. */
static void
parse_breaks(HeapTupleHeader tuple, BreaksCache *cache)
{
	bool		isnull;
	Datum		value;
	text	   *method;
	int			i;

	value = GetAttributeByNum(tuple, 1, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("RFM breaks have no method"),
				 errhint(BREAKS_METHOD_HINT)));
	method = DatumGetTextPP(value);
	cache->method = breaks_method(VARDATA_ANY(method), VARSIZE_ANY_EXHDR(method));
	for (i = 0; i < METRIC_COUNT; i++)
	{
		value = GetAttributeByNum(tuple, 2 + i, &isnull);
		parse_metric(value, isnull, metric_names[i], &cache->metrics[i]);
	}
}

/* The parsed breaks of argument 1, from the cache when the bytes are the same. */
static BreaksCache *
cached_breaks(FunctionCallInfo fcinfo)
{
	HeapTupleHeader tuple = PG_GETARG_HEAPTUPLEHEADER(1);
	Size		len = HeapTupleHeaderGetDatumLength(tuple);
	BreaksCache *cache = fcinfo->flinfo->fn_extra;

	if (cache != NULL && cache->len == len && memcmp(cache->bytes, tuple, len) == 0)
		return cache;
	if (cache == NULL)
		cache = fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(BreaksCache));
	else if (cache->bytes != NULL)
		pfree(cache->bytes);
	/* empty while parsing, so that a parse error leaves no stale match */
	cache->bytes = NULL;
	cache->len = 0;
	parse_breaks(tuple, cache);
	cache->bytes = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, len);
	memcpy(cache->bytes, tuple, len);
	cache->len = len;
	return cache;
}

/*
 * The score 1-5 of value x of a metric given its four breaks (method
 * quantile or rfm_r, as the header says).
 */
int
score_of(BreaksMethod method, BreaksMetric metric, const double *breaks, double x)
{
	int			below = 0;
	int			at_or_below = 0;

	for (int q = 0; q < BREAKS_PER_METRIC; q++)
	{
		below += breaks[q] < x;
		at_or_below += breaks[q] <= x;
	}
	if (method == METHOD_QUANTILE || method == METHOD_BANDS)
		return metric == METRIC_R ? 1 + (BREAKS_PER_METRIC - at_or_below) : 1 + below;
	return metric == METRIC_R ? BREAKS_PER_METRIC + 1 - at_or_below : 1 + at_or_below;
}

/*
 * Score a value: 1 + the breaks below it (strictly for quantile, at or below
 * for rfm_r); for recency, where fewer days score higher, 1 + the breaks
 * above it (quantile) or 6 - (1 + the breaks at or below it) (rfm_r).  NULL
 * when the population had no value of this metric.
 */
static Datum
score(FunctionCallInfo fcinfo, BreaksMetric metric, double x)
{
	BreaksCache *cache = cached_breaks(fcinfo);
	const MetricBreaks *m = &cache->metrics[metric];

	if (cache->method == METHOD_NTILE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ntile scores are not computed from breaks"),
				 errdetail("ntile ranks the whole population, so one customer's value alone cannot be scored."),
				 errhint("Use the window form, e.g. ntile(5) OVER (ORDER BY monetary, customer); for recency ORDER BY days_since_last_order DESC, customer.")));
	if (!m->present)
		PG_RETURN_NULL();
	PG_RETURN_INT32(score_of(cache->method, metric, m->breaks, x));
}

PG_FUNCTION_INFO_V1(rfm_r_score);
/* lifecycle.r_score(days_since_last_order, breaks): recency score 1-5. */
Datum
rfm_r_score(PG_FUNCTION_ARGS)
{
	return score(fcinfo, METRIC_R, (double) PG_GETARG_INT32(0));
}

PG_FUNCTION_INFO_V1(rfm_f_score);
/* lifecycle.f_score(frequency, breaks): frequency score 1-5. */
Datum
rfm_f_score(PG_FUNCTION_ARGS)
{
	return score(fcinfo, METRIC_F, metric_value(PG_GETARG_NUMERIC(0), "frequency"));
}

PG_FUNCTION_INFO_V1(rfm_m_score);
/* lifecycle.m_score(monetary, breaks): monetary score 1-5. */
Datum
rfm_m_score(PG_FUNCTION_ARGS)
{
	return score(fcinfo, METRIC_M, metric_value(PG_GETARG_NUMERIC(0), "monetary"));
}
