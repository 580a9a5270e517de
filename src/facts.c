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
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "args.h"
#include "breaks.h"
#include "compat.h"
#include "customers.h"
#include "models.h"
#include "numeric_double.h"
#include "stage.h"
#include "summary.h"

/* The result columns, in order. */
enum
{
	F_CUSTOMER,
	F_FIRST_PURCHASE,
	F_LAST_PURCHASE,
	F_PREVIOUS_PURCHASE,
	F_ORDERS,
	F_PURCHASE_DAYS,
	F_MONETARY,
	F_GROSS,
	F_REFUNDS,
	F_REFUNDED,
	F_DAYS_SINCE_LAST_ORDER,
	F_TENURE_DAYS,
	F_MEAN_INTERVAL_DAYS,
	F_AOV,
	F_BTYD_FREQUENCY,
	F_BTYD_RECENCY,
	F_BTYD_T,
	F_BTYD_MONETARY_VALUE,
	F_STAGE,
	F_FREQUENCY,
	F_R_SCORE,
	F_F_SCORE,
	F_M_SCORE,
	F_P_ALIVE,
	F_EXPECTED_PURCHASES,
	F_EXPECTED_SPEND,
	F_CLV,
	F_NATTS
};

/* The types of the result columns after the customer's; 0: the stage enum. */
static const Oid fact_types[F_NATTS] = {
	InvalidOid, DATEOID, DATEOID, DATEOID, INT8OID, INT4OID, NUMERICOID, NUMERICOID,
	INT8OID, NUMERICOID, INT4OID, INT4OID, NUMERICOID, NUMERICOID, INT4OID, FLOAT8OID,
	FLOAT8OID, NUMERICOID, InvalidOid, INT8OID, INT4OID, INT4OID, INT4OID, FLOAT8OID,
	FLOAT8OID, FLOAT8OID, FLOAT8OID
};

/* Check the column definition list against what the rows will hold. */
static void
check_result_desc(TupleDesc desc, Oid key_type)
{
	bool		ok = desc->natts == F_NATTS;

	for (int i = 0; ok && i < F_NATTS; i++)
	{
		Oid			type = TupleDescAttr(desc, i)->atttypid;

		if (i == F_CUSTOMER)
			ok = type == key_type;
		else if (i == F_STAGE)
			ok = type_is_enum(type);
		else
			ok = type == fact_types[i];
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column definition list does not match the customer facts"),
				 errhint("lifecycle._customer_facts is internal to segment views.")));
}

/* What every result row is computed with. */
typedef struct FactsOutput
{
	DateADT		as_of;
	int			unit_days;
	StagePolicy policy;
	Datum		stages[STAGE_COUNT];	/* the stage enum's values */
	bool		by_orders;		/* frequency is orders, not purchase days */
	BreaksMethod method;
	bool		scored[METRIC_COUNT];	/* the metric has breaks */
	double		breaks[METRIC_COUNT][BREAKS_PER_METRIC];
	bool		models;			/* fit and predict with the purchase models */
	bool		purchases_usable;	/* BG/NBD fit converged */
	bool		spend_usable;	/* Gamma-Gamma converged with a finite mean (q > 1) */
	ModelFit	purchases;
	ModelFit	spend;
	double		horizon;		/* prediction horizon, in the BTYD unit */
	int32		clv_periods;
	double		clv_period_length;	/* in the BTYD unit */
	double		clv_discount_rate;
} FactsOutput;

/* The R, F and M values of a customer with purchase days. */
static void
customer_metrics(const RfmDays *days, Numeric monetary, const FactsOutput *out, double *metrics)
{
	metrics[METRIC_R] = out->as_of - days->last_purchase;
	metrics[METRIC_F] = out->by_orders ? days->orders : days->purchase_days;
	metrics[METRIC_M] = metric_value(monetary, "monetary");
}

/*
 * The score breaks of the customers with purchase days, as
 * lifecycle.rfm_breaks computes them (none for ntile, which the view's
 * query scores with windows).
 */
static void
score_breaks(const Customer *customers, int64 n, FactsOutput *out, MemoryContext row_mcxt)
{
	double	   *values[METRIC_COUNT];
	int64		scored = 0;

	if (out->method == METHOD_NTILE)
		return;
	for (int m = 0; m < METRIC_COUNT; m++)
		values[m] = palloc_extended(Max(n, 1) * sizeof(double), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < n; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(row_mcxt);
		RfmDays		days;
		double		metrics[METRIC_COUNT];

		prefetch_ahead(customers, n, i);
		if (customers[i].state != NULL && rfm_state_days(customers[i].state, &days) &&
			days.purchase_days > 0)
		{
			rfm_check_days_as_of(&days, out->as_of);
			customer_metrics(&days, rfm_state_monetary(customers[i].state), out, metrics);
			for (int m = 0; m < METRIC_COUNT; m++)
				values[m][scored] = metrics[m];
			scored++;
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(row_mcxt);
	}
	for (int m = 0; m < METRIC_COUNT; m++)
	{
		out->scored[m] = scored > 0;
		if (scored > 0)
			metric_breaks(values[m], scored, out->method, out->breaks[m]);
		pfree(values[m]);
	}
}

/* A customer's BTYD columns (rfm_btyd_values) as doubles: x, t_x, T, mean repeat spend. */
static void
btyd_doubles(const Datum *values, const bool *nulls, double *btyd)
{
	btyd[0] = DatumGetInt32(values[0]);
	btyd[1] = DatumGetFloat8(values[1]);
	btyd[2] = DatumGetFloat8(values[2]);
	btyd[3] = nulls[3] ? 0.0 : numeric_to_double(DatumGetNumeric(values[3]));
}

/*
 * Fit BG/NBD over the customers with purchase days and Gamma-Gamma over
 * those with repeat purchases of positive mean value, as the view's fits
 * over its BTYD columns would; nothing with models off or no buyer.
 */
static void
fit_models(const Customer *customers, int64 n, FactsOutput *out, MemoryContext row_mcxt)
{
	ModelRow   *purchase_rows = palloc_extended(Max(n, 1) * sizeof(ModelRow), MCXT_ALLOC_HUGE);
	ModelRow   *spend_rows = palloc_extended(Max(n, 1) * sizeof(ModelRow), MCXT_ALLOC_HUGE);
	int64		npurchase = 0,
				nspend = 0;
	ModelRows	rows;

	for (int64 i = 0; i < n; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(row_mcxt);
		RfmFacts	facts;
		Datum		values[4];
		bool		nulls[4];
		double		btyd[4];

		prefetch_ahead(customers, n, i);
		if (customers[i].state != NULL && rfm_state_facts(customers[i].state, &facts) &&
			facts.days.purchase_days > 0)
		{
			rfm_btyd_values(&facts.days, facts.gross, facts.first_day_spend, out->as_of,
							out->unit_days, values, nulls);
			btyd_doubles(values, nulls, btyd);
			purchase_rows[npurchase++] = (ModelRow) {btyd[0], btyd[1], btyd[2], 1.0};
			if (spend_is_informative(btyd[0], btyd[3]))
				spend_rows[nspend++] = (ModelRow) {btyd[0], btyd[3], 0.0, 1.0};
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(row_mcxt);
	}
	if (npurchase > 0)
	{
		model_rows_from_array(purchase_rows, npurchase, &rows);
		bgnbd_fit_rows(&rows, BG_SHIFT, &out->purchases);
		model_rows_from_array(spend_rows, nspend, &rows);
		gammagamma_fit_rows(&rows, &out->spend);
		out->purchases_usable = out->purchases.converged;
		/* a spend model predicts only with a finite population mean: q > 1 */
		out->spend_usable = out->spend.converged && out->spend.params[1] > 1;
	}
	pfree(purchase_rows);
	pfree(spend_rows);
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

/* A customer's result row, in the current memory context. */
static void
fact_row(const Customer *customer, const FactsOutput *out, Datum *values, bool *nulls)
{
	RfmFacts	facts;
	Numeric		numeric;
	double		metrics[METRIC_COUNT];

	memset(nulls, true, F_NATTS * sizeof(bool));
	values[F_CUSTOMER] = customer->key;
	nulls[F_CUSTOMER] = false;
	nulls[F_STAGE] = false;
	if (customer->state == NULL || !rfm_state_facts(customer->state, &facts))
	{
		values[F_STAGE] = out->stages[STAGE_PROSPECT];
		return;
	}
	rfm_check_days_as_of(&facts.days, out->as_of);
	values[F_STAGE] = out->stages[stage_of(&out->policy, &facts.days, out->as_of)];
	values[F_ORDERS] = Int64GetDatum(facts.days.orders);
	values[F_PURCHASE_DAYS] = Int32GetDatum(facts.days.purchase_days);
	values[F_MONETARY] = NumericGetDatum(facts.monetary);
	values[F_GROSS] = NumericGetDatum(facts.gross);
	values[F_REFUNDS] = Int64GetDatum(facts.refunds);
	values[F_REFUNDED] = NumericGetDatum(facts.refunded);
	for (int i = F_ORDERS; i <= F_REFUNDED; i++)
		nulls[i] = false;
	values[F_FREQUENCY] = Int64GetDatum(out->by_orders ? facts.days.orders : facts.days.purchase_days);
	nulls[F_FREQUENCY] = false;
	numeric = rfm_average_order_value(facts.days.orders, facts.gross);
	nulls[F_AOV] = numeric == NULL;
	values[F_AOV] = NumericGetDatum(numeric);
	if (facts.days.purchase_days == 0)
		return;
	values[F_FIRST_PURCHASE] = DateADTGetDatum(facts.days.first_purchase);
	values[F_LAST_PURCHASE] = DateADTGetDatum(facts.days.last_purchase);
	nulls[F_FIRST_PURCHASE] = nulls[F_LAST_PURCHASE] = false;
	if (facts.days.purchase_days >= 2)
	{
		values[F_PREVIOUS_PURCHASE] = DateADTGetDatum(facts.days.previous_purchase);
		nulls[F_PREVIOUS_PURCHASE] = false;
	}
	values[F_DAYS_SINCE_LAST_ORDER] = Int32GetDatum(out->as_of - facts.days.last_purchase);
	values[F_TENURE_DAYS] = Int32GetDatum(out->as_of - facts.days.first_purchase);
	nulls[F_DAYS_SINCE_LAST_ORDER] = nulls[F_TENURE_DAYS] = false;
	numeric = rfm_mean_interval(&facts.days);
	nulls[F_MEAN_INTERVAL_DAYS] = numeric == NULL;
	values[F_MEAN_INTERVAL_DAYS] = NumericGetDatum(numeric);
	rfm_btyd_values(&facts.days, facts.gross, facts.first_day_spend, out->as_of, out->unit_days,
					&values[F_BTYD_FREQUENCY], &nulls[F_BTYD_FREQUENCY]);
	customer_metrics(&facts.days, facts.monetary, out, metrics);
	for (int i = 0; i < METRIC_COUNT; i++)
	{
		nulls[F_R_SCORE + i] = !out->scored[i];
		if (out->scored[i])
			values[F_R_SCORE + i] = Int32GetDatum(score_of(out->method, i, out->breaks[i], metrics[i]));
	}
	if (out->models)
		predict(out, values, nulls);
}

/* The result rows, one per customer, in a tuplestore. */
static Tuplestorestate *
write_rows(const Customer *customers, int64 n, const FactsOutput *out, TupleDesc desc,
		   MemoryContext store_mcxt, MemoryContext row_mcxt)
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
		fact_row(&customers[i], out, values, nulls);
		tuplestore_putvalues(store, desc, values, nulls);
		MemoryContextSwitchTo(old);
		MemoryContextReset(row_mcxt);
	}
	return store;
}

/* Arguments 0-7: the orders and which of them count. */
static void
read_source(FunctionCallInfo fcinfo, OrderSource *source)
{
	memset(source, 0, sizeof(OrderSource));
	source->orders = DatumGetObjectId(required_arg(fcinfo, 0, "orders", NULL));
	source->customer_column = NameStr(*DatumGetName(required_arg(fcinfo, 1, "customer_column", NULL)));
	source->time_column = NameStr(*DatumGetName(required_arg(fcinfo, 2, "time_column", NULL)));
	source->amount_column = NameStr(*DatumGetName(required_arg(fcinfo, 3, "amount_column", NULL)));
	if (!PG_ARGISNULL(4))
	{
		source->customers = PG_GETARG_OID(4);
		source->customers_key = NameStr(*DatumGetName(required_arg(fcinfo, 5, "customers_key", NULL)));
	}
	source->time_zone = DatumGetTextPP(required_arg(fcinfo, 6, "time_zone", NULL));
	source->as_of = DatumGetDateADT(required_arg(fcinfo, 7, "as_of", NULL));
}

/* Arguments 7-20: what the rows are computed with, checked. */
static void
read_settings(FunctionCallInfo fcinfo, FactsOutput *out)
{
	text	   *method = DatumGetTextPP(required_arg(fcinfo, 14, "score_method", NULL));

	memset(out, 0, sizeof(FactsOutput));
	out->as_of = DatumGetDateADT(required_arg(fcinfo, 7, "as_of", NULL));
	rfm_check_as_of(out->as_of);
	out->unit_days = rfm_time_unit_days(TextDatumGetCString(required_arg(fcinfo, 8, "btyd_unit", NULL)));
	out->policy.active_days = DatumGetInt32(required_arg(fcinfo, 9, "active_days", NULL));
	out->policy.dormant_days = DatumGetInt32(required_arg(fcinfo, 10, "dormant_days", NULL));
	out->policy.churn_days = DatumGetInt32(required_arg(fcinfo, 11, "churn_days", NULL));
	out->policy.cadence = !PG_ARGISNULL(12);
	out->policy.cadence_factor = out->policy.cadence ? PG_GETARG_FLOAT8(12) : 0;
	out->policy.cadence_min_days = DatumGetInt32(required_arg(fcinfo, 13, "cadence_min_days", NULL));
	stage_policy_check(&out->policy);
	out->method = breaks_method(VARDATA_ANY(method), VARSIZE_ANY_EXHDR(method));
	out->by_orders = strcmp(TextDatumGetCString(required_arg(fcinfo, 15, "frequency_basis", NULL)), "orders") == 0;
	out->models = DatumGetBool(required_arg(fcinfo, 16, "models", NULL));
	out->horizon = (double) DatumGetInt32(required_arg(fcinfo, 17, "prediction_days", NULL)) / out->unit_days;
	out->clv_periods = DatumGetInt32(required_arg(fcinfo, 18, "clv_periods", NULL));
	out->clv_period_length = (double) DatumGetInt32(required_arg(fcinfo, 19, "clv_period_days", NULL)) / out->unit_days;
	out->clv_discount_rate = DatumGetFloat8(required_arg(fcinfo, 20, "clv_discount_rate", NULL));
	if (!(out->horizon > 0 && out->clv_periods > 0 && out->clv_period_length > 0 &&
		  isfinite(out->clv_discount_rate) && out->clv_discount_rate >= 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("prediction settings must be positive"),
				 errdetail("prediction_days, clv_periods and clv_period_days must be positive, clv_discount_rate a non-negative finite number.")));
}

PG_FUNCTION_INFO_V1(customer_facts);
/*
 * lifecycle._customer_facts(orders, customer_column, time_column,
 * amount_column, customers, customers_key, time_zone, as_of, btyd_unit,
 * active_days, dormant_days, churn_days, cadence_factor, cadence_min_days,
 * score_method, frequency_basis, models, prediction_days, clv_periods,
 * clv_period_days, clv_discount_rate): one row per customer of the orders up to
 * the end of the as-of day (and per key of the customers relation, if
 * given), as the header describes.  Only cadence_factor (no cadence rule)
 * and the customers relation may be NULL.
 */
Datum
customer_facts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	OrderSource source;
	FactsOutput out;
	MemoryContext mcxt,
				row_mcxt,
				old;
	Customer   *customers;
	int64		ncustomers;
	TupleDesc	desc;

	read_source(fcinfo, &source);
	read_settings(fcinfo, &out);
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize) || rsinfo->expectedDesc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("lifecycle._customer_facts must be called in FROM with a column definition list")));
	check_result_desc(rsinfo->expectedDesc, order_source_key_type(&source));

	mcxt = AllocSetContextCreate(CurrentMemoryContext, "lifecycle customer facts", ALLOCSET_DEFAULT_SIZES);
	row_mcxt = AllocSetContextCreate(mcxt, "lifecycle customer facts row", ALLOCSET_DEFAULT_SIZES);
	customers = read_customers(&source, mcxt, &ncustomers);
	score_breaks(customers, ncustomers, &out, row_mcxt);
	if (out.models)
		fit_models(customers, ncustomers, &out, row_mcxt);
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	desc = CreateTupleDescCopy(rsinfo->expectedDesc);
	MemoryContextSwitchTo(old);
	stage_enum_values(TupleDescAttr(desc, F_STAGE)->atttypid, out.stages);
	rsinfo->setResult = write_rows(customers, ncustomers, &out, desc,
								   rsinfo->econtext->ecxt_per_query_memory, row_mcxt);
	rsinfo->setDesc = desc;
	rsinfo->returnMode = SFRM_Materialize;
	MemoryContextDelete(mcxt);
	return (Datum) 0;
}
