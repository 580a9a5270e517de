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

extern TupleDesc result_desc(FunctionCallInfo fcinfo);
extern void rfm_read_days(HeapTupleHeader summary, RfmDays *days);
extern Numeric rfm_read_numeric(HeapTupleHeader summary, int attnum);

/* In derived.c: the as-of date checks every age measured to it shares. */
extern void rfm_check_as_of(DateADT as_of);
extern void rfm_read_days_as_of(HeapTupleHeader summary, DateADT as_of, RfmDays *days);

#endif
