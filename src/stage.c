/*
 * stage.c
 *	  The lifecycle stage of a customer summary at an as-of date (PRODUCT.md
 *	  section 3): the policy thresholds, their validation and the ordered
 *	  rules, first match wins.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"

#include "args.h"
#include "compat.h"
#include "stage.h"

const char *const stage_labels[STAGE_COUNT] = {
	"prospect", "new", "active", "at_risk", "dormant", "churned", "reactivated"
};

/* An integer threshold argument that must be given. */
static int32
required_int(FunctionCallInfo fcinfo, int argno, const char *name)
{
	return DatumGetInt32(required_arg(fcinfo, argno, name, "Leave the argument out to use its default."));
}

/* An argument that breaks the policy's rules. */
static void
policy_error(const char *message, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", message),
			 errdetail("%s", detail),
			 errhint("The defaults are active_days 90, dormant_days 180, churn_days 270, cadence_factor 3.0, cadence_min_days 30.")));
}

/* Read and check the thresholds (arguments 2-6). */
static void
read_policy(FunctionCallInfo fcinfo, StagePolicy *policy)
{
	policy->active_days = required_int(fcinfo, 2, "active_days");
	policy->dormant_days = required_int(fcinfo, 3, "dormant_days");
	policy->churn_days = required_int(fcinfo, 4, "churn_days");
	policy->cadence = !PG_ARGISNULL(5);
	policy->cadence_factor = policy->cadence ? PG_GETARG_FLOAT8(5) : 0;
	policy->cadence_min_days = required_int(fcinfo, 6, "cadence_min_days");
	stage_policy_check(policy);
}

/* Error unless the thresholds make a policy. */
void
stage_policy_check(const StagePolicy *policy)
{
	if (policy->active_days <= 0 || policy->dormant_days <= 0 || policy->churn_days <= 0)
		policy_error("stage thresholds must be positive",
					 "active_days, dormant_days and churn_days count days since the last order.");
	if (policy->active_days > policy->dormant_days || policy->dormant_days > policy->churn_days)
		policy_error("stage thresholds must satisfy active_days <= dormant_days <= churn_days",
					 "A customer goes quiet, then dormant, then churned.");
	if (policy->cadence && !(isfinite(policy->cadence_factor) && policy->cadence_factor > 0))
		policy_error("cadence_factor must be positive and finite",
					 "It multiplies the customer's mean interval between purchase days; NULL turns the cadence rule off.");
	if (policy->cadence_min_days < 0)
		policy_error("cadence_min_days must not be negative",
					 "Within this many days of the last order, the cadence rule never calls a customer at risk.");
}

/*
 * Rule 7: overdue for the customer's own rhythm, R > max(factor x I,
 * min_days) with I = (last - first) / (n - 1).  Compared as
 * R (n - 1) > factor (last - first), without the rounding of a division:
 * R (n - 1) is below 2^62 and exact in int64; it and the product with the
 * factor are exact in double whenever they fit 53 bits, as they do for any
 * factor with a short binary form (3, 2.5, 1.5 ...) and real histories.
 */
static bool
overdue(const StagePolicy *policy, const RfmDays *days, int64 recency)
{
	int64		weighted_recency = recency * (int64) (days->purchase_days - 1);
	int64		span = (int64) days->last_purchase - days->first_purchase;

	return recency > policy->cadence_min_days &&
		(double) weighted_recency > policy->cadence_factor * (double) span;
}

/*
 * The stage of a summary's days at as_of, by PRODUCT.md's rules: a prospect
 * without a purchase day, else rules 2-8.
 */
Stage
stage_of(const StagePolicy *policy, const RfmDays *days, DateADT as_of)
{
	int64		recency;

	if (days->purchase_days == 0)
		return STAGE_PROSPECT;
	recency = (int64) as_of - days->last_purchase;
	if (recency > policy->churn_days)
		return STAGE_CHURNED;
	if (recency > policy->dormant_days)
		return STAGE_DORMANT;
	if (recency > policy->active_days)
		return STAGE_AT_RISK;
	if (days->purchase_days >= 2 &&
		(int64) days->last_purchase - days->previous_purchase > policy->churn_days)
		return STAGE_REACTIVATED;
	if (days->purchase_days == 1)
		return STAGE_NEW;
	if (policy->cadence && overdue(policy, days, recency))
		return STAGE_AT_RISK;
	return STAGE_ACTIVE;
}

/*
 * Within the days after the last purchase (the history fixed), stages only
 * move forward along this order: the stage of the history itself (new,
 * active or reactivated), then at risk, dormant, churned.
 */
static int
stage_rank(Stage stage)
{
	switch (stage)
	{
		case STAGE_AT_RISK:
			return 1;
		case STAGE_DORMANT:
			return 2;
		case STAGE_CHURNED:
			return 3;
		default:
			return 0;
	}
}

/*
 * The first day of the run of days up to as_of on which the customer had
 * the stage it has at as_of.  A stage is a function of the orders up to a
 * day, so the run is found from the purchase days alone: within the days
 * after a purchase day the stage only moves forward (stage_rank), so its
 * start there is found by bisection; a run that reaches back to the
 * purchase day continues if the day before had the same stage, with the
 * history before that purchase day (day_before gives the purchase day
 * before a day).  The days must have a purchase day.
 */
DateADT
stage_since(const StagePolicy *policy, const RfmDays *days, DateADT as_of,
			bool (*day_before) (void *arg, DateADT day, DateADT *before), void *arg)
{
	RfmDays		history = *days;
	Stage		stage = stage_of(policy, days, as_of);
	DateADT		end = as_of;

	for (;;)
	{
		DateADT		lo = history.last_purchase,
					hi = end;

		CHECK_FOR_INTERRUPTS();
		/* the first day in [last purchase, end] with the stage's rank (rank 0: all of them) */
		if (stage_rank(stage) == 0)
			hi = lo;
		while (lo < hi)
		{
			DateADT		mid = lo + (hi - lo) / 2;

			if (stage_rank(stage_of(policy, &history, mid)) >= stage_rank(stage))
				hi = mid;
			else
				lo = mid + 1;
		}
		if (lo > history.last_purchase || history.purchase_days == 1)
			return lo;
		/* the run reaches the purchase day: did the day before have the stage? */
		end = history.last_purchase - 1;
		history.purchase_days--;
		history.last_purchase = history.previous_purchase;
		if (history.purchase_days < 2 || !day_before(arg, history.last_purchase, &history.previous_purchase))
			history.previous_purchase = 0;
		if (stage_of(policy, &history, end) != stage)
			return end + 1;
	}
}

/*
 * Why a customer has its stage at as_of, in words, where that does not
 * depend on the customer's days (churned, dormant, at risk past the active
 * days, new, prospect): the rule that fired with its thresholds, as a
 * format() template whose one %s is the days since the last order (filled
 * in at query time, so that the text stays the same from day to day while
 * the stage does).  NULL for a stage whose reason always names the
 * customer's own days.
 */
char *
stage_fixed_reason(const StagePolicy *policy, Stage stage)
{
	switch (stage)
	{
		case STAGE_CHURNED:
			return psprintf("no order for %%s days, more than %d", policy->churn_days);
		case STAGE_DORMANT:
			return psprintf("no order for %%s days, more than %d", policy->dormant_days);
		case STAGE_AT_RISK:
			return psprintf("no order for %%s days, more than %d", policy->active_days);
		case STAGE_NEW:
			return pstrdup("one purchase day, %s days ago");
		case STAGE_PROSPECT:
			return pstrdup("no purchase yet");
		default:
			return NULL;
	}
}

/*
 * Why a customer with a purchase day has its stage at as_of, as
 * stage_fixed_reason words it, where the reason names the customer's own
 * days; NULL where it is the stage's fixed reason (most customers: a caller
 * writing many makes that text once).
 */
char *
stage_reason(const StagePolicy *policy, const RfmDays *days, DateADT as_of, Stage stage)
{
	int64		recency = (int64) as_of - days->last_purchase;
	double		interval = days->purchase_days >= 2 ?
		(double) (days->last_purchase - days->first_purchase) / (days->purchase_days - 1) : 0;

	switch (stage)
	{
		case STAGE_AT_RISK:
			if (recency > policy->active_days)
				return NULL;
			return psprintf("no order for %%s days, more than %g x their usual %.1f days (and %d)",
							policy->cadence_factor, interval, policy->cadence_min_days);
		case STAGE_REACTIVATED:
			return psprintf("bought again %%s days ago after %d days without an order, more than %d",
							(int) (days->last_purchase - days->previous_purchase), policy->churn_days);
		case STAGE_ACTIVE:
			return psprintf("last order %%s days ago; they buy every %.1f days", interval);
		default:
			return NULL;
	}
}

/* The values of an enum with the stage labels (lifecycle.stage), in Stage order. */
void
stage_enum_values(Oid enum_type, Datum *values)
{
	for (int i = 0; i < STAGE_COUNT; i++)
		values[i] = DirectFunctionCall2(enum_in, CStringGetDatum(stage_labels[i]),
										ObjectIdGetDatum(enum_type));
}

/* The lifecycle.stage enum value of a stage, looked up once per call site. */
static Datum
stage_datum(FunctionCallInfo fcinfo, Stage stage)
{
	Datum	   *values = fcinfo->flinfo->fn_extra;

	if (values == NULL)
	{
		values = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, STAGE_COUNT * sizeof(Datum));
		stage_enum_values(get_func_rettype(fcinfo->flinfo->fn_oid), values);
		fcinfo->flinfo->fn_extra = values;
	}
	return values[stage];
}

PG_FUNCTION_INFO_V1(rfm_stage);
/*
 * lifecycle.stage(summary, as_of, active_days, dormant_days, churn_days,
 * cadence_factor, cadence_min_days): the customer's stage at as_of.  A NULL
 * summary or one without a purchase day is a prospect; a NULL cadence_factor
 * turns the cadence rule off; every other NULL argument is an error.
 */
Datum
rfm_stage(PG_FUNCTION_ARGS)
{
	StagePolicy policy;
	RfmDays		days;
	DateADT		as_of;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("as-of date must not be NULL"),
				 errhint("Pass the day the stage is evaluated at, e.g. current_date.")));
	as_of = PG_GETARG_DATEADT(1);
	read_policy(fcinfo, &policy);
	rfm_check_as_of(as_of);
	if (PG_ARGISNULL(0))
		PG_RETURN_DATUM(stage_datum(fcinfo, STAGE_PROSPECT));

	rfm_read_days_as_of(PG_GETARG_HEAPTUPLEHEADER(0), as_of, &days);
	PG_RETURN_DATUM(stage_datum(fcinfo, stage_of(&policy, &days, as_of)));
}

/*
 * The stage a label of len bytes names (not necessarily terminated: a
 * refresh reads every customer's stage from its row); an error for any
 * other text.
 */
Stage
stage_of_label(const char *label, int len)
{
	for (int i = 0; i < STAGE_COUNT; i++)
		if (strncmp(stage_labels[i], label, len) == 0 && stage_labels[i][len] == '\0')
			return (Stage) i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("\"%s\" is not a lifecycle stage", pnstrdup(label, len))));
	return STAGE_PROSPECT;		/* keep compiler quiet */
}
