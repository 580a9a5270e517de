/*
 * summary.h
 *	  The customer summary (type lifecycle.rfm) as C code reads it.
 */
#ifndef LIFECYCLE_SUMMARY_H
#define LIFECYCLE_SUMMARY_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"
#include "utils/date.h"
#include "utils/numeric.h"

#include "money.h"

/* Attribute numbers of lifecycle.rfm, in declaration order. */
enum
{
	RFM_FIRST_PURCHASE = 1,
	RFM_LAST_PURCHASE,
	RFM_PREVIOUS_PURCHASE,
	RFM_ORDERS,
	RFM_PURCHASE_DAYS,
	RFM_MONETARY,
	RFM_GROSS,
	RFM_REFUNDS,
	RFM_REFUNDED,
	RFM_FIRST_DAY_SPEND,
	RFM_NATTS = RFM_FIRST_DAY_SPEND
};

/*
 * The day facts of a summary; days are only meaningful when purchase_days
 * is positive, previous_purchase only when it is at least two.
 */
typedef struct RfmDays
{
	int32		purchase_days;
	int64		orders;
	DateADT		first_purchase;
	DateADT		last_purchase;
	DateADT		previous_purchase;
} RfmDays;

/* Everything a summary holds, as lifecycle.rfm shows it. */
typedef struct RfmFacts
{
	RfmDays		days;
	int64		refunds;
	Numeric		monetary;		/* net: gross - refunded */
	Numeric		gross;
	Numeric		refunded;
	Numeric		repeat_spend;	/* gross - first-day spend; NULL below two
								 * purchase days */
} RfmFacts;

/*
 * The aggregate's state (summary.c), for code that summarizes orders itself.
 * Adding and merging change a state in place, or return a bigger copy in
 * mcxt; the caller then frees the old one if it owns it.
 */
typedef struct RfmAggState RfmAggState;

extern RfmAggState *rfm_state_create(MemoryContext mcxt);
extern RfmAggState *rfm_state_add(RfmAggState *state, DateADT day, const Amount *amount,
								  MemoryContext mcxt);
extern RfmAggState *rfm_state_merge(RfmAggState *into, RfmAggState *from, MemoryContext mcxt);
extern bool rfm_state_days(RfmAggState *state, RfmDays *days);
extern bool rfm_state_day_before(RfmAggState *state, DateADT day, DateADT *before);
extern Numeric rfm_state_monetary(RfmAggState *state);
extern bool rfm_state_facts(RfmAggState *state, RfmFacts *facts);
extern bytea *rfm_state_serialize(RfmAggState *state);
extern RfmAggState *rfm_state_deserialize(const bytea *bytes, MemoryContext mcxt);

extern TupleDesc result_desc(FunctionCallInfo fcinfo);
extern void rfm_read_days(HeapTupleHeader summary, RfmDays *days);
extern Numeric rfm_read_numeric(HeapTupleHeader summary, int attnum);

/* In derived.c: the as-of checks every age measured to it shares, and the derived values. */
extern void rfm_check_as_of(DateADT as_of);
extern void rfm_check_days_as_of(const RfmDays *days, DateADT as_of);
extern void rfm_read_days_as_of(HeapTupleHeader summary, DateADT as_of, RfmDays *days);
extern Numeric rfm_mean_interval(const RfmDays *days);
extern Numeric rfm_average_order_value(int64 orders, Numeric gross);
extern int	rfm_time_unit_days(const char *name);
extern double rfm_btyd_t(const RfmDays *days, DateADT as_of, int unit_days);
extern void rfm_btyd_values(const RfmDays *days, Numeric repeat_spend, DateADT as_of, int unit_days,
							Datum *values, bool *nulls);

#endif
