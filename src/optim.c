/*
 * optim.c
 *	  Maximum likelihood for the models: minimize a mean negative
 *	  log-likelihood over positive parameters, then standard errors.
 *
 * The search runs on phi = log(theta), so every step keeps the parameters
 * positive and a step means the same relative change at any scale.  Each
 * iteration takes a Newton step with the analytic Hessian; where that
 * Hessian is not positive definite (far from the maximum) it is damped
 * (Levenberg) until it is.  A backtracking line search with the Armijo
 * condition makes every iteration decrease the objective, and no step moves
 * a log-parameter by more than MAX_LOG_STEP.
 *
 * Convergence: the gradient with respect to phi is below GRADIENT_TOLERANCE,
 * or the Newton step would change the objective by less than its rounding
 * noise (NOISE_DECREASE; STALL_DECREASE where the line search can no longer
 * find any decrease, as over a million rows).  The models start from points scaled to the data, so a parameter
 * that moves more than a factor exp(RUN_OFF) from its start is running off
 * to 0 or infinity: the likelihood has no maximum inside.  Where the search
 * cannot make progress any more with a parameter exp(STALL_RUN_OFF) away
 * from its start, the likelihood has flattened out along that parameter,
 * which is the same diagnosis.  A maximum whose log-parameter has a standard
 * deviation above MAX_LOG_SD is reported as not identified rather than as an
 * estimate.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "optim.h"

#define MAX_ITERATIONS		200
#define GRADIENT_TOLERANCE	1e-9
#define NOISE_DECREASE		1e-13
#define STALL_DECREASE		1e-9
#define MAX_LOG_STEP		2.0
#define RUN_OFF				15.0
#define STALL_RUN_OFF		7.0
#define ARMIJO				1e-4
#define MAX_HALVINGS		60
#define MAX_LOG_SD			10.0

#define N2 (OPTIM_MAX_PARAMS * OPTIM_MAX_PARAMS)

/* Cholesky factor L (lower, row-major) of a + shift I; false unless positive definite. */
static bool
cholesky(int n, const double *a, double shift, double *l)
{
	for (int i = 0; i < n; i++)
	{
		for (int j = 0; j <= i; j++)
		{
			double		sum = a[i * n + j] + (i == j ? shift : 0.0);

			for (int k = 0; k < j; k++)
				sum -= l[i * n + k] * l[j * n + k];
			if (i == j)
			{
				if (!(sum > 0.0) || !isfinite(sum))
					return false;
				l[i * n + i] = sqrt(sum);
			}
			else
				l[i * n + j] = sum / l[j * n + j];
		}
		for (int j = i + 1; j < n; j++)
			l[i * n + j] = 0.0;
	}
	return true;
}

/* Solve L L' x = b for x, given the Cholesky factor L. */
static void
cholesky_solve(int n, const double *l, const double *b, double *x)
{
	for (int i = 0; i < n; i++)
	{
		double		sum = b[i];

		for (int k = 0; k < i; k++)
			sum -= l[i * n + k] * x[k];
		x[i] = sum / l[i * n + i];
	}
	for (int i = n - 1; i >= 0; i--)
	{
		double		sum = x[i];

		for (int k = i + 1; k < n; k++)
			sum -= l[k * n + i] * x[k];
		x[i] = sum / l[i * n + i];
	}
}

/*
 * The search direction d solving (h + mu I) d = -g with the smallest mu >= 0
 * that makes the matrix positive definite; steepest descent if none does.
 * Returns true when no damping was needed (d is the Newton step).
 */
static bool
newton_direction(int n, const double *h, const double *g, double *d)
{
	double		l[N2];
	double		minus_g[OPTIM_MAX_PARAMS];
	double		scale = 0.0;
	double		mu = 0.0;

	for (int i = 0; i < n; i++)
	{
		minus_g[i] = -g[i];
		scale = Max(scale, fabs(h[i * n + i]));
	}
	for (int attempt = 0; attempt < 40; attempt++)
	{
		if (cholesky(n, h, mu, l))
		{
			cholesky_solve(n, l, minus_g, d);
			return mu == 0.0;
		}
		mu = (mu == 0.0) ? Max(scale, 1.0) * 1e-10 : mu * 10.0;
	}
	memcpy(d, minus_g, n * sizeof(double));
	return false;
}

/* A point of the search, with the objective and its derivatives in phi. */
typedef struct Point
{
	double		phi[OPTIM_MAX_PARAMS];
	double		theta[OPTIM_MAX_PARAMS];
	double		value;
	double		g[OPTIM_MAX_PARAMS];
	double		h[N2];
} Point;

/*
 * Evaluate the objective at phi: theta = exp(phi), then the gradient and
 * Hessian with respect to phi from those with respect to theta:
 * g_phi = theta g, H_phi = D H D + diag(g_phi) with D = diag(theta).
 */
static void
evaluate(OptimObjective fn, void *arg, int n, Point *point)
{
	double		g[OPTIM_MAX_PARAMS];
	double		h[N2];

	for (int i = 0; i < n; i++)
		point->theta[i] = exp(point->phi[i]);
	point->value = fn(point->theta, g, h, arg);
	for (int i = 0; i < n; i++)
		point->g[i] = point->theta[i] * g[i];
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			point->h[i * n + j] = point->theta[i] * point->theta[j] * h[i * n + j] +
				(i == j ? point->g[i] : 0.0);
}

/*
 * Standard errors of theta from the inverse observed information, by the
 * delta method on phi: se_i = theta_i sqrt(inverse(H_phi - diag(g_phi))_ii
 * / customers), where H_phi - diag(g_phi) = D H_theta D is the Hessian of
 * the mean negative log-likelihood per customer.  Sets the status to
 * OPTIM_NOT_IDENTIFIED when that matrix is singular or a log-parameter's
 * standard deviation exceeds MAX_LOG_SD.
 */
static void
standard_errors(int n, const double *theta, const double *g_phi, const double *h_phi,
				double customers, OptimResult *result)
{
	double		info[N2];
	double		l[N2];

	memcpy(info, h_phi, n * n * sizeof(double));
	for (int i = 0; i < n; i++)
		info[i * n + i] -= g_phi[i];
	if (!cholesky(n, info, 0.0, l))
	{
		result->status = OPTIM_NOT_IDENTIFIED;
		return;
	}
	for (int i = 0; i < n; i++)
	{
		double		unit[OPTIM_MAX_PARAMS] = {0};
		double		column[OPTIM_MAX_PARAMS];
		double		variance;

		unit[i] = 1.0;
		cholesky_solve(n, l, unit, column);
		variance = column[i] / customers;
		if (!(variance <= MAX_LOG_SD * MAX_LOG_SD))
		{
			result->status = OPTIM_NOT_IDENTIFIED;
			result->which = i;
			return;
		}
		result->se[i] = theta[i] * sqrt(variance);
	}
	result->has_se = true;
}

/*
 * The parameter whose log moved furthest from its start, if that is more
 * than bound; else -1.
 */
static int
ran_off(int n, const double *phi, const double *start, double bound)
{
	int			which = -1;
	double		furthest = bound;

	for (int i = 0; i < n; i++)
		if (fabs(phi[i] - start[i]) > furthest)
		{
			furthest = fabs(phi[i] - start[i]);
			which = i;
		}
	return which;
}

/* Set a run-off status for parameter "which". */
static void
set_run_off(OptimResult *result, int which, const double *phi, const double *start)
{
	result->which = which;
	result->status = phi[which] > start[which] ? OPTIM_TO_INFINITY : OPTIM_TO_ZERO;
}

/*
 * Backtrack from the full step d until the objective decreases enough
 * (Armijo) and store the accepted point in *next.  False if none does
 * before the step becomes too small to move phi at all.  Trial points are
 * evaluated with their derivatives, which the next iteration needs when
 * the trial is accepted (near the maximum, the full step always is).
 */
static bool
line_search(OptimObjective fn, void *arg, int n, const Point *current, double slope,
			const double *d, Point *next)
{
	double		step = 1.0;

	for (int halving = 0; halving < MAX_HALVINGS; halving++, step *= 0.5)
	{
		bool		moved = false;

		for (int i = 0; i < n; i++)
		{
			next->phi[i] = current->phi[i] + step * d[i];
			moved |= next->phi[i] != current->phi[i];
		}
		if (!moved)
			return false;
		evaluate(fn, arg, n, next);
		if (isfinite(next->value) && next->value <= current->value + ARMIJO * step * slope)
			return true;
	}
	return false;
}

/*
 * Minimize fn from the start in theta (overwritten with the estimate).
 * "customers" (the total weight) scales the standard errors, which are
 * computed when the search converges.
 */
void
optim_minimize(OptimObjective fn, void *arg, int n, double customers,
			   double *theta, OptimResult *result)
{
	Point		points[2];
	Point	   *current = &points[0];
	double		start[OPTIM_MAX_PARAMS];

	Assert(n <= OPTIM_MAX_PARAMS);
	memset(result, 0, sizeof(OptimResult));
	result->which = -1;
	for (int i = 0; i < n; i++)
		start[i] = current->phi[i] = log(theta[i]);
	evaluate(fn, arg, n, current);

	for (int iteration = 0;; iteration++)
	{
		Point	   *next = current == &points[0] ? &points[1] : &points[0];
		double		d[OPTIM_MAX_PARAMS];
		double		slope = 0.0,
					longest = 0.0;
		bool		newton;
		int			which;

		CHECK_FOR_INTERRUPTS();
		memcpy(theta, current->theta, n * sizeof(double));
		result->iterations = iteration;
		result->value = current->value;
		result->gradient_norm = 0.0;
		for (int i = 0; i < n; i++)
			result->gradient_norm = Max(result->gradient_norm, fabs(current->g[i]));
		if (!isfinite(current->value) || !isfinite(result->gradient_norm))
		{
			result->status = OPTIM_STALLED;
			return;
		}

		newton = newton_direction(n, current->h, current->g, d);
		for (int i = 0; i < n; i++)
		{
			slope += current->g[i] * d[i];
			longest = Max(longest, fabs(d[i]));
		}
		if (result->gradient_norm <= GRADIENT_TOLERANCE ||
			(newton && -slope <= NOISE_DECREASE * (1.0 + fabs(current->value))))
		{
			result->status = OPTIM_CONVERGED;
			standard_errors(n, theta, current->g, current->h, customers, result);
			return;
		}
		if (iteration == MAX_ITERATIONS)
		{
			result->status = OPTIM_MAX_ITERATIONS;
			return;
		}
		if (longest > MAX_LOG_STEP)
		{
			for (int i = 0; i < n; i++)
				d[i] *= MAX_LOG_STEP / longest;
			slope *= MAX_LOG_STEP / longest;
		}
		if (!line_search(fn, arg, n, current, slope, d, next))
		{
			/*
			 * Over many rows the objective's rounding noise grows: a Newton
			 * step that promises less than STALL_DECREASE cannot be seen to
			 * improve it, and its parameters are closer to the maximum than
			 * any standard error can tell.
			 */
			if (newton && -slope <= STALL_DECREASE * (1.0 + fabs(current->value)))
			{
				result->status = OPTIM_CONVERGED;
				standard_errors(n, theta, current->g, current->h, customers, result);
				return;
			}
			which = ran_off(n, current->phi, start, STALL_RUN_OFF);
			if (which >= 0)
				set_run_off(result, which, current->phi, start);
			else
				result->status = OPTIM_STALLED;
			return;
		}
		current = next;
		which = ran_off(n, current->phi, start, RUN_OFF);
		if (which >= 0)
		{
			memcpy(theta, current->theta, n * sizeof(double));
			result->iterations = iteration + 1;
			set_run_off(result, which, current->phi, start);
			return;
		}
	}
}
