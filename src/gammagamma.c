/*
 * gammagamma.c
 *	  The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV";
 *	  Fader & Hardie, note 025): the fitting aggregate's final function and
 *	  the per-customer expected spend per purchase.
 *
 * Each purchase of a customer is worth z ~ Gamma(p, nu), and nu varies
 * across customers as Gamma(q, gamma).  For a customer with x repeat
 * purchases of mean value m the log-likelihood is
 *	  lgamma(px+q) - lgamma(px) - lgamma(q) + q ln(gamma)
 *	  + (px-1) ln(m) + px ln(x) - (px+q) ln(xm+gamma).
 * The terms in x only are computed once per distinct frequency; what
 * remains per row is one logarithm, and the sums it feeds are linear in p
 * and q.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "miscadmin.h"

#include "compat.h"
#include "models.h"
#include "specfun.h"

enum
{
	P, Q, GAMMA, NPARAMS = GAMMAGAMMA_NPARAMS
};

static const char *const param_names[NPARAMS] = {"p", "q", "gamma"};

/*
 * What the objective reads: the rows, their frequency groups, and the sums
 * over rows that do not depend on the parameters.
 */
typedef struct SpendData
{
	const ModelRows *rows;
	const FrequencyGroup *groups;
	int64		ngroups;
	double		sum_log_m;		/* sum of w ln(m) */
	double		sum_x_log_xm;	/* sum of w x ln(x m) */
} SpendData;

/* Sums over rows of w times ln(y), 1/y and 1/y^2, y = xm + gamma; plain and times x. */
typedef struct RowSums
{
	double		log_y,
				x_log_y,
				inv_y,
				x_inv_y,
				inv_y2,
				x_inv_y2;
} RowSums;

/* The row sums at gamma. */
static void
row_sums(const ModelRows *rows, double gamma, RowSums *s)
{
	memset(s, 0, sizeof(RowSums));
	for (int64 i = 0; i < rows->nrows; i++)
	{
		const ModelRow *row = &rows->rows[i];
		double		y = row->x * row->v + gamma;
		double		w = row->weight;
		double		log_y = log(y);
		double		inv = 1.0 / y;

		CHECK_FOR_INTERRUPTS();
		s->log_y += w * log_y;
		s->x_log_y += w * row->x * log_y;
		s->inv_y += w * inv;
		s->x_inv_y += w * row->x * inv;
		s->inv_y2 += w * inv * inv;
		s->x_inv_y2 += w * row->x * inv * inv;
	}
}

/*
 * The optimizer's objective: the mean negative log-likelihood per customer,
 * with gradient and Hessian in theta = (p, q, gamma).
 */
static double
spend_objective(const double *theta, double *grad, double *hess, void *arg)
{
	const SpendData *data = arg;
	double		p = theta[P],
				q = theta[Q],
				gamma = theta[GAMMA];
	double		n = data->rows->customers;
	double		ll = 0.0,
				g[NPARAMS] = {0},
				h[NPARAMS][NPARAMS] = {{0}};
	RowSums		s;

	row_sums(data->rows, gamma, &s);
	for (int64 gi = 0; gi < data->ngroups; gi++)
	{
		double		x = data->groups[gi].x;
		double		w = data->groups[gi].weight;
		double		px = p * x;

		double		psi = digamma(px + q);
		double		tri = trigamma(px + q);

		ll += w * (lgamma(px + q) - lgamma(px) - lgamma(q));
		g[P] += w * x * (psi - digamma(px));
		g[Q] += w * (psi - digamma(q));
		h[P][P] += w * x * x * (tri - trigamma(px));
		h[P][Q] += w * x * tri;
		h[Q][Q] += w * (tri - trigamma(q));
	}
	ll += n * q * log(gamma) + p * data->sum_x_log_xm - data->sum_log_m -
		p * s.x_log_y - q * s.log_y;
	g[P] += data->sum_x_log_xm - s.x_log_y;
	g[Q] += n * log(gamma) - s.log_y;
	g[GAMMA] = n * q / gamma - p * s.x_inv_y - q * s.inv_y;
	h[P][GAMMA] = -s.x_inv_y;
	h[Q][GAMMA] = n / gamma - s.inv_y;
	h[GAMMA][GAMMA] = -n * q / (gamma * gamma) + p * s.x_inv_y2 + q * s.inv_y2;
	for (int i = 0; i < NPARAMS; i++)
	{
		grad[i] = -g[i] / n;
		for (int j = 0; j < NPARAMS; j++)
			hess[i * NPARAMS + j] = -(i <= j ? h[i][j] : h[j][i]) / n;
	}
	return -ll / n;
}

/*
 * A start for the search from the moments of m.  Given nu, m is the mean
 * of x purchases of Gamma(p, nu) values, so E[m] = p gamma / (q - 1) and
 * E[m^2] = (p^2 + p / x) gamma^2 / ((q - 1)(q - 2)): a line in 1/x with
 * intercept A and slope B, whence p = A / B, A / E[m]^2 = (q - 1) / (q - 2)
 * and gamma = E[m] (q - 1) / p.  Fitting that line by weighted least
 * squares puts the start close to the maximum, which saves Newton steps,
 * each a pass over all rows.  False where the moments say nothing (one
 * frequency only, or q <= 2, where E[m^2] is infinite).
 */
static bool
moment_start(const ModelRows *rows, double *params)
{
	double		sw = 0.0,
				sz = 0.0,
				szz = 0.0,
				sy = 0.0,
				szy = 0.0,
				sm = 0.0;
	double		intercept,
				slope,
				mean,
				ratio;

	for (int64 i = 0; i < rows->nrows; i++)
	{
		const ModelRow *row = &rows->rows[i];
		double		w = row->weight;
		double		z = 1.0 / row->x;
		double		y = row->v * row->v;

		sw += w;
		sz += w * z;
		szz += w * z * z;
		sy += w * y;
		szy += w * z * y;
		sm += w * row->v;
	}
	slope = (sw * szy - sz * sy) / (sw * szz - sz * sz);
	intercept = (sy - slope * sz) / sw;
	mean = sm / sw;
	ratio = intercept / (mean * mean);
	if (!(slope > 0 && intercept > 0 && ratio > 1))
		return false;
	params[Q] = 2.0 + 1.0 / (ratio - 1.0);
	params[P] = intercept / slope;
	params[GAMMA] = mean * (params[Q] - 1.0) / params[P];
	for (int i = 0; i < NPARAMS; i++)
		if (!(isfinite(params[i]) && params[i] > 0))
			return false;
	return true;
}

/*
 * Fit the model to spend rows (sorted and merged): the customers with
 * repeat purchases of positive mean value.  Starts from the moments of m
 * (moment_start), or where they say nothing at p = 1, q = 2, gamma = the
 * mean of m, where the model's mean spend p gamma / (q - 1) equals the
 * observed mean.
 */
void
gammagamma_fit_rows(const ModelRows *rows, ModelFit *fit)
{
	SpendData	data;
	double		sum_m = 0.0;

	if (rows->nrows == 0)
	{
		model_fit_none(fit, NPARAMS, 0.0,
					   "no customer made a repeat purchase, so spend per purchase cannot be estimated");
		return;
	}
	memset(fit, 0, sizeof(ModelFit));
	fit->nparams = NPARAMS;
	data.rows = rows;
	data.groups = model_rows_groups(rows, &data.ngroups);
	data.sum_log_m = 0.0;
	data.sum_x_log_xm = 0.0;
	for (int64 i = 0; i < rows->nrows; i++)
	{
		const ModelRow *row = &rows->rows[i];

		data.sum_log_m += row->weight * log(row->v);
		data.sum_x_log_xm += row->weight * row->x * log(row->x * row->v);
		sum_m += row->weight * row->v;
	}
	if (!moment_start(rows, fit->params))
	{
		fit->params[P] = 1.0;
		fit->params[Q] = 2.0;
		fit->params[GAMMA] = sum_m / rows->customers;
	}
	model_fit_run(spend_objective, &data, param_names, rows, fit);
}

PG_FUNCTION_INFO_V1(gammagamma_fit_final);
/*
 * Final function of lifecycle.gammagamma_fit.  The rows are the customers
 * with repeat purchases of positive mean value (the transition leaves out
 * the others).
 */
Datum
gammagamma_fit_final(PG_FUNCTION_ARGS)
{
	ModelRows	rows;
	ModelFit	fit;

	if (!model_rows_get(fcinfo, &rows))
		PG_RETURN_NULL();
	gammagamma_fit_rows(&rows, &fit);
	PG_RETURN_DATUM(model_fit_datum(fcinfo, &fit));
}

/*
 * Expected spend per purchase of a customer with x repeat purchases of mean
 * value m > 0 (or none, x = 0): the posterior mean p (gamma + x m) / (p x + q - 1), a weighted
 * average of the population mean p gamma / (q - 1) and m.  Without repeat
 * purchases (x = 0) that is the population mean.  Errors where the model
 * gives an infinite mean (p x + q <= 1).
 */
double
gammagamma_expected_spend(const double *params, double x, double m)
{
	double		p = params[P],
				q = params[Q],
				gamma = params[GAMMA];
	double		denominator = p * x + q - 1;

	if (!(denominator > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("expected spend is infinite under this model"),
				 errdetail("With q = %g and p x = %g, p x + q is not above 1.", q, p * x),
				 errhint("A Gamma-Gamma model with q <= 1 has no finite mean spend for customers without repeat purchases.")));
	/* p x / denominator < 1 (q > 1): no intermediate overflows for finite m */
	return p * gamma / denominator + (x > 0 ? m * (p * x / denominator) : 0.0);
}

PG_FUNCTION_INFO_V1(gammagamma_expected_spend_sql);
/*
 * lifecycle.expected_spend(gammagamma, frequency, monetary_value); NULL for
 * repeat purchases of no known value (mean 0), which the model cannot
 * condition on.
 */
Datum
gammagamma_expected_spend_sql(PG_FUNCTION_ARGS)
{
	double		params[NPARAMS];
	double		x = PG_GETARG_FLOAT8(1);
	double		m = PG_GETARG_FLOAT8(2);

	model_read(fcinfo, 0, NPARAMS, params);
	check_spend_history(x, m);
	if (x > 0 && !spend_is_informative(x, m))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(gammagamma_expected_spend(params, x, m));
}
