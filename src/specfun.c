/*
 * specfun.c
 *	  The digamma and trigamma functions (first and second derivatives of
 *	  lgamma), which the models' analytic gradients and Hessians need and
 *	  <math.h> lacks.
 *
 * Both move the argument up to at least SHIFT_TO with the recurrences
 * psi(x) = psi(x + 1) - 1/x and psi'(x) = psi'(x + 1) + 1/x^2, then use the
 * asymptotic (Bernoulli) series, whose first omitted term is below 1e-16
 * relative at x >= 10.  Arguments are positive (model parameters).
 */
#include "postgres.h"

#include <math.h>

#include "specfun.h"

#define SHIFT_TO 10.0

/* psi(x) = d/dx lgamma(x), for x > 0. */
double
digamma(double x)
{
	double		result = 0.0;
	double		inv2;

	while (x < SHIFT_TO)
	{
		result -= 1.0 / x;
		x += 1.0;
	}
	inv2 = 1.0 / (x * x);
	result += log(x) - 0.5 / x -
		inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 -
																		inv2 * (1.0 / 132 - inv2 * 691.0 / 32760)))));
	return result;
}

/* psi'(x) = d^2/dx^2 lgamma(x), for x > 0. */
double
trigamma(double x)
{
	double		result = 0.0;
	double		inv,
				inv2;

	while (x < SHIFT_TO)
	{
		result += 1.0 / (x * x);
		x += 1.0;
	}
	inv = 1.0 / x;
	inv2 = inv * inv;
	result += inv + 0.5 * inv2 +
		inv * inv2 * (1.0 / 6 - inv2 * (1.0 / 30 - inv2 * (1.0 / 42 - inv2 * (1.0 / 30 -
																		  inv2 * (5.0 / 66 - inv2 * 691.0 / 2730)))));
	return result;
}
