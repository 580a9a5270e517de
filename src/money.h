/*
 * money.h
 *	  Exact running totals of numeric amounts, kept in a fixed-size field.
 */
#ifndef LIFECYCLE_MONEY_H
#define LIFECYCLE_MONEY_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/numeric.h"

/*
 * One row's amount: units / 10^scale when it fits an int64 (every ordinary
 * price does), else the numeric itself in "value".
 */
typedef struct Amount
{
	int64		units;
	int32		scale;
	bool		negative;
	Numeric		value;			/* set only when the amount does not fit */
} Amount;

/*
 * An exact total: units / 10^scale, scale being the largest display scale
 * added so far (as sum(numeric) keeps it).  Once a value or the total
 * outgrows int64, scale is MONEY_BIG and "big" holds the total as a numeric
 * in the owner's memory context.  All zeros is the empty total, 0.  Sixteen
 * bytes, so that three totals sit in a cache line and a half.
 */
typedef struct MoneySum
{
	union
	{
		int64		units;
		Numeric		big;
	}			total;
	int32		scale;
} MoneySum;

#define MONEY_BIG	(-1)

extern void amount_read(Datum datum, Amount *amount);
extern void amount_negate(Amount *amount);
extern bool money_add_units(MoneySum *sum, const Amount *amount);
extern void money_add(MoneySum *sum, const Amount *amount, MemoryContext mcxt);
extern void money_as_amount(const MoneySum *sum, Amount *amount);
extern void money_reset(MoneySum *sum);
extern Numeric money_total(const MoneySum *sum);
extern Numeric money_difference(const MoneySum *a, const MoneySum *b);
extern void money_send(StringInfo buf, const MoneySum *sum);
extern void money_receive(StringInfo buf, MoneySum *sum, MemoryContext mcxt);

#endif
