/*
 * settings.h
 *	  A segment view's settings (a row of lifecycle.segment_views), read by
 *	  name and checked by one validator (settings.c).
 */
#ifndef LIFECYCLE_SETTINGS_H
#define LIFECYCLE_SETTINGS_H

#include "postgres.h"

#include "access/htup.h"

#include "breaks.h"
#include "customers.h"
#include "days.h"
#include "stage.h"
#include "summary.h"

typedef struct ViewSettings
{
	const char *view_name;		/* NULL: not read from a settings row */
	OrderSource source;			/* where the orders are; as_of set by the caller */
	StagePolicy policy;
	const char *score_method;
	const char *frequency_basis;
	const char *btyd_unit;
	bool		models;
	bool		keep_transitions;
	bool		incremental;	/* its order changes are logged (lifecycle.order_changes) */
	const char *rule_set;
	int32		prediction_days;
	int32		clv_periods;
	int32		clv_period_days;
	double		clv_discount_rate;
} ViewSettings;

extern void settings_from_row(HeapTupleHeader row, ViewSettings *settings);
extern void settings_check(const ViewSettings *settings);

#endif
