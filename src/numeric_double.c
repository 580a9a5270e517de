/*
 * numeric_double.c
 *	  numeric to double precision, rounded exactly as numeric::float8 rounds,
 *	  without printing the number and parsing it back.
 *
 * Scoring converts every customer's frequency and monetary to a double, and
 * PostgreSQL's numeric_float8 goes through text: most of the time of scoring
 * a population went there.  A store's amounts and counts have few digits: a
 * numeric of at most 2^53 units of a power of ten between 10^-22 and 10^22
 * is one IEEE multiplication or division of two exactly represented doubles
 * away from its value, and that one operation rounds correctly, as strtod
 * does (Clinger's fast path).  Any other numeric, NaN and infinities take
 * numeric_float8.
 *
 * This reads numeric's storage format, private to numeric.c but fixed since
 * PostgreSQL 9.1 because pg_upgrade keeps numeric data as it is: a 16-bit
 * header (short form: sign, display scale and 7-bit weight; long form: sign
 * and display scale, then a 16-bit weight; the flags 0xC000 mark the special
 * values), then base-10000 digits, the first of weight "weight".
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#include "compat.h"
#include "numeric_double.h"

#define NUMERIC_FORMAT_MASK		0xC000
#define NUMERIC_FORMAT_POS		0x0000
#define NUMERIC_FORMAT_NEG		0x4000
#define NUMERIC_FORMAT_SHORT	0x8000
#define NUMERIC_SHORT_SIGN		0x2000
#define NUMERIC_SHORT_WEIGHT_SIGN	0x0040
#define NUMERIC_SHORT_WEIGHT_MASK	0x003F
#define NUMERIC_BASE			10000
#define NUMERIC_BASE_DIGITS		4

/* The largest integer below which every integer is an exact double: 2^53. */
#define EXACT_INTEGER_LIMIT		(UINT64CONST(1) << 53)

/* Powers of ten that are exact doubles. */
static const double exact_powers_of_ten[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* The slow, general conversion: numeric_float8 (through text). */
static double
via_text(Numeric value)
{
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(value)));
}

/*
 * Clinger's fast path: the numeric's double into *result, and true, when
 * the numeric is a few digits times a power of ten that doubles hold
 * exactly; false for every other numeric.  The numeric must be detoasted
 * (as PG_GETARG_NUMERIC leaves it).
 */
static bool
fast_to_double(Numeric value, double *result)
{
	const char *data = VARDATA(value);
	uint16		header;
	int			header_size;
	int			weight;
	bool		negative;
	const int16 *digits;
	int			ndigits;
	uint64		units = 0;
	int			exponent;
	int			i;

	memcpy(&header, data, sizeof(uint16));
	switch (header & NUMERIC_FORMAT_MASK)
	{
		case NUMERIC_FORMAT_SHORT:
			negative = (header & NUMERIC_SHORT_SIGN) != 0;
			weight = ((header & NUMERIC_SHORT_WEIGHT_SIGN) ? ~NUMERIC_SHORT_WEIGHT_MASK : 0) |
				(header & NUMERIC_SHORT_WEIGHT_MASK);
			header_size = sizeof(uint16);
			break;
		case NUMERIC_FORMAT_POS:
		case NUMERIC_FORMAT_NEG:
			{
				int16		long_weight;

				negative = (header & NUMERIC_FORMAT_MASK) == NUMERIC_FORMAT_NEG;
				memcpy(&long_weight, data + sizeof(uint16), sizeof(int16));
				weight = long_weight;
				header_size = sizeof(uint16) + sizeof(int16);
				break;
			}
		default:
			return false;		/* NaN, infinities */
	}

	ndigits = (VARSIZE(value) - VARHDRSZ - header_size) / sizeof(int16);
	if (ndigits == 0)
	{
		*result = 0.0;
		return true;
	}
	if (ndigits > 4)
		return false;
	digits = (const int16 *) (data + header_size);
	for (i = 0; i < ndigits; i++)
		units = units * NUMERIC_BASE + digits[i];
	exponent = NUMERIC_BASE_DIGITS * (weight - (ndigits - 1));
	if (units > EXACT_INTEGER_LIMIT || exponent < -22 || exponent > 22)
		return false;

	*result = exponent >= 0 ? (double) units * exact_powers_of_ten[exponent]
		: (double) units / exact_powers_of_ten[-exponent];
	if (negative)
		*result = -*result;
	return true;
}

/*
 * The double nearest to the numeric's value, the same double numeric::float8
 * gives.  The numeric must be detoasted (as PG_GETARG_NUMERIC leaves it).
 */
double
numeric_to_double(Numeric value)
{
	double		result;

	return fast_to_double(value, &result) ? result : via_text(value);
}

/*
 * numeric_to_double, except that a finite numeric beyond double's range
 * (an amount of 1e400 is a valid numeric) becomes -DBL_MAX or DBL_MAX
 * instead of an error: how scores and the models see such a value.  It then
 * ranks with the largest values and ties only with values as absurd, so one
 * row cannot fail every refresh.  NaN and infinities stay what they are,
 * for the caller to reject.
 */
double
numeric_to_double_clamped(Numeric value)
{
	double		result;

	if (fast_to_double(value, &result))
		return result;
	if (numeric_is_nan(value) || numeric_is_inf(value))
		return via_text(value);
	result = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(value)));
	if (isinf(result))
		return result > 0 ? DBL_MAX : -DBL_MAX;
	return result;
}
