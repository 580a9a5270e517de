/*
 * hyp2f1.c
 *	  The Gauss hypergeometric function in the form the BG/NBD expectations
 *	  need: the scaled excess c (2F1(a, b; c; z) - 1) / b for 0 <= z < 1.
 *
 * The expected number of purchases (bgnbd.c) is
 *	  C/(a-1) [1 - w^A 2F1(A, B; C; z)],	w = 1 - z,
 * which the textbook series evaluates badly: it is 0/0 at a = 1 and loses
 * all digits for short horizons, where 1 - w^A 2F1 is tiny.  Euler's
 * transformation 2F1(A, B; C; z) = w^(C-A-B) 2F1(C-A, C-B; C; z), with
 * C - B = a - 1, turns it into an expression of the excess
 *	  E(a', b', c; z) = c (2F1(a', b'; c; z) - 1) / b'
 *		= sum_{n>=1} (a')_n (b'+1)_{n-1} / ((c+1)_{n-1} n!) z^n,
 * a series without the factor b' = a - 1 in its denominator and finite
 * for every c > -1, so it is exact at a = 1 and when C is zero.
 *
 * For 0 <= z < 1 the terms end up shrinking by the factor z; the sum stops
 * once the whole remaining tail, bounded geometrically, is below 1e-17 of
 * the sum.  Near z = 1 this takes about 40 / (1 - z) terms.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "specfun.h"

#define TAIL_EPSILON	1e-17
#define MAX_TERMS		10000000L

/*
 * c (2F1(a, b; c; z) - 1) / b for 0 <= z < 1 and c > -1, as the series
 * above.  Errors (rather than returning a truncated sum) if z is so close
 * to 1 that the series would need more than MAX_TERMS terms.
 */
double
hyp2f1_scaled_excess(double a, double b, double c, double z)
{
	double		term = a * z;
	double		sum = term;
	double		settled;
	long		n;

	if (z == 0.0 || a == 0.0)
		return 0.0;

	/*
	 * Past this many terms every factor (a + n), (b + n + 1), (c + n + 1) is
	 * positive and the ratio of successive terms is monotone, so the
	 * remaining ratios stay below max(current ratio, z).
	 */
	settled = 2.0 * (fabs(a) + fabs(b) + fabs(c) + 2.0);
	for (n = 1; n < MAX_TERMS; n++)
	{
		double		ratio = (a + n) * (b + n) / ((c + n) * (n + 1)) * z;
		double		bound;

		term *= ratio;
		sum += term;
		bound = Max(ratio, z);
		if (n > settled && bound < 1.0 &&
			fabs(term) * bound / (1.0 - bound) <= TAIL_EPSILON * fabs(sum))
			return sum;
		if ((n & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("prediction horizon too long for this customer's age"),
			 errdetail("The hypergeometric series did not settle within %ld terms (z = %.17g).",
					   MAX_TERMS, z),
			 errhint("Predict over a shorter horizon: the series needs about 40 (alpha + T + horizon) / (alpha + T) terms.")));
	return 0.0;					/* keep compiler quiet */
}
