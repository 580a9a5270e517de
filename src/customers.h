/*
 * customers.h
 *	  Every customer's rfm_agg state from an orders relation, read in one pass
 *	  (customers.c), for the segment view's facts (facts.c).
 */
#ifndef LIFECYCLE_CUSTOMERS_H
#define LIFECYCLE_CUSTOMERS_H

#include "postgres.h"

#include "utils/date.h"

#include "summary.h"

/* Where the orders are, and which of them count. */
typedef struct OrderSource
{
	Oid			orders;
	const char *customer_column;
	const char *time_column;
	const char *amount_column;
	Oid			customers;		/* a relation of customer keys, or InvalidOid */
	const char *customers_key;
	text	   *time_zone;		/* whose days count */
	DateADT		as_of;			/* orders up to the end of this day count */
} OrderSource;

/* A customer: the key, and the summary state of its orders. */
typedef struct Customer
{
	Datum		key;
	RfmAggState *state;			/* NULL: no order rows */
} Customer;

#if defined(__GNUC__)
#define prefetch(address) __builtin_prefetch(address)
#else
#define prefetch(address) ((void) (address))
#endif

/*
 * Passes over the customers read each state once, in no useful memory order:
 * they prefetch the state PREFETCH_AHEAD customers ahead.
 */
#define PREFETCH_AHEAD	16

/* Prefetch the state of customers[i + PREFETCH_AHEAD], if any. */
static inline void
prefetch_ahead(const Customer *customers, int64 n, int64 i)
{
	const char *state = (const char *) (i + PREFETCH_AHEAD < n ? customers[i + PREFETCH_AHEAD].state : NULL);

	/* the counts and totals, and the day set behind them */
	if (state != NULL)
	{
		prefetch(state);
		prefetch(state + 64);
	}
}

extern Oid	order_source_key_type(const OrderSource *source);
extern Oid	order_time_type(const OrderSource *source);
extern void order_source_check(const OrderSource *source);
extern Customer *read_customers(const OrderSource *source, MemoryContext mcxt, int64 *count, int64 *rows);

#endif
