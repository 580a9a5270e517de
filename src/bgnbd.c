/*
 * bgnbd.c
 *	  The BG/NBD model (Fader, Hardie & Lee 2005) and its modification
 *	  MBG/NBD (Batislam, Denizel & Filiztekin 2007): the fitting aggregates'
 *	  final functions and the per-customer probability alive and expected
 *	  purchases.
 *
 * Both models: while alive, a customer buys at rate lambda ~ Gamma(r,
 * alpha); at each purchase they drop out with probability p ~ Beta(a, b).
 * BG/NBD flips that coin after each repeat purchase, MBG/NBD also right
 * after the first purchase, so that a customer without repeat purchases may
 * already be gone.  In every formula the two differ only by a shift s (0 for
 * BG/NBD, 1 for MBG/NBD) of the number of coin flips survived: x + s.
 *
 * The log-likelihood of a customer (x repeat purchases, the last at age
 * t_x, observed up to age T) is
 *	  lgamma(r+x) - lgamma(r) + r ln(alpha)
 *	  + lgamma(a+b) + lgamma(b+x+s) - lgamma(b) - lgamma(a+b+x+s)
 *	  - (r+x) ln(alpha+t_x) + ln(exp(u) + [x+s > 0] a/(b+x+s-1)),
 *	  u = (r+x) (ln(alpha+t_x) - ln(alpha+T)) <= 0,
 * the last term a log-sum-exp that never overflows.  The terms that depend
 * on x only are computed once per distinct frequency.
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
	R, ALPHA, A, B, NPARAMS = BGNBD_NPARAMS
};

static const char *const param_names[NPARAMS] = {"r", "alpha", "a", "b"};

/* What the objective reads: the model, and the rows grouped by frequency. */
typedef struct FamilyData
{
	int			shift;
	const ModelRows *rows;
	const FrequencyGroup *groups;
	int64		ngroups;
} FamilyData;

/* Accumulated log-likelihood and its derivatives with respect to theta. */
typedef struct Sums
{
	double		ll;
	double		g[NPARAMS];
	double		h[NPARAMS][NPARAMS];
} Sums;

/* Values of theta every term needs. */
typedef struct Common
{
	double		r,
				alpha,
				a,
				b;
	double		log_alpha,
				log_a;
	double		lgamma_r,
				lgamma_ab,
				lgamma_b;
	double		digamma_r,
				digamma_ab,
				digamma_b;
	double		trigamma_r,
				trigamma_ab,
				trigamma_b;
} Common;

/*
 * The terms of one frequency group that depend on x only: the gamma and
 * beta function ratios, times the group's weight.
 */
static void
add_group_terms(const Common *c, double x, int shift, double w, Sums *s)
{
	double		xs = x + shift;
	double		psi_rx,
				psi_bx,
				psi_abx,
				tri_abx;

	s->ll += w * (lgamma(c->r + x) - c->lgamma_r + c->r * c->log_alpha +
				  c->lgamma_ab + lgamma(c->b + xs) - c->lgamma_b - lgamma(c->a + c->b + xs));
	psi_rx = digamma(c->r + x);
	psi_bx = digamma(c->b + xs);
	psi_abx = digamma(c->a + c->b + xs);
	tri_abx = trigamma(c->a + c->b + xs);
	s->g[R] += w * (psi_rx - c->digamma_r + c->log_alpha);
	s->g[ALPHA] += w * c->r / c->alpha;
	s->g[A] += w * (c->digamma_ab - psi_abx);
	s->g[B] += w * (c->digamma_ab + psi_bx - c->digamma_b - psi_abx);
	s->h[R][R] += w * (trigamma(c->r + x) - c->trigamma_r);
	s->h[R][ALPHA] += w / c->alpha;
	s->h[ALPHA][ALPHA] -= w * c->r / (c->alpha * c->alpha);
	s->h[A][A] += w * (c->trigamma_ab - tri_abx);
	s->h[A][B] += w * (c->trigamma_ab - tri_abx);
	s->h[B][B] += w * (c->trigamma_ab + trigamma(c->b + xs) - c->trigamma_b - tri_abx);
}

/*
 * The terms of one row (x, t_x, T, weight w) that involve the ages:
 * -(r+x) ln(alpha+t_x) + ln(exp(u) + [alive] exp(lc)), lc = ln a - ln(bx),
 * bx = b+x+s-1.  With p the share of exp(u) in the sum and q = 1 - p, the
 * gradient is p grad(u) + q grad(lc) plus the first term's, and the Hessian
 * p hess(u) + q hess(lc) + p q (grad u - grad lc)(grad u - grad lc)'.
 */
static void
add_row_terms(const Common *c, const ModelRow *row, double k, bool alive, double lc,
			  double bx, Sums *s)
{
	double		w = row->weight;
	double		log_tx = log(c->alpha + row->v);
	double		log_t = log(c->alpha + row->t);
	double		inv_tx = 1.0 / (c->alpha + row->v);
	double		inv_t = 1.0 / (c->alpha + row->t);
	double		u_r = log_tx - log_t;
	double		u = k * u_r;
	double		u_alpha = k * (inv_tx - inv_t);
	double		e = alive ? exp(-fabs(u - lc)) : 0.0;
	double		lse = alive ? Max(u, lc) + log1p(e) : u;
	double		p = !alive ? 1.0 : u >= lc ? 1.0 / (1.0 + e) : e / (1.0 + e);

	s->ll += w * (lse - k * log_tx);
	s->g[R] += w * (p * u_r - log_tx);
	s->g[ALPHA] += w * (p * u_alpha - k * inv_tx);
	s->h[R][ALPHA] += w * (p * (inv_tx - inv_t) - inv_tx);
	s->h[ALPHA][ALPHA] += w * k * (inv_tx * inv_tx - p * (inv_tx * inv_tx - inv_t * inv_t));
	if (alive)
	{
		double		q = u >= lc ? e / (1.0 + e) : 1.0 / (1.0 + e);
		double		d[NPARAMS] = {u_r, u_alpha, -1.0 / c->a, 1.0 / bx};

		s->g[A] += w * q / c->a;
		s->g[B] -= w * q / bx;
		s->h[A][A] -= w * q / (c->a * c->a);
		s->h[B][B] += w * q / (bx * bx);
		for (int i = 0; i < NPARAMS; i++)
			for (int j = i; j < NPARAMS; j++)
				s->h[i][j] += w * p * q * d[i] * d[j];
	}
}

/* The parts of theta that every group and row needs. */
static void
common_init(const double *theta, Common *c)
{
	c->r = theta[R];
	c->alpha = theta[ALPHA];
	c->a = theta[A];
	c->b = theta[B];
	c->log_alpha = log(c->alpha);
	c->log_a = log(c->a);
	c->lgamma_r = lgamma(c->r);
	c->lgamma_ab = lgamma(c->a + c->b);
	c->lgamma_b = lgamma(c->b);
	c->digamma_r = digamma(c->r);
	c->digamma_ab = digamma(c->a + c->b);
	c->digamma_b = digamma(c->b);
	c->trigamma_r = trigamma(c->r);
	c->trigamma_ab = trigamma(c->a + c->b);
	c->trigamma_b = trigamma(c->b);
}

/*
 * The optimizer's objective: the mean negative log-likelihood per customer,
 * with its gradient and Hessian in theta = (r, alpha, a, b).
 */
static double
family_objective(const double *theta, double *grad, double *hess, void *arg)
{
	const FamilyData *data = arg;
	const ModelRows *rows = data->rows;
	Common		c;
	Sums		s;

	memset(&s, 0, sizeof(Sums));
	common_init(theta, &c);
	for (int64 gi = 0; gi < data->ngroups; gi++)
	{
		const FrequencyGroup *group = &data->groups[gi];
		double		x = group->x;
		double		k = c.r + x;
		bool		alive = x + data->shift > 0;
		double		bx = c.b + x + data->shift - 1;
		double		lc = alive ? c.log_a - log(bx) : 0.0;

		add_group_terms(&c, x, data->shift, group->weight, &s);
		for (int64 i = group->first; i < group->first + group->count; i++)
		{
			CHECK_FOR_INTERRUPTS();
			add_row_terms(&c, &rows->rows[i], k, alive, lc, bx, &s);
		}
	}
	for (int i = 0; i < NPARAMS; i++)
	{
		grad[i] = -s.g[i] / rows->customers;
		for (int j = 0; j < NPARAMS; j++)
			hess[i * NPARAMS + j] = -(i <= j ? s.h[i][j] : s.h[j][i]) / rows->customers;
	}
	return -s.ll / rows->customers;
}

/*
 * Fit a model of the family to rows (sorted and merged).  Starts at
 * r = a = b = 1 with alpha = r times the mean age per repeat purchase, so
 * the start scales with the time unit.  Without any repeat purchase there is
 * nothing to estimate a purchase rate or a drop-out from: no estimate, and a
 * message saying so.
 */
void
bgnbd_fit_rows(const ModelRows *rows, int shift, ModelFit *fit)
{
	FamilyData	data;
	double		repeat_purchases = 0.0,
				age = 0.0;

	for (int64 i = 0; i < rows->nrows; i++)
	{
		repeat_purchases += rows->rows[i].weight * rows->rows[i].x;
		age += rows->rows[i].weight * rows->rows[i].t;
	}
	if (!isfinite(repeat_purchases) || !isfinite(age))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("weighted purchase totals out of range")));
	if (repeat_purchases == 0)
	{
		model_fit_none(fit, NPARAMS, rows->customers,
					   "no customer made a repeat purchase, so purchase rates and drop-out cannot be estimated");
		return;
	}

	memset(fit, 0, sizeof(ModelFit));
	fit->nparams = NPARAMS;
	data.shift = shift;
	data.rows = rows;
	data.groups = model_rows_groups(rows, &data.ngroups);
	fit->params[R] = 1.0;
	fit->params[ALPHA] = age / repeat_purchases;
	fit->params[A] = 1.0;
	fit->params[B] = 1.0;
	model_fit_run(family_objective, &data, param_names, rows, fit);
}

/* The final function of the family's fitting aggregates. */
static Datum
family_fit(FunctionCallInfo fcinfo, int shift)
{
	ModelRows	rows;
	ModelFit	fit;

	if (!model_rows_get(fcinfo, &rows))
		PG_RETURN_NULL();
	bgnbd_fit_rows(&rows, shift, &fit);
	PG_RETURN_DATUM(model_fit_datum(fcinfo, &fit));
}

PG_FUNCTION_INFO_V1(bgnbd_fit_final);
/* Final function of lifecycle.bgnbd_fit: the BG/NBD fit. */
Datum
bgnbd_fit_final(PG_FUNCTION_ARGS)
{
	return family_fit(fcinfo, BG_SHIFT);
}

PG_FUNCTION_INFO_V1(mbgnbd_fit_final);
/* Final function of lifecycle.mbgnbd_fit: the MBG/NBD fit. */
Datum
mbgnbd_fit_final(PG_FUNCTION_ARGS)
{
	return family_fit(fcinfo, MBG_SHIFT);
}

/*
 * Probability that a customer with history (x, t_x, T) is still alive:
 * 1 / (1 + [x+s > 0] a/(b+x+s-1) ((alpha+T)/(alpha+t_x))^(r+x)), computed
 * from its log-odds so that it neither overflows nor loses digits.
 */
double
bgnbd_p_alive_of(const double *params, int shift, double x, double t_x, double t)
{
	double		log_odds;

	if (x + shift == 0)
		return 1.0;
	log_odds = log(params[A]) - log(params[B] + x + shift - 1) +
		(params[R] + x) * log1p((t - t_x) / (params[ALPHA] + t_x));
	return 1.0 / (1.0 + exp(log_odds));
}

/*
 * Expected number of purchases in the next "horizon" time units of a
 * customer with history (x, t_x, T): P(alive) times the posterior mean of
 * (1 - exp(-lambda p horizon)) / p, which is (equation 10 of Fader, Hardie &
 * Lee 2005, MBG/NBD alike)
 *	  C/(a-1) [1 - w^A 2F1(A, B; C; z)],
 *	  A = r+x, B = b+x+s, C = a+b+x+s-1, z = horizon/(alpha+T+horizon), w = 1-z.
 * Evaluated through Euler's transformation (see hyp2f1.c) as
 *	  C (1 - w^(a-1))/(a-1) - w^(a-1) E(C-A, a-1, C; z),
 * exact at a = 1 and accurate for short horizons.
 */
double
bgnbd_expected_purchases(const double *params, int shift, double x, double t_x,
						 double t, double horizon)
{
	double		r = params[R],
				alpha = params[ALPHA],
				a = params[A],
				b = params[B];
	double		k = r + x;
	double		c = a + b + x + shift - 1;
	double		log_w,
				z,
				first;

	if (horizon == 0)
		return 0.0;
	log_w = -log1p(horizon / (alpha + t));
	z = horizon / (alpha + t + horizon);
	first = a == 1.0 ? -log_w : -expm1((a - 1) * log_w) / (a - 1);
	return bgnbd_p_alive_of(params, shift, x, t_x, t) *
		(c * first - exp((a - 1) * log_w) * hyp2f1_scaled_excess(c - k, a - 1, c, z));
}

/* Error unless a horizon is a non-negative finite number of time units. */
static void
check_horizon(double horizon)
{
	if (!(isfinite(horizon) && horizon >= 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("horizon must be a non-negative finite number"),
				 errdetail("The horizon is the length of the future period, in the time unit of the model's input.")));
}

/* P(alive) for SQL: (model, frequency, recency, T). */
static Datum
p_alive_sql(FunctionCallInfo fcinfo, int shift)
{
	double		params[NPARAMS];
	double		x = PG_GETARG_FLOAT8(1);
	double		t_x = PG_GETARG_FLOAT8(2);
	double		t = PG_GETARG_FLOAT8(3);

	model_read(fcinfo, 0, NPARAMS, params);
	check_purchase_history(x, t_x, t);
	PG_RETURN_FLOAT8(bgnbd_p_alive_of(params, shift, x, t_x, t));
}

/* Expected purchases for SQL: (model, frequency, recency, T, horizon). */
static Datum
expected_purchases_sql(FunctionCallInfo fcinfo, int shift)
{
	double		params[NPARAMS];
	double		x = PG_GETARG_FLOAT8(1);
	double		t_x = PG_GETARG_FLOAT8(2);
	double		t = PG_GETARG_FLOAT8(3);
	double		horizon = PG_GETARG_FLOAT8(4);

	model_read(fcinfo, 0, NPARAMS, params);
	check_purchase_history(x, t_x, t);
	check_horizon(horizon);
	PG_RETURN_FLOAT8(bgnbd_expected_purchases(params, shift, x, t_x, t, horizon));
}

PG_FUNCTION_INFO_V1(bgnbd_p_alive);
/* lifecycle.p_alive(bgnbd, ...): BG/NBD probability alive. */
Datum
bgnbd_p_alive(PG_FUNCTION_ARGS)
{
	return p_alive_sql(fcinfo, BG_SHIFT);
}

PG_FUNCTION_INFO_V1(mbgnbd_p_alive);
/* lifecycle.p_alive(mbgnbd, ...): MBG/NBD probability alive. */
Datum
mbgnbd_p_alive(PG_FUNCTION_ARGS)
{
	return p_alive_sql(fcinfo, MBG_SHIFT);
}

PG_FUNCTION_INFO_V1(bgnbd_expected_purchases_sql);
/* lifecycle.expected_purchases(bgnbd, ...): BG/NBD expected purchases. */
Datum
bgnbd_expected_purchases_sql(PG_FUNCTION_ARGS)
{
	return expected_purchases_sql(fcinfo, BG_SHIFT);
}

PG_FUNCTION_INFO_V1(mbgnbd_expected_purchases_sql);
/* lifecycle.expected_purchases(mbgnbd, ...): MBG/NBD expected purchases. */
Datum
mbgnbd_expected_purchases_sql(PG_FUNCTION_ARGS)
{
	return expected_purchases_sql(fcinfo, MBG_SHIFT);
}
