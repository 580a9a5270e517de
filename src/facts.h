/*
 * facts.h
 *	  Every customer's facts from an orders relation (facts.c): what the
 *	  segment view's rows are made of (changes.c).
 */
#ifndef LIFECYCLE_FACTS_H
#define LIFECYCLE_FACTS_H

#include "postgres.h"

#include "breaks.h"
#include "customers.h"
#include "models.h"
#include "money.h"
#include "settings.h"
#include "stage.h"

/* The result columns, in order. */
enum
{
	F_CUSTOMER,
	F_FIRST_PURCHASE,
	F_LAST_PURCHASE,
	F_PREVIOUS_PURCHASE,
	F_ORDERS,
	F_PURCHASE_DAYS,
	F_MONETARY,
	F_GROSS,
	F_REFUNDS,
	F_REFUNDED,
	F_DAYS_SINCE_LAST_ORDER,
	F_TENURE_DAYS,
	F_MEAN_INTERVAL_DAYS,
	F_AOV,
	F_BTYD_FREQUENCY,
	F_BTYD_RECENCY,
	F_BTYD_T,
	F_BTYD_MONETARY_VALUE,
	F_STAGE,
	F_FREQUENCY,
	F_R_SCORE,
	F_F_SCORE,
	F_M_SCORE,
	F_P_ALIVE,
	F_EXPECTED_PURCHASES,
	F_EXPECTED_SPEND,
	F_CLV,
	F_STAGE_SINCE,
	F_STAGE_REASON,
	F_EXPECTED_NEXT_ORDER,
	F_NATTS
};

/*
 * Customers by stage in the view's previous contents (row 0: not there) and
 * stage now (column 0: no longer there).
 */
typedef int64 Transitions[STAGE_COUNT + 1][STAGE_COUNT + 1];

/* What every result row is computed with. */
typedef struct FactsOutput
{
	DateADT		as_of;
	int			unit_days;
	StagePolicy policy;
	Datum		stages[STAGE_COUNT];	/* the stage enum's values */
	Datum		fixed_reasons[STAGE_COUNT]; /* stage_fixed_reason as text; 0: none */
	bool		by_orders;		/* frequency is orders, not purchase days */
	BreaksMethod method;
	bool		scored[METRIC_COUNT];	/* the metric has breaks */
	double		breaks[METRIC_COUNT][BREAKS_PER_METRIC];
	bool		models;			/* fit and predict with the purchase models */
	bool		purchases_usable;	/* BG/NBD fit converged */
	bool		spend_usable;	/* Gamma-Gamma converged with a finite mean (q > 1) */
	ModelFit	purchases;
	ModelFit	spend;
	double		horizon;		/* prediction horizon, in the BTYD unit */
	int32		clv_periods;
	double		clv_period_length;	/* in the BTYD unit */
	double		clv_discount_rate;
} FactsOutput;

/*
 * What the score breaks and the fits are computed from, collected customer
 * by customer (facts_collect): each buyer's R, F and M values, and with
 * models on their BTYD rows.
 */
typedef struct FactsCollector
{
	const FactsOutput *out;
	MemoryContext mcxt;
	double		(*metrics)[METRIC_COUNT];
	int64		scored;
	int64		metrics_capacity;
	ModelRow   *purchase_rows;
	int64		npurchase;
	int64		purchase_capacity;
	ModelRow   *spend_rows;
	int64		nspend;
	int64		spend_capacity;
} FactsCollector;

extern void facts_collect_start(FactsCollector *collector, const FactsOutput *out, MemoryContext mcxt);
extern void facts_collect(FactsCollector *collector, const Customer *customer);
extern void facts_collect_summary(FactsCollector *collector, const RfmDays *days, Numeric monetary,
								  const Datum *btyd_values, const bool *btyd_nulls);
extern void facts_collect_finish(FactsCollector *collector, FactsOutput *out, int64 rows, int64 customers);
extern void put_column_row(FunctionCallInfo fcinfo, const char *name, const char *type, const char *comment);
extern const char *fact_column_name(int column);
extern Oid	fact_column_type(int column);
extern const char *fact_column_comment(int column);
/* The most segments a rule set names: one per score combination. */
#define SEGMENTS_MAX	125

/* Customers and their net revenue, of a stage or segment. */
typedef struct GroupCount
{
	int64		customers;
	MoneySum	revenue;
} GroupCount;

/* Customers and revenue by stage and by segment, for a refresh's history. */
typedef struct ViewCounts
{
	GroupCount	stages[STAGE_COUNT];
	int			nsegments;
	const char *segment_names[SEGMENTS_MAX];
	GroupCount	segments[SEGMENTS_MAX];
} ViewCounts;

extern void facts_output_init(const ViewSettings *settings, FactsOutput *out);
extern Customer *facts_compute(const ViewSettings *settings, FactsOutput *out, MemoryContext mcxt,
							   MemoryContext row_mcxt, int64 *count, CustomerCounts *counts);
/*
 * Where a customer's stage began (stage_since).  A customer whose orders
 * did not change keeps its row's day while it keeps its row's stage: the
 * run of days in one stage that ends at the as-of day starts where it did,
 * as no purchase came since and the stage thresholds are the ones the row
 * was computed with (changing them makes the next refresh read every
 * order).  Otherwise its purchase days tell it: day_before(arg, day,
 * &before) gives the purchase day before a day.
 */
typedef struct StageStart
{
	bool		(*day_before) (void *arg, DateADT day, DateADT *before);
	void	   *arg;
	int8		kept_stage;		/* the kept row's Stage; -1: none */
	DateADT		kept_since;		/* the kept row's stage_since */
} StageStart;

extern bool fact_of_summary(int column);
extern Stage fact_row(const Customer *customer, const FactsOutput *out, Datum *values, bool *nulls);
extern Stage dated_facts(const FactsOutput *out, const RfmDays *days, const StageStart *start, Datum *values,
						 bool *nulls);
extern void remember_facts(const ViewSettings *settings, const FactsOutput *out, const CustomerCounts *counts,
						   int64 customers, int64 written, bool full_read, Transitions moves,
						   const ViewCounts *view_counts);

#endif
