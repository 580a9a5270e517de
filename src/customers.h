/*
 * customers.h
 *	  Every customer's rfm_agg state from an orders relation, read in one pass
 *	  (customers.c), for the segment view's facts (facts.c).
 */
#ifndef LIFECYCLE_CUSTOMERS_H
#define LIFECYCLE_CUSTOMERS_H

#include "postgres.h"

#include "utils/array.h"
#include "utils/date.h"

#include "stage.h"
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

	/*
	 * A segment view's rows as its last refresh left them (<view>_data), or
	 * InvalidOid: the customer key, summary_state, stage and fingerprint are
	 * read.
	 */
	Oid			previous;

	/*
	 * changed: NULL to read every order; else the keys (text[]) of the
	 * customers whose orders changed since the previous rows were written:
	 * only their orders are read, the others' summaries are the previous
	 * rows' summary_state.  known_guests: the order rows without a customer
	 * when only changed customers are read (-1: count them).
	 */
	ArrayType  *changed;
	int64		known_guests;

	/*
	 * The view whose order changes are logged (lifecycle.order_changes), or
	 * NULL: customers with orders after the as-of day are logged again, so
	 * that the refresh that reaches those days reads them.
	 */
	const char *log_view;

	/*
	 * The view's log of inserted order rows (<view>_log: customer, time,
	 * amount), or InvalidOid.  Read and emptied by every read, in the
	 * snapshot the orders are read in: a refresh that reads only changed
	 * customers folds the rows of the others into their kept summaries.
	 */
	Oid			inserted;
} OrderSource;

/*
 * A customer: the key, the summary state of its orders, its previous row.
 * A customer whose orders did not change since the view's rows were
 * written is "kept": its summary is its row's summary_state, left as bytes,
 * and its row's columns say what the summary holds.
 */
typedef struct Customer
{
	Datum		key;
	RfmAggState *state;			/* its summary, when made now; NULL: kept, or no order rows */
	int8		previous_stage; /* its Stage in source->previous; -1: not there */
	bool		listed;			/* in the customers relation */
	bool		read;			/* state made now (orders read, or inserted rows folded), not kept */
	uint64		previous_fingerprint;	/* its previous row's fingerprint */
	bytea	   *kept_state;		/* kept: its previous row's summary_state */
	const Datum *row;			/* its previous row (rows.h), when streamed; else NULL */
	const bool *row_nulls;
} Customer;

/*
 * The customers whose orders changed since a view's rows were written
 * (source->changed), with the summaries of their orders now.
 */
typedef struct ChangedCustomers ChangedCustomers;

/* What a pass over a view's customers (stream_customers) does with each. */
typedef void (*CustomerFn) (void *arg, const Customer *customer);

/* Whether a customer is in the view now: it has order rows or is listed. */
#define customer_present(c) ((c)->state != NULL || (c)->kept_state != NULL || (c)->listed)

/* What reading the rows counted besides the customers. */
typedef struct CustomerCounts
{
	int64		rows;			/* order rows read */
	int64		guests;			/* order rows without a customer key */
	int64		future;			/* customers with orders after the as-of day */
	int64		previous;		/* rows of the view's previous contents */
} CustomerCounts;

#if defined(__GNUC__)
#define prefetch(address) __builtin_prefetch(address)
#else
#define prefetch(address) ((void) (address))
#endif

/*
 * Prefetch a summary state's first 128 bytes: its counts and totals, and
 * the day set behind them, which a purchase row or a customer's row reads.
 * They span three cache lines where the allocator puts the state off a
 * line's start, and the latest days of a customer with up to ten sit at
 * their end.  Always inlined, as prefetch_ahead below.
 */
static pg_attribute_always_inline void
prefetch_state(const RfmAggState *state)
{
	prefetch(state);
	prefetch((const char *) state + 64);
	prefetch((const char *) state + 127);
}

/*
 * Passes over the customers read each state once, in no useful memory order:
 * they prefetch the state PREFETCH_AHEAD customers ahead.
 */
#define PREFETCH_AHEAD	16

/*
 * Prefetch the state of customers[i + PREFETCH_AHEAD], if any.  Always
 * inlined: GCC counts a prefetch as no side effect, finds this function
 * without any, and deletes its calls before it would inline them.
 */
static pg_attribute_always_inline void
prefetch_ahead(const Customer *customers, int64 n, int64 i)
{
	if (i + PREFETCH_AHEAD < n && customers[i + PREFETCH_AHEAD].state != NULL)
		prefetch_state(customers[i + PREFETCH_AHEAD].state);
}

extern char *relation_sql_name(Oid relid);
extern Oid	order_source_key_type(const OrderSource *source);
extern Oid	order_source_key_collation(const OrderSource *source);
extern Oid	order_time_type(const OrderSource *source);
extern void order_source_check(const OrderSource *source);
extern Customer *read_customers(const OrderSource *source, MemoryContext mcxt, int64 *count,
								 CustomerCounts *counts);
extern ChangedCustomers *read_changed_customers(const OrderSource *source, MemoryContext mcxt,
												CustomerCounts *counts);
extern void stream_customers(ChangedCustomers *changed, CustomerFn fn, void *arg);

#endif
