/*
 * rows.h
 *	  The columns of a segment view's rows (<view>_data), in order: defined
 *	  in changes.c (row_columns), read back by the refresh (customers.c,
 *	  facts.c) for the customers whose orders did not change.
 */
#ifndef LIFECYCLE_ROWS_H
#define LIFECYCLE_ROWS_H

/* The columns of a view's rows, in order. */
enum
{
	V_CUSTOMER,
	V_STAGE,
	V_SEGMENT,
	V_R_SCORE,
	V_F_SCORE,
	V_M_SCORE,
	V_FIRST_PURCHASE,
	V_LAST_PURCHASE,
	V_PREVIOUS_PURCHASE,
	V_ORDERS,
	V_PURCHASE_DAYS,
	V_MONETARY,
	V_GROSS,
	V_REFUNDS,
	V_REFUNDED,
	V_MEAN_INTERVAL_DAYS,
	V_AOV,
	V_BTYD_FREQUENCY,
	V_BTYD_RECENCY,
	V_BTYD_MONETARY_VALUE,
	V_P_ALIVE,
	V_EXPECTED_PURCHASES,
	V_EXPECTED_SPEND,
	V_CLV,
	V_RECOMMENDED_ACTION,
	V_STAGE_SINCE,
	V_STAGE_REASON,
	V_EXPECTED_NEXT_ORDER,
	V_SUMMARY_STATE,
	V_FINGERPRINT,
	V_NATTS
};

#endif
