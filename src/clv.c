/*
 * clv.c
 *	  Customer lifetime value: the discounted expected spend over a horizon,
 *	  from a purchase model (BG/NBD or MBG/NBD) and a spend model
 *	  (Gamma-Gamma).
 *
 * The horizon is cut into "periods" periods of "period_length" time units
 * (the unit of the models' inputs).  Period i (1-based) is worth the
 * expected purchases in it, E(i L) - E((i-1) L), times the expected spend
 * per purchase, discounted by (1 + discount_rate)^i: cash is counted at the
 * end of its period.  Nothing is implied about months or days: with
 * weekly inputs, 12 periods of 4.345 weeks at 0.01 is lifetimes'
 * customer_lifetime_value(time=12, discount_rate=0.01, freq='W').
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "miscadmin.h"

#include "compat.h"
#include "models.h"

/* At most this many periods: a century of months. */
#define CLV_MAX_PERIODS 1200

/* Error unless the discounting arguments make sense. */
static void
check_discounting(int32 periods, double period_length, double discount_rate)
{
	if (periods < 0 || periods > CLV_MAX_PERIODS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of periods must be between 0 and %d", CLV_MAX_PERIODS),
				 errdetail("Each period's expected purchases take longer to compute as the horizon grows, so the cost grows with the square of the periods; %d monthly periods are a century.", CLV_MAX_PERIODS)));
	if (!(isfinite(period_length) && period_length > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("period length must be a positive finite number"),
				 errdetail("The period length is in the time unit of the models' input, e.g. 4.345 for months in weeks.")));
	if (!(isfinite(discount_rate) && discount_rate >= 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("discount rate must be a non-negative finite number"),
				 errdetail("The discount rate is per period: 0.01 discounts each period's value by a further 1%%.")));
}

/*
 * The CLV of a customer with a valid history whose expected spend is known
 * (no repeat purchases, or repeat purchases of positive mean value m).
 */
double
clv_of(const double *purchase_params, int shift, const double *spend_params, double x,
	   double t_x, double t, double m, int32 periods, double period_length, double discount_rate)
{
	double		spend = gammagamma_expected_spend(spend_params, x, m);
	double		value = 0.0,
				before = 0.0,
				discount = 1.0;

	for (int32 i = 1; i <= periods; i++)
	{
		double		upto = bgnbd_expected_purchases(purchase_params, shift, x, t_x, t,
													i * period_length);

		CHECK_FOR_INTERRUPTS();
		discount /= 1.0 + discount_rate;
		value += (upto - before) * spend * discount;
		before = upto;
	}
	return value;
}

/*
 * lifecycle.clv(purchase model, spend model, frequency, recency, T,
 * monetary_value, periods, period_length, discount_rate); NULL where the
 * expected spend is (repeat purchases of no known value).
 */
static Datum
clv_sql(FunctionCallInfo fcinfo, int shift)
{
	double		purchase[BGNBD_NPARAMS];
	double		spend_params[GAMMAGAMMA_NPARAMS];
	double		x = PG_GETARG_FLOAT8(2);
	double		t_x = PG_GETARG_FLOAT8(3);
	double		t = PG_GETARG_FLOAT8(4);
	double		m = PG_GETARG_FLOAT8(5);
	int32		periods = PG_GETARG_INT32(6);
	double		period_length = PG_GETARG_FLOAT8(7);
	double		discount_rate = PG_GETARG_FLOAT8(8);

	model_read(fcinfo, 0, BGNBD_NPARAMS, purchase);
	model_read(fcinfo, 1, GAMMAGAMMA_NPARAMS, spend_params);
	check_purchase_history(x, t_x, t);
	check_spend_history(x, m);
	check_discounting(periods, period_length, discount_rate);
	if (x > 0 && !spend_is_informative(x, m))
		PG_RETURN_NULL();

	PG_RETURN_FLOAT8(clv_of(purchase, shift, spend_params, x, t_x, t, m, periods, period_length,
							discount_rate));
}

PG_FUNCTION_INFO_V1(bgnbd_clv);
/* lifecycle.clv(bgnbd, gammagamma, ...). */
Datum
bgnbd_clv(PG_FUNCTION_ARGS)
{
	return clv_sql(fcinfo, BG_SHIFT);
}

PG_FUNCTION_INFO_V1(mbgnbd_clv);
/* lifecycle.clv(mbgnbd, gammagamma, ...). */
Datum
mbgnbd_clv(PG_FUNCTION_ARGS)
{
	return clv_sql(fcinfo, MBG_SHIFT);
}
