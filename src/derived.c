/*
 * derived.c
 *	  Values derived from a customer summary and an as-of date (PRODUCT.md
 *	  section 2): RFM recency, tenure, mean interval, AOV and the BTYD columns.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#include "compat.h"
#include "summary.h"

/* Reject an as-of date that no age can be measured to. */
void
rfm_check_as_of(DateADT as_of)
{
	if (DATE_NOT_FINITE(as_of))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("as-of date must be finite")));
}

/*
 * Error unless a summary's days allow ages measured to the as-of date: a
 * summary that holds purchases after it would give negative ages, never
 * silently.
 */
void
rfm_check_days_as_of(const RfmDays *days, DateADT as_of)
{
	rfm_check_as_of(as_of);
	if (days->purchase_days > 0 && as_of < days->last_purchase)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("as-of date %s is before the last purchase %s",
						DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(as_of))),
						DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(days->last_purchase)))),
				 errhint("Summarize only the orders up to the as-of date, e.g. with FILTER (WHERE order_time::date <= as_of).")));
}

/* The summary's days, checked against the as-of date. */
void
rfm_read_days_as_of(HeapTupleHeader summary, DateADT as_of, RfmDays *days)
{
	rfm_read_days(summary, days);
	rfm_check_days_as_of(days, as_of);
}

PG_FUNCTION_INFO_V1(rfm_days_since_last_order);
/* RFM recency: as-of day minus last purchase day; NULL without a purchase. */
Datum
rfm_days_since_last_order(PG_FUNCTION_ARGS)
{
	RfmDays		days;
	DateADT		as_of = PG_GETARG_DATEADT(1);

	rfm_read_days_as_of(PG_GETARG_HEAPTUPLEHEADER(0), as_of, &days);
	if (days.purchase_days == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(as_of - days.last_purchase);
}

PG_FUNCTION_INFO_V1(rfm_tenure_days);
/* Tenure: as-of day minus first purchase day; NULL without a purchase. */
Datum
rfm_tenure_days(PG_FUNCTION_ARGS)
{
	RfmDays		days;
	DateADT		as_of = PG_GETARG_DATEADT(1);

	rfm_read_days_as_of(PG_GETARG_HEAPTUPLEHEADER(0), as_of, &days);
	if (days.purchase_days == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(as_of - days.first_purchase);
}

/* a / b as numeric, for integers. */
static Numeric
ratio(int64 a, int64 b)
{
	return numeric_div_opt_error(int64_to_numeric(a), int64_to_numeric(b), NULL);
}

/* Mean days between purchase days; NULL below two purchase days. */
Numeric
rfm_mean_interval(const RfmDays *days)
{
	if (days->purchase_days < 2)
		return NULL;
	return ratio(days->last_purchase - days->first_purchase, days->purchase_days - 1);
}

/* Gross purchase value / orders; NULL without orders or a known gross. */
Numeric
rfm_average_order_value(int64 orders, Numeric gross)
{
	if (orders == 0 || gross == NULL)
		return NULL;
	return numeric_div_opt_error(gross, int64_to_numeric(orders), NULL);
}

PG_FUNCTION_INFO_V1(rfm_mean_interval_days);
/*
 * Mean days between purchase days: (last - first) / (purchase_days - 1);
 * NULL below two purchase days.
 */
Datum
rfm_mean_interval_days(PG_FUNCTION_ARGS)
{
	RfmDays		days;
	Numeric		interval;

	rfm_read_days(PG_GETARG_HEAPTUPLEHEADER(0), &days);
	interval = rfm_mean_interval(&days);
	if (interval == NULL)
		PG_RETURN_NULL();
	PG_RETURN_NUMERIC(interval);
}

PG_FUNCTION_INFO_V1(rfm_aov);
/* Average order value: gross purchase value / orders; NULL without orders. */
Datum
rfm_aov(PG_FUNCTION_ARGS)
{
	HeapTupleHeader summary = PG_GETARG_HEAPTUPLEHEADER(0);
	RfmDays		days;
	Numeric		aov;

	rfm_read_days(summary, &days);
	aov = rfm_average_order_value(days.orders, rfm_read_numeric(summary, RFM_GROSS));
	if (aov == NULL)
		PG_RETURN_NULL();
	PG_RETURN_NUMERIC(aov);
}

/* Days per time unit for the BTYD columns: 'day' (1) or 'week' (7). */
int
rfm_time_unit_days(const char *name)
{
	if (pg_strcasecmp(name, "day") == 0 || pg_strcasecmp(name, "days") == 0)
		return 1;
	if (pg_strcasecmp(name, "week") == 0 || pg_strcasecmp(name, "weeks") == 0)
		return 7;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("time unit \"%s\" not recognized", name),
			 errdetail("BTYD time units are whole days or weeks; months and years have no fixed length."),
			 errhint("Use 'day' or 'week'.")));
	return 0;					/* keep compiler quiet */
}

/* T of the BTYD columns: the as-of day - the first purchase day, in the time unit. */
double
rfm_btyd_t(const RfmDays *days, DateADT as_of, int unit_days)
{
	return (as_of - days->first_purchase) / (double) unit_days;
}

/*
 * The BTYD columns (frequency, recency, T, monetary_value) of a summary with
 * purchase days, ages in units of unit_days days; repeat_spend is the spend
 * of the repeat purchase days (gross - first-day spend), NULL if unknown.
 */
void
rfm_btyd_values(const RfmDays *days, Numeric repeat_spend, DateADT as_of, int unit_days,
				Datum *values, bool *nulls)
{
	double		unit = unit_days;

	Assert(days->purchase_days > 0);
	memset(nulls, 0, 4 * sizeof(bool));
	values[0] = Int32GetDatum(days->purchase_days - 1);
	values[1] = Float8GetDatum((days->last_purchase - days->first_purchase) / unit);
	values[2] = Float8GetDatum(rfm_btyd_t(days, as_of, unit_days));
	if (days->purchase_days == 1)
		values[3] = NumericGetDatum(int64_to_numeric(0));
	else if (repeat_spend == NULL)
		nulls[3] = true;
	else
		values[3] = NumericGetDatum(numeric_div_opt_error(repeat_spend, int64_to_numeric(days->purchase_days - 1),
														  NULL));
}

PG_FUNCTION_INFO_V1(rfm_btyd);
/*
 * The BTYD columns of lifetimes' summary_data_from_transaction_data
 * (freq='D'): frequency = purchase days - 1, recency = last - first purchase
 * day, T = as-of day - first purchase day (both in the time unit), and
 * monetary_value = mean spend of the repeat purchase days (0 if none).
 * NULL for a summary without a purchase.
 */
Datum
rfm_btyd(PG_FUNCTION_ARGS)
{
	HeapTupleHeader summary = PG_GETARG_HEAPTUPLEHEADER(0);
	DateADT		as_of = PG_GETARG_DATEADT(1);
	int			unit_days = rfm_time_unit_days(text_to_cstring(PG_GETARG_TEXT_PP(2)));
	RfmDays		days;
	Numeric		gross;
	Numeric		first_day_spend;
	Datum		values[4];
	bool		nulls[4];

	rfm_read_days_as_of(summary, as_of, &days);
	if (days.purchase_days == 0)
		PG_RETURN_NULL();
	gross = rfm_read_numeric(summary, RFM_GROSS);
	first_day_spend = rfm_read_numeric(summary, RFM_FIRST_DAY_SPEND);
	rfm_btyd_values(&days, gross == NULL || first_day_spend == NULL ? NULL :
					numeric_sub_opt_error(gross, first_day_spend, NULL),
					as_of, unit_days, values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(result_desc(fcinfo), values, nulls)));
}
