/*
 * facts.c
 *	  lifecycle._customer_facts: every customer's summary, derived values,
 *	  stage, scores and purchase-model predictions from an orders relation,
 *	  in one pass over its rows.  It is what a segment view materializes
 *	  (install/70_segment_view.sql).
 *
 * The same numbers come out of rfm_agg with GROUP BY and the SQL functions;
 * this is the fast route to them.  The customers' rfm_agg states are read in
 * one pass (customers.c); each customer's facts are then written out as one
 * row, computed from its state by the code the SQL functions use
 * (summary.c, derived.c, stage.c, breaks.c, scores.c and the model files),
 * without building and deforming a lifecycle.rfm composite per derived
 * value.
 *
 * Called with a column definition list (the segment view's query writes
 * it): customer (the orders' key type), first_purchase, last_purchase,
 * previous_purchase, orders, purchase_days, monetary, gross, refunds,
 * refunded (lifecycle.rfm's fields, NULL for a customer without order
 * rows), days_since_last_order, tenure_days, mean_interval_days, aov,
 * btyd_frequency, btyd_recency, btyd_t, btyd_monetary_value, stage, then
 * the scoring inputs and scores: frequency (orders or purchase days, as
 * frequency_basis says), r_score, f_score, m_score.  The scores are those of
 * lifecycle.rfm_breaks and r_score/f_score/m_score over the customers with
 * purchase days; NULL for the ntile method, which the view's query computes
 * with windows.  Last the model columns p_alive, expected_purchases,
 * expected_spend and clv: with models on, BG/NBD and Gamma-Gamma are fitted
 * over the customers' BTYD columns (exactly as bgnbd_fit and gammagamma_fit
 * would) and each customer is predicted as p_alive, expected_purchases,
 * expected_spend and clv would; NULL with models off or where those give
 * NULL or the fit did not converge.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/tuplestore.h"
#include "miscadmin.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "args.h"
#include "breaks.h"
#include "compat.h"
#include "customers.h"
#include "facts.h"
#include "models.h"
#include "numeric_double.h"
#include "progress.h"
#include "settings.h"
#include "stage.h"
#include "summary.h"

/* The columns of views made under 1.0: up to clv. */
#define F_LEGACY_NATTS	F_STAGE_SINCE

/*
 * The result columns: name, SQL type and comment, in the order of the enum
 * above.  The one definition of the facts: the segment view's query takes
 * its column definition list from here (lifecycle._facts_columns), and the
 * view's column comments for the columns it passes on.
 */
typedef struct FactColumn
{
	const char *name;
	Oid			type;			/* InvalidOid: the key's type, or the stage enum */
	const char *comment;
} FactColumn;

static const FactColumn fact_columns[F_NATTS] = {
	{"customer", InvalidOid, "Customer key"},
	{"first_purchase", DATEOID, "Day of the first purchase"},
	{"last_purchase", DATEOID, "Day of the last purchase"},
	{"previous_purchase", DATEOID, "The purchase day before the last one"},
	{"orders", INT8OID, "Purchase rows (refunds are not orders)"},
	{"purchase_days", INT4OID, "Distinct purchase days"},
	{"monetary", NUMERICOID, "Net revenue: purchases minus refunds"},
	{"gross", NUMERICOID, "Purchase value before refunds"},
	{"refunds", INT8OID, "Refund rows"},
	{"refunded", NUMERICOID, "Total refunded, positive"},
	{"days_since_last_order", INT4OID, "RFM recency: days from the last purchase to as_of"},
	{"tenure_days", INT4OID, "Days from the first purchase to as_of"},
	{"mean_interval_days", NUMERICOID, "Mean days between purchase days (2 decimals in the view)"},
	{"aov", NUMERICOID, "Average order value: purchase value / orders (2 decimals in the view)"},
	{"btyd_frequency", INT4OID, "BTYD frequency: repeat purchase days"},
	{"btyd_recency", FLOAT8OID, "BTYD recency: age at the last purchase (last - first purchase), in the view's BTYD unit"},
	{"btyd_t", FLOAT8OID, "BTYD T: age at as_of (as_of - first purchase), in the view's BTYD unit"},
	{"btyd_monetary_value", NUMERICOID, "BTYD monetary value: mean spend of the repeat purchase days"},
	{"stage", InvalidOid, "Lifecycle stage: prospect, new, active, at_risk, dormant, churned or reactivated"},
	{"frequency", INT8OID, "The F score's input: orders or purchase days, as the view's frequency_basis says"},
	{"r_score", INT4OID, "Recency score 1-5 (5 = bought most recently)"},
	{"f_score", INT4OID, "Frequency score 1-5 (5 = buys most often)"},
	{"m_score", INT4OID, "Monetary score 1-5 (5 = spends most, net of refunds)"},
	{"p_alive", FLOAT8OID, "Probability the customer is still active (BG/NBD fitted at the refresh); NULL unless the view's models are on"},
	{"expected_purchases", FLOAT8OID, "Expected purchase days in the next prediction_days days (BG/NBD)"},
	{"expected_spend", FLOAT8OID, "Expected value of a future purchase day (Gamma-Gamma)"},
	{"clv", FLOAT8OID, "Customer lifetime value: expected spend over clv_periods periods of clv_period_days days, discounted by clv_discount_rate a period"},
	{"stage_since", DATEOID, "First day of the customer's current run in this stage, from their orders (NULL without a purchase)"},
	{"stage_reason", TEXTOID, "Why the customer has this stage: the rule that fired, with its thresholds"},
	{"expected_next_order", DATEOID, "The day one purchase is due at the customer's expected purchase rate (BG/NBD), while P(alive) is at least 0.5; NULL otherwise or with models off"},
};

/* A facts column's name, SQL type (InvalidOid for the key and stage) and comment. */
const char *
fact_column_name(int column)
{
	return fact_columns[column].name;
}

Oid
fact_column_type(int column)
{
	return fact_columns[column].type;
}

const char *
fact_column_comment(int column)
{
	return fact_columns[column].comment;
}

/* Check the column definition list against what the rows will hold, by name and type. */
static void
check_result_desc(TupleDesc desc, Oid key_type)
{
	/* views made under 1.0 ask for the columns up to clv */
	if (desc->natts != F_NATTS && desc->natts != F_LEGACY_NATTS)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column definition list has %d columns, the customer facts have %d", desc->natts, F_NATTS),
				 errhint("lifecycle._customer_facts is internal to segment views; lifecycle._facts_columns() lists its columns.")));
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);
		bool		ok;

		if (i == F_CUSTOMER)
			ok = attr->atttypid == key_type;
		else if (i == F_STAGE)
			ok = type_is_enum(attr->atttypid);
		else
			ok = attr->atttypid == fact_columns[i].type;
		if (!ok || strcmp(NameStr(attr->attname), fact_columns[i].name) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column %d of the column definition list is \"%s\" %s; the customer facts have \"%s\" %s there",
							i + 1, NameStr(attr->attname), format_type_be(attr->atttypid), fact_columns[i].name,
							i == F_CUSTOMER ? format_type_be(key_type) :
							i == F_STAGE ? "lifecycle.stage" : format_type_be(fact_columns[i].type)),
					 errhint("lifecycle._customer_facts is internal to segment views; lifecycle._facts_columns() lists its columns.")));
	}
}

/* A row (name, type, comment) of a set-returning function listing columns; type NULL: the key's. */
void
put_column_row(FunctionCallInfo fcinfo, const char *name, const char *type, const char *comment)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[3];
	bool		nulls[3] = {false, type == NULL, false};

	values[0] = CStringGetTextDatum(name);
	values[1] = type == NULL ? (Datum) 0 : CStringGetTextDatum(type);
	values[2] = CStringGetTextDatum(comment);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

PG_FUNCTION_INFO_V1(facts_columns);
/*
 * lifecycle._facts_columns(): the facts' columns as (name, type, comment)
 * rows, in order; type NULL for the customer key, whose type is the orders'.
 */
Datum
facts_columns(PG_FUNCTION_ARGS)
{
	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < F_NATTS; i++)
		put_column_row(fcinfo, fact_columns[i].name,
					   i == F_CUSTOMER ? NULL : i == F_STAGE ? "lifecycle.stage" : format_type_be(fact_columns[i].type),
					   fact_columns[i].comment);
	return (Datum) 0;
}

/*
 * What the last computation of a view's facts in this backend made: its
 * fits (with models on) and the order rows it read and each phase's time.
 * The refresh records them in its history (lifecycle._last_facts) instead
 * of fitting a second time.  Kept in TopMemoryContext; one view at a time.
 */
static struct
{
	char	   *view_name;		/* NULL: none */
	bool		fitted;
	ModelFit	purchases;
	ModelFit	spend;
	CustomerCounts counts;
	int64		customers;
	int64		written;		/* rows written: changed, new or gone customers */
	bool		full_read;		/* every order read, not only the changed customers' */
	int			unit_days;
	bool		moved;			/* moves counted: the view had previous contents */
	Transitions moves;
	bool		counted;		/* customers and revenue counted by stage and segment */
	int64		stage_customers[STAGE_COUNT];
	Numeric		stage_revenue[STAGE_COUNT];
	int			nsegments;
	char	   *segment_names[SEGMENTS_MAX];
	int64		segment_customers[SEGMENTS_MAX];
	Numeric		segment_revenue[SEGMENTS_MAX];
	double		seconds[PHASE_COUNT];
} last_facts;

/* A fit whose message lives in TopMemoryContext. */
static void
keep_fit(ModelFit *kept, const ModelFit *fit)
{
	*kept = *fit;
	kept->message = fit->message != NULL ? MemoryContextStrdup(TopMemoryContext, fit->message) : NULL;
}

/* A total as a numeric in TopMemoryContext. */
static Numeric
kept_total(const MoneySum *sum)
{
	Numeric		total = money_total(sum);
	Numeric		kept = MemoryContextAlloc(TopMemoryContext, VARSIZE(total));

	memcpy(kept, total, VARSIZE(total));
	return kept;
}

/* Remember the counts by stage and segment. */
static void
keep_counts(const ViewCounts *counts)
{
	last_facts.counted = counts != NULL;
	if (counts == NULL)
		return;
	for (int s = 0; s < STAGE_COUNT; s++)
	{
		last_facts.stage_customers[s] = counts->stages[s].customers;
		last_facts.stage_revenue[s] = kept_total(&counts->stages[s].revenue);
	}
	last_facts.nsegments = counts->nsegments;
	for (int g = 0; g < counts->nsegments; g++)
	{
		last_facts.segment_names[g] = MemoryContextStrdup(TopMemoryContext, counts->segment_names[g]);
		last_facts.segment_customers[g] = counts->segments[g].customers;
		last_facts.segment_revenue[g] = kept_total(&counts->segments[g].revenue);
	}
}

/* Forget the remembered facts. */
static void
forget_facts(void)
{
	if (last_facts.view_name == NULL)
		return;
	pfree(last_facts.view_name);
	for (int s = 0; last_facts.counted && s < STAGE_COUNT; s++)
		pfree(last_facts.stage_revenue[s]);
	for (int g = 0; last_facts.counted && g < last_facts.nsegments; g++)
	{
		pfree(last_facts.segment_names[g]);
		pfree(last_facts.segment_revenue[g]);
	}
	if (last_facts.fitted && last_facts.purchases.message != NULL)
		pfree((char *) last_facts.purchases.message);
	if (last_facts.fitted && last_facts.spend.message != NULL)
		pfree((char *) last_facts.spend.message);
	last_facts.view_name = NULL;
}

/* Remember what computing a view's facts made. */
void
remember_facts(const ViewSettings *settings, const FactsOutput *out, const CustomerCounts *counts,
			   int64 customers, int64 written, bool full_read, Transitions moves, const ViewCounts *view_counts)
{
	int64		rows;

	forget_facts();
	last_facts.fitted = out->models;
	if (out->models)
	{
		keep_fit(&last_facts.purchases, &out->purchases);
		keep_fit(&last_facts.spend, &out->spend);
	}
	last_facts.counts = *counts;
	last_facts.customers = customers;
	last_facts.written = written;
	last_facts.full_read = full_read;
	last_facts.unit_days = out->unit_days;
	last_facts.moved = settings->keep_transitions && counts->previous > 0;
	memcpy(last_facts.moves, moves, sizeof(Transitions));
	keep_counts(view_counts);
	progress_last(&rows, last_facts.seconds);
	last_facts.view_name = MemoryContextStrdup(TopMemoryContext, settings->view_name);
}

/* A fit as a model composite of the given type, or NULL when there is none. */
static Datum
fit_datum(const ModelFit *fit, Oid type, bool fitted, bool *isnull)
{
	/* no fit at all (no buyers): NULL, as the fitting aggregates give over no rows */
	*isnull = !fitted || fit->nparams == 0;
	if (*isnull)
		return (Datum) 0;
	return model_fit_tuple(BlessTupleDesc(lookup_rowtype_tupdesc_copy(type, -1)), fit);
}

/* Seconds as an interval Datum. */
static Datum
seconds_interval(double seconds)
{
	Interval   *interval = palloc0(sizeof(Interval));

	interval->time = (TimeOffset) (seconds * USECS_PER_SEC);
	return IntervalPGetDatum(interval);
}

/* The customers the last computation found gone: moves to no stage. */
static int64
customers_gone(void)
{
	int64		gone = 0;

	for (int s = 0; s < STAGE_COUNT; s++)
		gone += last_facts.moves[s + 1][0];
	return gone;
}

PG_FUNCTION_INFO_V1(last_facts_sql);
/*
 * lifecycle._last_facts(view_name): what this backend's last computation of
 * that view's facts made, as one row (purchases, spend, customers, guest
 * order rows, rows read, the BTYD unit in days, and the time of reading,
 * scoring, fitting and writing); no row if the last facts computed were
 * another's.
 */
Datum
last_facts_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *view_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Datum		values[9 + PHASE_COUNT];
	bool		nulls[9 + PHASE_COUNT] = {0};
	TupleDesc	desc;

	InitMaterializedSRF(fcinfo, 0);
	if (last_facts.view_name == NULL || strcmp(last_facts.view_name, view_name) != 0)
		return (Datum) 0;
	desc = rsinfo->setDesc;
	values[0] = fit_datum(&last_facts.purchases, TupleDescAttr(desc, 0)->atttypid, last_facts.fitted, &nulls[0]);
	values[1] = fit_datum(&last_facts.spend, TupleDescAttr(desc, 1)->atttypid, last_facts.fitted, &nulls[1]);
	values[2] = Int64GetDatum(last_facts.customers);
	values[3] = Int64GetDatum(last_facts.counts.guests);
	values[4] = Int64GetDatum(last_facts.counts.rows);
	values[5] = Int32GetDatum(last_facts.unit_days);
	for (int i = 0; i < PHASE_COUNT; i++)
		values[6 + i] = seconds_interval(last_facts.seconds[i]);
	values[6 + PHASE_COUNT] = Int64GetDatum(last_facts.written);
	values[7 + PHASE_COUNT] = Int64GetDatum(customers_gone());
	values[8 + PHASE_COUNT] = BoolGetDatum(last_facts.full_read);
	tuplestore_putvalues(rsinfo->setResult, desc, values, nulls);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(last_transitions_sql);
/*
 * lifecycle._last_transitions(view_name): the customers of this backend's
 * last computation of that view's facts by stage before (NULL: new to the
 * view) and now (NULL: gone from it), one row per pair with customers; no
 * rows unless that computation had the view's previous contents.
 */
Datum
last_transitions_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *view_name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	InitMaterializedSRF(fcinfo, 0);
	if (last_facts.view_name == NULL || strcmp(last_facts.view_name, view_name) != 0 || !last_facts.moved)
		return (Datum) 0;
	for (int from = 0; from <= STAGE_COUNT; from++)
		for (int to = 0; to <= STAGE_COUNT; to++)
		{
			Datum		values[3];
			bool		nulls[3] = {from == 0, to == 0, false};

			if (last_facts.moves[from][to] == 0)
				continue;
			values[0] = from == 0 ? (Datum) 0 : CStringGetTextDatum(stage_labels[from - 1]);
			values[1] = to == 0 ? (Datum) 0 : CStringGetTextDatum(stage_labels[to - 1]);
			values[2] = Int64GetDatum(last_facts.moves[from][to]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(last_counts_sql);
/*
 * lifecycle._last_counts(view_name): the customers and net revenue by stage
 * (segment NULL) and by segment (stage NULL) that this backend's last
 * computation of that view's rows counted; no rows if it was another's or
 * did not count them.
 */
Datum
last_counts_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *view_name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	InitMaterializedSRF(fcinfo, 0);
	if (last_facts.view_name == NULL || strcmp(last_facts.view_name, view_name) != 0 || !last_facts.counted)
		return (Datum) 0;
	for (int s = 0; s < STAGE_COUNT; s++)
	{
		Datum		values[4] = {CStringGetTextDatum(stage_labels[s]), (Datum) 0,
		Int64GetDatum(last_facts.stage_customers[s]), NumericGetDatum(last_facts.stage_revenue[s])};
		bool		nulls[4] = {false, true, false, false};

		if (last_facts.stage_customers[s] > 0)
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	for (int g = 0; g < last_facts.nsegments; g++)
	{
		Datum		values[4] = {(Datum) 0, CStringGetTextDatum(last_facts.segment_names[g]),
		Int64GetDatum(last_facts.segment_customers[g]), NumericGetDatum(last_facts.segment_revenue[g])};
		bool		nulls[4] = {true, false, false, false};

		if (last_facts.segment_customers[g] > 0)
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* The R, F and M values of a customer with purchase days. */
static void
customer_metrics(const RfmDays *days, Numeric monetary, const FactsOutput *out, double *metrics)
{
	metrics[METRIC_R] = out->as_of - days->last_purchase;
	metrics[METRIC_F] = out->by_orders ? days->orders : days->purchase_days;
	metrics[METRIC_M] = metric_value(monetary, "monetary");
}

/* A customer's BTYD columns (rfm_btyd_values) as doubles: x, t_x, T, mean repeat spend. */
static void
btyd_doubles(const Datum *values, const bool *nulls, double *btyd)
{
	btyd[0] = DatumGetInt32(values[0]);
	btyd[1] = DatumGetFloat8(values[1]);
	btyd[2] = DatumGetFloat8(values[2]);
	btyd[3] = nulls[3] ? 0.0 : numeric_to_double_clamped(DatumGetNumeric(values[3]));
}

/* Room for one more value in a growing array of n values of size bytes, in mcxt. */
static void *
array_room(void *array, int64 n, int64 *capacity, Size size, MemoryContext mcxt)
{
	if (n < *capacity)
		return array;
	*capacity = Max(1024, *capacity * 2);
	if (array == NULL)
		return MemoryContextAllocExtended(mcxt, *capacity * size, MCXT_ALLOC_HUGE);
	return repalloc_huge(array, *capacity * size);
}

/*
 * Start collecting, customer by customer, what the score breaks and the
 * fits are computed from: R, F and M of the customers with purchase days
 * (none for ntile, which ranks), and with models on their BTYD rows.
 */
void
facts_collect_start(FactsCollector *collector, const FactsOutput *out, MemoryContext mcxt)
{
	memset(collector, 0, sizeof(FactsCollector));
	collector->out = out;
	collector->mcxt = mcxt;
}

/*
 * Collect one customer with purchase days from its summary columns: its
 * days, monetary value and BTYD columns (frequency, recency, T, monetary
 * value, as rfm_btyd_values makes them; used with models on).
 */
void
facts_collect_summary(FactsCollector *collector, const RfmDays *days, Numeric monetary, const Datum *btyd_values,
					  const bool *btyd_nulls)
{
	const FactsOutput *out = collector->out;

	rfm_check_days_as_of(days, out->as_of);
	if (out->method != METHOD_NTILE)
	{
		double		metrics[METRIC_COUNT];

		collector->metrics = array_room(collector->metrics, collector->scored, &collector->metrics_capacity,
										sizeof(double) * METRIC_COUNT, collector->mcxt);
		customer_metrics(days, monetary, out, metrics);
		memcpy(collector->metrics[collector->scored++], metrics, sizeof(metrics));
	}
	if (out->models)
	{
		double		btyd[4];

		btyd_doubles(btyd_values, btyd_nulls, btyd);
		collector->purchase_rows = array_room(collector->purchase_rows, collector->npurchase,
											  &collector->purchase_capacity, sizeof(ModelRow), collector->mcxt);
		collector->purchase_rows[collector->npurchase++] = (ModelRow) {btyd[0], btyd[1], btyd[2], 1.0};
		if (spend_is_informative(btyd[0], btyd[3]))
		{
			collector->spend_rows = array_room(collector->spend_rows, collector->nspend,
											   &collector->spend_capacity, sizeof(ModelRow), collector->mcxt);
			collector->spend_rows[collector->nspend++] = (ModelRow) {btyd[0], btyd[3], 0.0, 1.0};
		}
	}
}

/* Collect one customer from its summary state (in a short-lived memory context). */
void
facts_collect(FactsCollector *collector, const Customer *customer)
{
	const FactsOutput *out = collector->out;
	RfmFacts	facts;
	Datum		values[4] = {0};
	bool		nulls[4] = {true, true, true, true};

	if (customer->state == NULL || !rfm_state_facts(customer->state, &facts) || facts.days.purchase_days == 0)
		return;
	if (out->models)
		rfm_btyd_values(&facts.days, facts.repeat_spend, out->as_of, out->unit_days, values, nulls);
	facts_collect_summary(collector, &facts.days, facts.monetary, values, nulls);
}

/*
 * The score breaks of the collected customers, as lifecycle.rfm_breaks
 * computes them, and with models on BG/NBD fitted over the customers with
 * purchase days and Gamma-Gamma over those with repeat purchases of
 * positive mean value, as the view's fits over its BTYD columns would
 * (rows and customers: for the progress shown while fitting).
 */
void
facts_collect_finish(FactsCollector *collector, FactsOutput *out, int64 rows, int64 customers)
{
	int64		n = collector->scored;

	for (int m = 0; m < METRIC_COUNT && out->method != METHOD_NTILE; m++)
	{
		double	   *values = palloc_extended(Max(n, 1) * sizeof(double), MCXT_ALLOC_HUGE);

		for (int64 i = 0; i < n; i++)
			values[i] = collector->metrics[i][m];
		out->scored[m] = n > 0;
		if (n > 0 && out->method == METHOD_BANDS && m == METRIC_R)
			recency_band_breaks(out->policy.active_days, out->policy.dormant_days, out->breaks[m]);
		else if (n > 0)
			metric_breaks(values, n, out->method, out->breaks[m]);
		pfree(values);
	}
	if (out->models && collector->npurchase > 0)
	{
		ModelRows	model_rows;

		progress_phase(PHASE_FIT, rows, customers);
		model_rows_from_array(collector->purchase_rows, collector->npurchase, &model_rows);
		bgnbd_fit_rows(&model_rows, BG_SHIFT, &out->purchases);
		model_rows_from_array(collector->spend_rows, collector->nspend, &model_rows);
		gammagamma_fit_rows(&model_rows, &out->spend);
		out->purchases_usable = out->purchases.converged;
		/* a spend model predicts only with a finite population mean: q > 1 */
		out->spend_usable = out->spend.converged && out->spend.params[1] > 1;
	}
}

/*
 * The day one purchase is due at a customer's expected purchase rate, while
 * they are more likely alive than not: as_of + 1 / E[lambda], with the
 * BG/NBD posterior mean rate E[lambda] = (r + x) / (alpha + T) per time
 * unit.  NULL below P(alive) 0.5, and beyond ten years.
 */
static void
next_order(const FactsOutput *out, const double *btyd, double p_alive, Datum *values, bool *nulls)
{
	const double *params = out->purchases.params;	/* r, alpha, a, b */
	double		days = out->unit_days * (params[1] + btyd[2]) / (params[0] + btyd[0]);

	if (!(p_alive >= 0.5 && isfinite(days) && days <= 3650))
		return;
	values[F_EXPECTED_NEXT_ORDER] = DateADTGetDatum(out->as_of + (DateADT) rint(days));
	nulls[F_EXPECTED_NEXT_ORDER] = false;
}

/*
 * A customer's model columns, where the models give them, from the BTYD
 * columns already in the row.
 */
static void
predict(const FactsOutput *out, Datum *values, bool *nulls)
{
	double		btyd[4];
	bool		spend_known;

	btyd_doubles(&values[F_BTYD_FREQUENCY], &nulls[F_BTYD_FREQUENCY], btyd);
	spend_known = btyd[0] == 0 || spend_is_informative(btyd[0], btyd[3]);
	if (out->purchases_usable)
	{
		values[F_P_ALIVE] = Float8GetDatum(bgnbd_p_alive_of(out->purchases.params, BG_SHIFT,
															btyd[0], btyd[1], btyd[2]));
		values[F_EXPECTED_PURCHASES] =
			Float8GetDatum(bgnbd_expected_purchases(out->purchases.params, BG_SHIFT, btyd[0], btyd[1],
													btyd[2], out->horizon));
		nulls[F_P_ALIVE] = nulls[F_EXPECTED_PURCHASES] = false;
		next_order(out, btyd, DatumGetFloat8(values[F_P_ALIVE]), values, nulls);
	}
	if (out->spend_usable && spend_known)
	{
		values[F_EXPECTED_SPEND] = Float8GetDatum(gammagamma_expected_spend(out->spend.params,
																			 btyd[0], btyd[3]));
		nulls[F_EXPECTED_SPEND] = false;
	}
	if (out->purchases_usable && out->spend_usable && spend_known)
	{
		values[F_CLV] = Float8GetDatum(clv_of(out->purchases.params, BG_SHIFT, out->spend.params,
											  btyd[0], btyd[1], btyd[2], btyd[3], out->clv_periods,
											  out->clv_period_length, out->clv_discount_rate));
		nulls[F_CLV] = false;
	}
}

/* The purchase day before a day, for stage_since: arg is the customer's state. */
static bool
state_day_before(void *arg, DateADT day, DateADT *before)
{
	return rfm_state_day_before((RfmAggState *) arg, day, before);
}

/*
 * Whether a facts column follows from the customer's summary alone (under
 * the view's settings): those of summary_facts but T, which moves with the
 * as-of day.
 */
bool
fact_of_summary(int column)
{
	return (column >= F_FIRST_PURCHASE && column <= F_REFUNDED) ||
		(column >= F_MEAN_INTERVAL_DAYS && column <= F_BTYD_MONETARY_VALUE && column != F_BTYD_T);
}

/*
 * The columns of a customer's summary: counts, money, average order value,
 * and with purchase days their first, last and previous days, mean interval
 * and BTYD columns.
 */
static void
summary_facts(const RfmFacts *facts, const FactsOutput *out, Datum *values, bool *nulls)
{
	Numeric		numeric;

	values[F_ORDERS] = Int64GetDatum(facts->days.orders);
	values[F_PURCHASE_DAYS] = Int32GetDatum(facts->days.purchase_days);
	values[F_MONETARY] = NumericGetDatum(facts->monetary);
	values[F_GROSS] = NumericGetDatum(facts->gross);
	values[F_REFUNDS] = Int64GetDatum(facts->refunds);
	values[F_REFUNDED] = NumericGetDatum(facts->refunded);
	for (int i = F_ORDERS; i <= F_REFUNDED; i++)
		nulls[i] = false;
	numeric = rfm_average_order_value(facts->days.orders, facts->gross);
	nulls[F_AOV] = numeric == NULL;
	values[F_AOV] = NumericGetDatum(numeric);
	if (facts->days.purchase_days == 0)
		return;
	values[F_FIRST_PURCHASE] = DateADTGetDatum(facts->days.first_purchase);
	values[F_LAST_PURCHASE] = DateADTGetDatum(facts->days.last_purchase);
	nulls[F_FIRST_PURCHASE] = nulls[F_LAST_PURCHASE] = false;
	if (facts->days.purchase_days >= 2)
	{
		values[F_PREVIOUS_PURCHASE] = DateADTGetDatum(facts->days.previous_purchase);
		nulls[F_PREVIOUS_PURCHASE] = false;
	}
	numeric = rfm_mean_interval(&facts->days);
	nulls[F_MEAN_INTERVAL_DAYS] = numeric == NULL;
	values[F_MEAN_INTERVAL_DAYS] = NumericGetDatum(numeric);
	rfm_btyd_values(&facts->days, facts->repeat_spend, out->as_of, out->unit_days,
					&values[F_BTYD_FREQUENCY], &nulls[F_BTYD_FREQUENCY]);
}

/*
 * The columns of a customer with order rows that move with the as-of day,
 * the score breaks and the fits (stage, its reason and start, days since the
 * last order, tenure, frequency, scores, model predictions), from its days
 * and the summary columns already in values (monetary, BTYD); returns its
 * stage.
 */
Stage
dated_facts(const FactsOutput *out, const RfmDays *days, const StageStart *start, Datum *values, bool *nulls)
{
	double		metrics[METRIC_COUNT];
	Stage		stage;
	char	   *reason;

	rfm_check_days_as_of(days, out->as_of);
	stage = stage_of(&out->policy, days, out->as_of);
	values[F_STAGE] = out->stages[stage];
	reason = stage == STAGE_PROSPECT ? NULL : stage_reason(&out->policy, days, out->as_of, stage);
	values[F_STAGE_REASON] = reason != NULL ? CStringGetTextDatum(reason) : out->fixed_reasons[stage];
	values[F_FREQUENCY] = Int64GetDatum(out->by_orders ? days->orders : days->purchase_days);
	nulls[F_STAGE] = nulls[F_STAGE_REASON] = nulls[F_FREQUENCY] = false;
	if (days->purchase_days == 0)
		return stage;
	values[F_STAGE_SINCE] = DateADTGetDatum(stage == start->kept_stage ? start->kept_since :
											stage_since(&out->policy, days, out->as_of, start->day_before,
														start->arg));
	values[F_DAYS_SINCE_LAST_ORDER] = Int32GetDatum(out->as_of - days->last_purchase);
	values[F_TENURE_DAYS] = Int32GetDatum(out->as_of - days->first_purchase);
	nulls[F_STAGE_SINCE] = nulls[F_DAYS_SINCE_LAST_ORDER] = nulls[F_TENURE_DAYS] = false;
	customer_metrics(days, DatumGetNumeric(values[F_MONETARY]), out, metrics);
	for (int i = 0; i < METRIC_COUNT; i++)
	{
		nulls[F_R_SCORE + i] = !out->scored[i];
		if (out->scored[i])
			values[F_R_SCORE + i] = Int32GetDatum(score_of(out->method, i, out->breaks[i], metrics[i]));
	}
	if (out->models)
		predict(out, values, nulls);
	return stage;
}

/* A customer's result row, in the current memory context; returns its stage. */
Stage
fact_row(const Customer *customer, const FactsOutput *out, Datum *values, bool *nulls)
{
	RfmFacts	facts;
	StageStart	start = {state_day_before, customer->state, -1, 0};

	memset(nulls, true, F_NATTS * sizeof(bool));
	values[F_CUSTOMER] = customer->key;
	nulls[F_CUSTOMER] = false;
	if (customer->state == NULL || !rfm_state_facts(customer->state, &facts))
	{
		values[F_STAGE] = out->stages[STAGE_PROSPECT];
		values[F_STAGE_REASON] = out->fixed_reasons[STAGE_PROSPECT];
		nulls[F_STAGE] = nulls[F_STAGE_REASON] = false;
		return STAGE_PROSPECT;
	}
	summary_facts(&facts, out, values, nulls);
	return dated_facts(out, &facts.days, &start, values, nulls);
}

/*
 * The result rows, one per customer, in a tuplestore; each customer counted
 * in *moves from its previous stage to its stage now.
 */
static Tuplestorestate *
write_rows(const Customer *customers, int64 n, const FactsOutput *out, TupleDesc desc,
		   MemoryContext store_mcxt, MemoryContext row_mcxt, Transitions moves)
{
	MemoryContext old = MemoryContextSwitchTo(store_mcxt);
	Tuplestorestate *store = tuplestore_begin_heap(true, false, work_mem);

	MemoryContextSwitchTo(old);
	for (int64 i = 0; i < n; i++)
	{
		Datum		values[F_NATTS];
		bool		nulls[F_NATTS];

		CHECK_FOR_INTERRUPTS();
		prefetch_ahead(customers, n, i);
		old = MemoryContextSwitchTo(row_mcxt);
		moves[customers[i].previous_stage + 1][fact_row(&customers[i], out, values, nulls) + 1]++;
		tuplestore_putvalues(store, desc, values, nulls);
		MemoryContextSwitchTo(old);
		MemoryContextReset(row_mcxt);
	}
	return store;
}

/*
 * The settings of a segment view made under version 1.0, whose query passes
 * them as 21 arguments: orders, customer_column, time_column,
 * amount_column, customers, customers_key, time_zone, as_of, btyd_unit,
 * active_days, dormant_days, churn_days, cadence_factor, cadence_min_days,
 * score_method, frequency_basis, models, prediction_days, clv_periods,
 * clv_period_days, clv_discount_rate.  Only cadence_factor (no cadence
 * rule) and the customers relation may be NULL.
 */
static void
settings_from_args(FunctionCallInfo fcinfo, ViewSettings *settings)
{
	memset(settings, 0, sizeof(ViewSettings));
	settings->source.orders = DatumGetObjectId(required_arg(fcinfo, 0, "orders", NULL));
	settings->source.customer_column = NameStr(*DatumGetName(required_arg(fcinfo, 1, "customer_column", NULL)));
	settings->source.time_column = NameStr(*DatumGetName(required_arg(fcinfo, 2, "time_column", NULL)));
	settings->source.amount_column = NameStr(*DatumGetName(required_arg(fcinfo, 3, "amount_column", NULL)));
	if (!PG_ARGISNULL(4))
	{
		settings->source.customers = PG_GETARG_OID(4);
		settings->source.customers_key = NameStr(*DatumGetName(required_arg(fcinfo, 5, "customers_key", NULL)));
	}
	settings->source.time_zone = DatumGetTextPP(required_arg(fcinfo, 6, "time_zone", NULL));
	settings->source.as_of = DatumGetDateADT(required_arg(fcinfo, 7, "as_of", NULL));
	settings->btyd_unit = TextDatumGetCString(required_arg(fcinfo, 8, "btyd_unit", NULL));
	settings->policy.active_days = DatumGetInt32(required_arg(fcinfo, 9, "active_days", NULL));
	settings->policy.dormant_days = DatumGetInt32(required_arg(fcinfo, 10, "dormant_days", NULL));
	settings->policy.churn_days = DatumGetInt32(required_arg(fcinfo, 11, "churn_days", NULL));
	settings->policy.cadence = !PG_ARGISNULL(12);
	settings->policy.cadence_factor = settings->policy.cadence ? PG_GETARG_FLOAT8(12) : 0;
	settings->policy.cadence_min_days = DatumGetInt32(required_arg(fcinfo, 13, "cadence_min_days", NULL));
	settings->score_method = TextDatumGetCString(required_arg(fcinfo, 14, "score_method", NULL));
	settings->frequency_basis = TextDatumGetCString(required_arg(fcinfo, 15, "frequency_basis", NULL));
	settings->models = DatumGetBool(required_arg(fcinfo, 16, "models", NULL));
	settings->prediction_days = DatumGetInt32(required_arg(fcinfo, 17, "prediction_days", NULL));
	settings->clv_periods = DatumGetInt32(required_arg(fcinfo, 18, "clv_periods", NULL));
	settings->clv_period_days = DatumGetInt32(required_arg(fcinfo, 19, "clv_period_days", NULL));
	settings->clv_discount_rate = DatumGetFloat8(required_arg(fcinfo, 20, "clv_discount_rate", NULL));
}

/* What every row is computed with, from checked settings. */
void
facts_output_init(const ViewSettings *settings, FactsOutput *out)
{
	memset(out, 0, sizeof(FactsOutput));
	out->as_of = settings->source.as_of;
	rfm_check_as_of(out->as_of);
	out->unit_days = rfm_time_unit_days(settings->btyd_unit);
	out->policy = settings->policy;
	out->method = breaks_method(settings->score_method, strlen(settings->score_method));
	out->by_orders = strcmp(settings->frequency_basis, "orders") == 0;
	out->models = settings->models;
	out->horizon = (double) settings->prediction_days / out->unit_days;
	out->clv_periods = settings->clv_periods;
	out->clv_period_length = (double) settings->clv_period_days / out->unit_days;
	out->clv_discount_rate = settings->clv_discount_rate;
	for (int s = 0; s < STAGE_COUNT; s++)
	{
		char	   *reason = stage_fixed_reason(&out->policy, (Stage) s);

		out->fixed_reasons[s] = reason != NULL ? CStringGetTextDatum(reason) : (Datum) 0;
	}
}

/*
 * Every customer of the source's relations with its summary in mcxt, the
 * score breaks and (models on) the fits in *out: all that a customer's row
 * is computed from.
 */
Customer *
facts_compute(const ViewSettings *settings, FactsOutput *out, MemoryContext mcxt, MemoryContext row_mcxt,
			  int64 *count, CustomerCounts *counts)
{
	Customer   *customers;
	FactsCollector collector;

	progress_phase(PHASE_READ, 0, 0);
	customers = read_customers(&settings->source, mcxt, count, counts);
	progress_phase(PHASE_SCORE, counts->rows, *count);
	facts_collect_start(&collector, out, mcxt);
	for (int64 i = 0; i < *count; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(row_mcxt);

		prefetch_ahead(customers, *count, i);
		facts_collect(&collector, &customers[i]);
		MemoryContextSwitchTo(old);
		MemoryContextReset(row_mcxt);
	}
	facts_collect_finish(&collector, out, counts->rows, *count);
	return customers;
}

/*
 * The rows of checked settings into the set-returning call's tuplestore, as
 * the header describes.
 */
static Datum
facts_rows(FunctionCallInfo fcinfo, ViewSettings *settings)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FactsOutput out;
	MemoryContext mcxt,
				row_mcxt,
				old;
	Customer   *customers;
	int64		ncustomers;
	CustomerCounts counts;
	Transitions moves = {{0}};
	TupleDesc	desc;

	settings_check(settings);
	facts_output_init(settings, &out);
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize) || rsinfo->expectedDesc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("lifecycle._customer_facts must be called in FROM with a column definition list")));
	check_result_desc(rsinfo->expectedDesc, order_source_key_type(&settings->source));

	mcxt = AllocSetContextCreate(CurrentMemoryContext, "lifecycle customer facts", ALLOCSET_DEFAULT_SIZES);
	row_mcxt = AllocSetContextCreate(mcxt, "lifecycle customer facts row", ALLOCSET_DEFAULT_SIZES);
	customers = facts_compute(settings, &out, mcxt, row_mcxt, &ncustomers, &counts);
	progress_phase(PHASE_WRITE, counts.rows, ncustomers);
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	desc = CreateTupleDescCopy(rsinfo->expectedDesc);
	MemoryContextSwitchTo(old);
	stage_enum_values(TupleDescAttr(desc, F_STAGE)->atttypid, out.stages);
	rsinfo->setResult = write_rows(customers, ncustomers, &out, desc,
								   rsinfo->econtext->ecxt_per_query_memory, row_mcxt, moves);
	progress_done(counts.rows);
	if (settings->view_name != NULL)
		remember_facts(settings, &out, &counts, ncustomers, ncustomers, true, moves, NULL);
	rsinfo->setDesc = desc;
	rsinfo->returnMode = SFRM_Materialize;
	MemoryContextDelete(mcxt);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(customer_facts);
/*
 * lifecycle._customer_facts with the 21 arguments of settings_from_args:
 * the entry point of segment views made under version 1.0 (their query
 * calls it).
 */
Datum
customer_facts(PG_FUNCTION_ARGS)
{
	ViewSettings settings;

	settings_from_args(fcinfo, &settings);
	return facts_rows(fcinfo, &settings);
}
