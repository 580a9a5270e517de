/*
 * settings.c
 *	  A segment view's settings: a row of lifecycle.segment_views, read by
 *	  column name (as pg_cron reads cron.job) and checked.  settings_check is
 *	  the one validator that creating a view, changing its settings (a
 *	  trigger on the table) and refreshing it go through, so that each
 *	  mistake has one message wherever it is made.
 */
#include "postgres.h"

#include <math.h>

#include "executor/executor.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "compat.h"
#include "settings.h"

/* Bounds that keep one refresh's prediction work small (docs/segment_view.md). */
#define MAX_PREDICTION_DAYS 3650
#define MAX_CLV_PERIODS 120
#define MAX_CLV_HORIZON_DAYS 3650

/* The value of a settings column; an error naming it if it is NULL. */
static Datum
required(HeapTupleHeader row, const char *column)
{
	bool		isnull;
	Datum		value = GetAttributeByName(row, column, &isnull);

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("segment view setting %s must not be NULL", column)));
	return value;
}

/* A name column as a C string. */
static const char *
required_name(HeapTupleHeader row, const char *column)
{
	return pstrdup(NameStr(*DatumGetName(required(row, column))));
}

/* A text column as a C string. */
static const char *
required_text(HeapTupleHeader row, const char *column)
{
	return TextDatumGetCString(required(row, column));
}

/*
 * Read a settings row into *settings by column name.  source.as_of is left
 * to the caller (the row's as_of may be NULL: today in the view's zone).
 */
void
settings_from_row(HeapTupleHeader row, ViewSettings *settings)
{
	bool		isnull;
	Datum		value;

	memset(settings, 0, sizeof(ViewSettings));
	settings->view_name = required_text(row, "view_name");
	settings->source.orders = DatumGetObjectId(required(row, "orders"));
	settings->source.customer_column = required_name(row, "customer_column");
	settings->source.time_column = required_name(row, "time_column");
	settings->source.amount_column = required_name(row, "amount_column");
	value = GetAttributeByName(row, "customers", &isnull);
	if (!isnull)
	{
		settings->source.customers = DatumGetObjectId(value);
		settings->source.customers_key = required_name(row, "customers_key");
	}
	settings->source.time_zone = DatumGetTextPP(required(row, "time_zone"));
	settings->policy.active_days = DatumGetInt32(required(row, "active_days"));
	settings->policy.dormant_days = DatumGetInt32(required(row, "dormant_days"));
	settings->policy.churn_days = DatumGetInt32(required(row, "churn_days"));
	value = GetAttributeByName(row, "cadence_factor", &isnull);
	settings->policy.cadence = !isnull;
	settings->policy.cadence_factor = isnull ? 0 : DatumGetFloat8(value);
	settings->policy.cadence_min_days = DatumGetInt32(required(row, "cadence_min_days"));
	settings->score_method = required_text(row, "score_method");
	settings->frequency_basis = required_text(row, "frequency_basis");
	settings->btyd_unit = required_text(row, "btyd_unit");
	settings->models = DatumGetBool(required(row, "models"));
	settings->keep_transitions = DatumGetBool(required(row, "keep_transitions"));
	settings->incremental = DatumGetBool(required(row, "incremental"));
	settings->rule_set = required_text(row, "rule_set");
	settings->prediction_days = DatumGetInt32(required(row, "prediction_days"));
	settings->clv_periods = DatumGetInt32(required(row, "clv_periods"));
	settings->clv_period_days = DatumGetInt32(required(row, "clv_period_days"));
	settings->clv_discount_rate = DatumGetFloat8(required(row, "clv_discount_rate"));
}

/* Error for a setting outside its range. */
static void
out_of_range(const char *setting, const char *range)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("segment view setting %s is out of range", setting),
			 errdetail("It must be %s.", range)));
}

/*
 * Check settings: the orders can be read as they say, the zone, stage
 * policy, scoring method, frequency basis and BTYD unit are known, and the
 * prediction settings are within the bounds that keep a refresh's work
 * proportional to its customers.
 */
void
settings_check(const ViewSettings *settings)
{
	order_source_check(&settings->source);
	(void) lookup_zone(settings->source.time_zone);
	stage_policy_check(&settings->policy);
	(void) breaks_method(settings->score_method, strlen(settings->score_method));
	if (strcmp(settings->frequency_basis, "orders") != 0 &&
		strcmp(settings->frequency_basis, "purchase_days") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("frequency basis \"%s\" not recognized", settings->frequency_basis),
				 errhint("Use 'orders' or 'purchase_days'.")));
	(void) rfm_time_unit_days(settings->btyd_unit);
	if (settings->prediction_days < 1 || settings->prediction_days > MAX_PREDICTION_DAYS)
		out_of_range("prediction_days", "between 1 and " CppAsString2(MAX_PREDICTION_DAYS) " days");
	if (settings->clv_periods < 1 || settings->clv_periods > MAX_CLV_PERIODS)
		out_of_range("clv_periods", "between 1 and " CppAsString2(MAX_CLV_PERIODS));
	if (settings->clv_period_days < 1 ||
		(int64) settings->clv_periods * settings->clv_period_days > MAX_CLV_HORIZON_DAYS)
		out_of_range("clv_period_days", "at least 1, with clv_periods x clv_period_days at most "
					 CppAsString2(MAX_CLV_HORIZON_DAYS) " days");
	if (!(isfinite(settings->clv_discount_rate) && settings->clv_discount_rate >= 0))
		out_of_range("clv_discount_rate", "a non-negative finite number (0.025 = 2.5 % a period)");
}

PG_FUNCTION_INFO_V1(segment_view_check);
/*
 * lifecycle._check_segment_view(lifecycle.segment_views): error unless the
 * settings row is valid; what the table's trigger runs on every INSERT and
 * UPDATE.
 */
Datum
segment_view_check(PG_FUNCTION_ARGS)
{
	ViewSettings settings;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("segment view settings must not be NULL")));
	settings_from_row(PG_GETARG_HEAPTUPLEHEADER(0), &settings);
	settings_check(&settings);
	PG_RETURN_VOID();
}
