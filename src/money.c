/*
 * money.c
 *	  Exact running totals of numeric amounts, kept in a fixed-size field.
 *
 * The summary aggregate adds each order row's amount to one or two totals.
 * Doing that with numeric arithmetic, or with PostgreSQL's own sum(numeric) state,
 * costs an allocation per total and a pointer chase per row; with a million
 * customers in a hash table every pointer chase is a cache miss.  Real
 * prices are small decimals, so a total is kept as an int64 count of units
 * of 10^-scale, inside the aggregate state, and falls back to numeric
 * arithmetic only when a value or the total outgrows int64.  Both paths are
 * exact, and a total's display scale is the largest one added, as with
 * sum(numeric).
 *
 * Amounts are read straight from the numeric's stored form (without copying
 * it as PG_GETARG_NUMERIC would).  That form is the on-disk format of
 * numeric, which pg_upgrade requires every PostgreSQL version to keep; its
 * layout is restated below.  Anything unusual takes the numeric path.
 */
#include "postgres.h"

#include "common/int.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"

#include "compat.h"
#include "money.h"

/*
 * The stored numeric: a varlena whose data starts with a uint16 header.
 * Top bits 10: the short form, with sign, display scale and weight in the
 * header; top bits 11: NaN or an infinity; 00 or 01: the long form (weights
 * or scales too large for the short one, or values written before
 * PostgreSQL 9.1; read here through numeric calls).
 * Then base-10000 digits (int16), most significant first, weight being the
 * power of 10000 of the first; trailing zero digits are never stored.
 */
#define NUM_FLAG_MASK		0xC000
#define NUM_SHORT			0x8000
#define NUM_SPECIAL			0xC000
#define NUM_SHORT_NEG		0x2000
#define NUM_SHORT_DSCALE_MASK	0x1F80
#define NUM_SHORT_DSCALE_SHIFT	7
#define NUM_SHORT_WEIGHT_NEG	0x0040
#define NUM_SHORT_WEIGHT_MASK	0x003F
#define NBASE_DIGITS		4	/* decimal digits per base-10000 digit */

/* The largest scale the int64 path keeps: 10^18 fits an int64. */
#define MONEY_MAX_SCALE		18

/* Serialized kinds of a total. */
#define MONEY_UNITS			0
#define MONEY_NUMERIC		1

static const int64 pow10_table[MONEY_MAX_SCALE + 1] = {
	INT64CONST(1), INT64CONST(10), INT64CONST(100), INT64CONST(1000),
	INT64CONST(10000), INT64CONST(100000), INT64CONST(1000000),
	INT64CONST(10000000), INT64CONST(100000000), INT64CONST(1000000000),
	INT64CONST(10000000000), INT64CONST(100000000000),
	INT64CONST(1000000000000), INT64CONST(10000000000000),
	INT64CONST(100000000000000), INT64CONST(1000000000000000),
	INT64CONST(10000000000000000), INT64CONST(100000000000000000),
	INT64CONST(1000000000000000000)
};

/* Reject amounts that have no place in a revenue total: NaN, infinities. */
static void
reject_special(Numeric amount)
{
	if (numeric_is_nan(amount))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order amount must not be NaN"),
				 errdetail("A NaN amount would make every revenue figure NaN."),
				 errhint("Set unknown amounts to NULL: the order still counts, its value does not.")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("order amount must be finite"),
			 errdetail("An infinite amount would make every revenue figure infinite."),
			 errhint("Set unknown amounts to NULL: the order still counts, its value does not.")));
}

/* x * 10^k into *result; false on overflow (or a k beyond the table). */
static inline bool
scale_up(int64 x, int32 k, int64 *result)
{
	if (k < 0 || k > MONEY_MAX_SCALE)
		return false;
	return !pg_mul_s64_overflow(x, pow10_table[k], result);
}

/*
 * The stored digits as units of 10^-dscale; false when they do not fit an
 * int64.
 */
static bool
digits_to_units(const char *digits, int ndigits, int weight, int dscale,
				int64 *units)
{
	int64		n = 0;
	int32		exponent;

	if (dscale > MONEY_MAX_SCALE)
		return false;
	for (int i = 0; i < ndigits; i++)
	{
		int16		digit;

		memcpy(&digit, digits + i * sizeof(int16), sizeof(int16));
		if (pg_mul_s64_overflow(n, 10000, &n) || pg_add_s64_overflow(n, digit, &n))
			return false;
	}
	if (ndigits == 0)
	{
		*units = 0;
		return true;
	}
	/* n counts units of 10^(4 * (weight - ndigits + 1)); we want 10^-dscale */
	exponent = NBASE_DIGITS * (weight - ndigits + 1) + dscale;
	if (exponent >= 0)
		return scale_up(n, exponent, units);
	if (-exponent > MONEY_MAX_SCALE || n % pow10_table[-exponent] != 0)
		return false;
	*units = n / pow10_table[-exponent];
	return true;
}

/*
 * units / 10^scale as a numeric with that display scale: a new one, or for 0
 * a shared one (most customers have nothing refunded), not to be modified.
 */
static Numeric
units_to_numeric(int64 units, int32 scale)
{
	static Numeric zero = NULL;

	if (units == 0 && scale == 0)
	{
		if (zero == NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			zero = int64_div_fast_to_numeric(0, 0);
			MemoryContextSwitchTo(old);
		}
		return zero;
	}
	return int64_div_fast_to_numeric(units, scale);
}

/*
 * Read one amount.  NaN and infinities are errors; a value that does not fit
 * the int64 path comes back as a numeric (in the current memory context).
 */
void
amount_read(Datum datum, Amount *amount)
{
	struct varlena *stored = (struct varlena *) PG_DETOAST_DATUM_PACKED(datum);
	const char *data = VARDATA_ANY(stored);
	int			len = VARSIZE_ANY_EXHDR(stored);
	uint16		header;
	int			weight;

	memset(amount, 0, sizeof(Amount));
	if (len < (int) sizeof(uint16))
		goto slow;
	memcpy(&header, data, sizeof(uint16));
	if ((header & NUM_FLAG_MASK) == NUM_SPECIAL)
		reject_special(DatumGetNumeric(datum));
	/* only the short form can fit: the long one is for huge weights or scales */
	if ((header & NUM_FLAG_MASK) != NUM_SHORT || (len - sizeof(uint16)) % sizeof(int16) != 0)
		goto slow;
	amount->scale = (header & NUM_SHORT_DSCALE_MASK) >> NUM_SHORT_DSCALE_SHIFT;
	weight = (header & NUM_SHORT_WEIGHT_MASK) |
		((header & NUM_SHORT_WEIGHT_NEG) ? ~NUM_SHORT_WEIGHT_MASK : 0);
	if (!digits_to_units(data + sizeof(uint16), (len - sizeof(uint16)) / sizeof(int16),
						 weight, amount->scale, &amount->units))
		goto slow;
	amount->negative = (header & NUM_SHORT_NEG) != 0 && amount->units != 0;
	if (amount->negative)
		amount->units = -amount->units;
	return;

slow:
	amount->value = DatumGetNumeric(datum);
	amount->negative = DatumGetBool(DirectFunctionCall2(numeric_lt, NumericGetDatum(amount->value),
														NumericGetDatum(units_to_numeric(0, 0))));
	amount->units = 0;
	amount->scale = 0;
}

/* Turn a refund (a negative amount) into the amount refunded. */
void
amount_negate(Amount *amount)
{
	Assert(amount->negative);
	if (amount->value != NULL)
		amount->value = DatumGetNumeric(DirectFunctionCall1(numeric_uminus,
															NumericGetDatum(amount->value)));
	else
		amount->units = -amount->units; /* |units| < 2^63: cannot overflow */
	amount->negative = false;
}

/* The amount as a numeric (its own, or a new one). */
static Numeric
amount_numeric(const Amount *amount)
{
	return amount->value != NULL ? amount->value : units_to_numeric(amount->units, amount->scale);
}

/* The total as a numeric: the stored one, or a new one.  Do not modify it. */
Numeric
money_total(const MoneySum *sum)
{
	return sum->scale == MONEY_BIG ? sum->total.big : units_to_numeric(sum->total.units, sum->scale);
}

/*
 * Add an amount to a total in place when both are units and the sum fits
 * an int64 (every ordinary order row); false, leaving the total as it was,
 * when the numeric path must do it (money_add).
 */
bool
money_add_units(MoneySum *sum, const Amount *amount)
{
	int32		scale;
	int64		a,
				b,
				total_units;

	if (sum->scale == MONEY_BIG || amount->value != NULL)
		return false;
	scale = Max(sum->scale, amount->scale);
	if (!scale_up(sum->total.units, scale - sum->scale, &a) ||
		!scale_up(amount->units, scale - amount->scale, &b) ||
		pg_add_s64_overflow(a, b, &total_units))
		return false;
	sum->total.units = total_units;
	sum->scale = scale;
	return true;
}

/* Add an amount to a total; numeric results are kept in mcxt. */
void
money_add(MoneySum *sum, const Amount *amount, MemoryContext mcxt)
{
	Numeric		total;
	MemoryContext old;

	if (money_add_units(sum, amount))
		return;
	total = numeric_add_opt_error(money_total(sum), amount_numeric(amount), NULL);
	old = MemoryContextSwitchTo(mcxt);
	total = DatumGetNumericCopy(NumericGetDatum(total));
	MemoryContextSwitchTo(old);
	money_reset(sum);
	sum->total.big = total;
	sum->scale = MONEY_BIG;
}

/* A total as an amount to add to another total (a big one's numeric is shared). */
void
money_as_amount(const MoneySum *sum, Amount *amount)
{
	memset(amount, 0, sizeof(Amount));
	if (sum->scale == MONEY_BIG)
		amount->value = sum->total.big;
	else
	{
		amount->units = sum->total.units;
		amount->scale = sum->scale;
	}
}

/* Set a total back to 0, freeing its numeric. */
void
money_reset(MoneySum *sum)
{
	if (sum->scale == MONEY_BIG)
		pfree(sum->total.big);
	memset(sum, 0, sizeof(MoneySum));
}

/* a - b as a new numeric. */
Numeric
money_difference(const MoneySum *a, const MoneySum *b)
{
	if (a->scale != MONEY_BIG && b->scale != MONEY_BIG)
	{
		int32		scale = Max(a->scale, b->scale);
		int64		x,
					y,
					difference;

		if (scale_up(a->total.units, scale - a->scale, &x) &&
			scale_up(b->total.units, scale - b->scale, &y) &&
			!pg_sub_s64_overflow(x, y, &difference))
			return units_to_numeric(difference, scale);
	}
	return numeric_sub_opt_error(money_total(a), money_total(b), NULL);
}

/* Append a total: its kind, then units and scale, or a numeric's binary form. */
void
money_send(StringInfo buf, const MoneySum *sum)
{
	bytea	   *bytes;

	if (sum->scale != MONEY_BIG)
	{
		enlargeStringInfo(buf, 1 + sizeof(int64) + sizeof(int32));
		pq_writeint8(buf, MONEY_UNITS);
		pq_writeint64(buf, sum->total.units);
		pq_writeint32(buf, sum->scale);
		return;
	}
	pq_sendbyte(buf, MONEY_NUMERIC);
	bytes = DatumGetByteaPP(DirectFunctionCall1(numeric_send, NumericGetDatum(sum->total.big)));
	pq_sendint32(buf, VARSIZE_ANY_EXHDR(bytes));
	pq_sendbytes(buf, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
}

/* Reject a serialized total that cannot be ours. */
static inline void
check_total(bool ok)
{
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid amount in serialized rfm_agg state")));
}

/* Read a total written by money_send, validating it; numerics go to mcxt. */
void
money_receive(StringInfo buf, MoneySum *sum, MemoryContext mcxt)
{
	int			kind = pq_getmsgbyte(buf);
	StringInfoData part;
	int			len;
	MemoryContext old;

	memset(sum, 0, sizeof(MoneySum));
	check_total(kind == MONEY_UNITS || kind == MONEY_NUMERIC);
	if (kind == MONEY_UNITS)
	{
		sum->total.units = pq_getmsgint64(buf);
		sum->scale = pq_getmsgint(buf, 4);
		check_total(sum->scale >= 0 && sum->scale <= MONEY_MAX_SCALE);
		return;
	}
	len = pq_getmsgint(buf, 4);
	check_total(len >= 0 && len <= buf->len - buf->cursor);
	initReadOnlyStringInfo(&part, (char *) pq_getmsgbytes(buf, len), len);
	old = MemoryContextSwitchTo(mcxt);
	sum->total.big = DatumGetNumeric(DirectFunctionCall3(numeric_recv, PointerGetDatum(&part),
														 ObjectIdGetDatum(InvalidOid),
														 Int32GetDatum(-1)));
	sum->scale = MONEY_BIG;
	MemoryContextSwitchTo(old);
	check_total(!numeric_is_nan(sum->total.big));
#if PG_VERSION_NUM >= 140000
	check_total(!numeric_is_inf(sum->total.big));
#endif
}
