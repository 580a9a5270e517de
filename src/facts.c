/*
 * facts.c
 *	  lifecycle._customer_facts: every customer's summary, derived values and
 *	  stage from an orders relation, in one pass over its rows.  It is what a
 *	  segment view materializes (install/70_segment_view.sql).
 *
 * The same numbers come out of rfm_agg with GROUP BY and the derived
 * functions; this is the fast route to them.  The executor's hash
 * aggregation spends most of a million-customer summary in its generic
 * machinery (grouping-key tuples, a state pointer per aggregate, a function
 * call per row), and each derived function then deforms the lifecycle.rfm
 * composite again.  Here the order rows come from an ordinary query, run
 * through SPI as the calling user (so privileges, row security, views,
 * partitions and inheritance behave as in any query), straight into a hash
 * table of rfm_agg states keyed by customer; each customer's facts are then
 * written out as one row, computed from the state by the code the SQL
 * functions use (summary.c, derived.c, stage.c).
 *
 * Called with a column definition list (the segment view's query writes
 * it): customer (the orders' key type), first_purchase, last_purchase,
 * previous_purchase, orders, purchase_days, monetary, gross, refunds,
 * refunded (lifecycle.rfm's fields, NULL for a customer without order
 * rows), days_since_last_order, tenure_days, mean_interval_days, aov,
 * btyd_frequency, btyd_recency, btyd_t, btyd_monetary_value, stage, then
 * the scoring inputs and scores: frequency (orders or purchase days, as
 * frequency_basis says), r_score, f_score, m_score.  The scores are those of
 * lifecycle.rfm_breaks and r_score/f_score/m_score over the customers with
 * purchase days; NULL for the ntile method, which the view's query computes
 * with windows.  Last the model columns p_alive, expected_purchases,
 * expected_spend and clv: with models on, BG/NBD and Gamma-Gamma are fitted
 * over the customers' BTYD columns (exactly as bgnbd_fit and gammagamma_fit
 * would) and each customer is predicted as p_alive, expected_purchases,
 * expected_spend and clv would; NULL with models off or where those give
 * NULL or the fit did not converge.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "tcop/dest.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

#include "breaks.h"
#include "days.h"
#include "models.h"
#include "money.h"
#include "numeric_double.h"
#include "stage.h"
#include "summary.h"

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
	F_NATTS
};

/* The types of the result columns after the customer's; 0: the stage enum. */
static const Oid fact_types[F_NATTS] = {
	InvalidOid, DATEOID, DATEOID, DATEOID, INT8OID, INT4OID, NUMERICOID, NUMERICOID,
	INT8OID, NUMERICOID, INT4OID, INT4OID, NUMERICOID, NUMERICOID, INT4OID, FLOAT8OID,
	FLOAT8OID, NUMERICOID, InvalidOid, INT8OID, INT4OID, INT4OID, INT4OID, FLOAT8OID,
	FLOAT8OID, FLOAT8OID, FLOAT8OID
};

/* How customer keys are hashed and compared: their type's default opclass. */
typedef struct KeyType
{
	Oid			type;
	FmgrInfo   *hash;
	FmgrInfo   *equal;
	Oid			collation;
	int16		len;
	bool		byval;
} KeyType;

/* A customer: the key, and the summary state of its orders (NULL: none yet). */
typedef struct CustomerEntry
{
	Datum		key;
	uint32		hash;
	char		status;
	RfmAggState *state;
} CustomerEntry;

static inline uint32
key_hash(const KeyType *type, Datum key)
{
	return DatumGetUInt32(FunctionCall1Coll(type->hash, type->collation, key));
}

static inline bool
key_equal(const KeyType *type, Datum a, Datum b)
{
	return DatumGetBool(FunctionCall2Coll(type->equal, type->collation, a, b));
}

#define SH_PREFIX		customers
#define SH_ELEMENT_TYPE CustomerEntry
#define SH_KEY_TYPE		Datum
#define SH_KEY			key
#define SH_HASH_KEY(tb, k) key_hash((tb)->private_data, k)
#define SH_EQUAL(tb, a, b) key_equal((tb)->private_data, a, b)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/*
 * Rows are folded in batches.  With a million customers the table and the
 * states are far larger than the CPU caches, and a row's lookup and state
 * update would each wait for memory: a batch first hashes its rows and
 * prefetches their buckets, then finds every row's customer and prefetches
 * its state, then updates the states, so that the waits overlap.
 */
#define BATCH_ROWS		32

#if defined(__GNUC__)
#define prefetch(address) __builtin_prefetch(address)
#else
#define prefetch(address) ((void) (address))
#endif

/* A row waiting in the batch. */
typedef struct BatchRow
{
	Datum		key;
	uint32		hash;
	bool		order;			/* an order row, not just a customer */
	bool		has_amount;
	DateADT		day;
	Amount		amount;
	RfmAggState *state;
} BatchRow;

/*
 * The scan: receives the rows of the orders query (customer, time, amount)
 * or of the customers query (customer), as a DestReceiver.
 */
typedef struct FactsScan
{
	DestReceiver pub;
	customers_hash *customers;
	KeyType		key;
	Oid			time_type;
	const pg_tz *zone;			/* for timestamptz order times */
	bool		order_rows;		/* rows are orders, not just customers */
	MemoryContext mcxt;			/* keys and states */
	MemoryContext batch_mcxt;	/* what the batch's rows point to */
	MemoryContext row_mcxt;		/* reset after each row or output row */
	int			nbatch;
	BatchRow	batch[BATCH_ROWS];
} FactsScan;

/* The purchase day of an order time of the scan's time type. */
static DateADT
order_day(const FactsScan *scan, Datum time)
{
	switch (scan->time_type)
	{
		case TIMESTAMPTZOID:
			return day_of_timestamptz(DatumGetTimestampTz(time), scan->zone);
		case TIMESTAMPOID:
			return day_of_timestamp(DatumGetTimestamp(time));
		default:
			return day_of_date(DatumGetDateADT(time));
	}
}

/*
 * Fold the batch into the customers' table: find (or add) every row's
 * customer, then add the order rows to their states.
 */
static void
batch_flush(FactsScan *scan)
{
	int			n = scan->nbatch;

	for (int i = 0; i < n; i++)
	{
		BatchRow   *row = &scan->batch[i];
		bool		found;
		CustomerEntry *entry = customers_insert_hash(scan->customers, row->key, row->hash, &found);

		if (!found)
		{
			MemoryContext old = MemoryContextSwitchTo(scan->mcxt);

			entry->key = datumCopy(row->key, scan->key.byval, scan->key.len);
			entry->state = NULL;
			MemoryContextSwitchTo(old);
		}
		if (row->order && entry->state == NULL)
			entry->state = rfm_state_create(scan->mcxt);
		row->state = entry->state;
		prefetch(row->state);
	}
	for (int i = 0; i < n; i++)
	{
		BatchRow   *row = &scan->batch[i];
		RfmAggState *state;

		if (!row->order)
			continue;
		state = rfm_state_add(row->state, row->day, row->has_amount ? &row->amount : NULL,
							  scan->mcxt);
		if (state == row->state)
			continue;
		/* the state grew and moved: later rows and the table must follow */
		for (int j = i + 1; j < n; j++)
			if (scan->batch[j].state == row->state)
				scan->batch[j].state = state;
		customers_lookup_hash(scan->customers, row->key, row->hash)->state = state;
	}
	scan->nbatch = 0;
	MemoryContextReset(scan->batch_mcxt);
}

/*
 * Add one row to the batch, copying what it needs of the row's values, and
 * prefetch its bucket.  Rows without a customer are left out, as rows
 * without an order time count only their customer.
 */
static void
batch_add(FactsScan *scan, const Datum *values, const bool *nulls)
{
	BatchRow   *row = &scan->batch[scan->nbatch];
	MemoryContext old;

	if (nulls[0])
		return;
	old = MemoryContextSwitchTo(scan->batch_mcxt);
	row->key = datumCopy(values[0], scan->key.byval, scan->key.len);
	row->hash = key_hash(&scan->key, row->key);
	row->order = scan->order_rows && !nulls[1];
	row->has_amount = row->order && !nulls[2];
	if (row->order)
		row->day = order_day(scan, values[1]);
	if (row->has_amount)
	{
		amount_read(values[2], &row->amount);
		if (row->amount.value != NULL)
			row->amount.value = DatumGetNumeric(datumCopy(NumericGetDatum(row->amount.value), false, -1));
	}
	MemoryContextSwitchTo(old);
	prefetch(&scan->customers->data[row->hash & scan->customers->sizemask]);
	if (++scan->nbatch == BATCH_ROWS)
		batch_flush(scan);
}

static bool
scan_receive(TupleTableSlot *slot, DestReceiver *self)
{
	FactsScan  *scan = (FactsScan *) self;
	MemoryContext old = MemoryContextSwitchTo(scan->row_mcxt);

	slot_getallattrs(slot);
	batch_add(scan, slot->tts_values, slot->tts_isnull);
	MemoryContextSwitchTo(old);
	MemoryContextReset(scan->row_mcxt);
	return true;
}

static void
scan_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
scan_shutdown(DestReceiver *self)
{
}

static void
scan_destroy(DestReceiver *self)
{
}

/* Run a read-only query with one parameter (or none) into the scan. */
static void
scan_query(FactsScan *scan, const char *sql, Oid param_type, Datum param)
{
	int			nparams = OidIsValid(param_type) ? 1 : 0;
#if PG_VERSION_NUM >= 140000
	SPIExecuteOptions options;

	memset(&options, 0, sizeof(options));
	if (nparams > 0)
	{
		options.params = makeParamList(1);
		options.params->params[0].value = param;
		options.params->params[0].isnull = false;
		options.params->params[0].pflags = PARAM_FLAG_CONST;
		options.params->params[0].ptype = param_type;
	}
	options.read_only = true;
	options.dest = &scan->pub;
	/* the rows go to the scan: SPI reports no result of its own */
	if (SPI_execute_extended(sql, &options) < 0)
		elog(ERROR, "could not read the rows of \"%s\"", sql);
#else
	/* No DestReceiver for SPI before PostgreSQL 14: fetch through a cursor. */
	Portal		portal = SPI_cursor_open_with_args(NULL, sql, nparams, &param_type, &param,
												   NULL, true, 0);

	for (;;)
	{
		SPI_cursor_fetch(portal, true, 10000);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			Datum		values[3];
			bool		nulls[3];
			MemoryContext old = MemoryContextSwitchTo(scan->row_mcxt);

			heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, values, nulls);
			batch_add(scan, values, nulls);
			MemoryContextSwitchTo(old);
			MemoryContextReset(scan->row_mcxt);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
#endif
}

/* An argument that must be given. */
static Datum
required_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
	return PG_GETARG_DATUM(argno);
}

/* The relation's name, schema-qualified and quoted; errors if it is gone. */
static char *
relation_sql_name(Oid relid)
{
	char	   *name = get_rel_name(relid);

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), name);
}

/*
 * The type of a relation's column, and its collation if asked; errors if
 * there is no such column.
 */
static Oid
column_type(Oid relid, const char *column, Oid *collation)
{
	AttrNumber	attnum = get_attnum(relid, column);
	Oid			type,
				coll;
	int32		typmod;

	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						column, get_rel_name(relid))));
	get_atttypetypmodcoll(relid, attnum, &type, &typmod, &coll);
	if (collation != NULL)
		*collation = coll;
	return type;
}

/* The hash and equality functions of the customer key type (key->type). */
static void
key_type_init(KeyType *key, Oid collation)
{
	Oid			type = key->type;
	TypeCacheEntry *entry = lookup_type_cache(type, TYPECACHE_HASH_PROC_FINFO |
											  TYPECACHE_EQ_OPR_FINFO);

	if (!OidIsValid(entry->hash_proc_finfo.fn_oid) || !OidIsValid(entry->eq_opr_finfo.fn_oid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("customer key type %s cannot be hashed", format_type_be(type)),
				 errhint("Use a key column of a type with a default hash operator class, or a view that casts it to one.")));
	key->hash = &entry->hash_proc_finfo;
	key->equal = &entry->eq_opr_finfo;
	key->collation = collation;
	get_typlenbyval(type, &key->len, &key->byval);
}

/*
 * The end of the as-of day, as a value of the order time's type: orders
 * count when their time is before it.
 */
static Datum
as_of_day_end(Oid time_type, const char *time_column, DateADT as_of, text *zone)
{
	Datum		next_day = DateADTGetDatum(as_of + 1);

	switch (time_type)
	{
		case TIMESTAMPTZOID:
			return DirectFunctionCall2(timestamp_zone, PointerGetDatum(zone),
									   DirectFunctionCall1(date_timestamp, next_day));
		case TIMESTAMPOID:
			return DirectFunctionCall1(date_timestamp, next_day);
		case DATEOID:
			return next_day;
	}
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("order time column \"%s\" has type %s", time_column, format_type_be(time_type)),
			 errhint("Use a timestamptz, timestamp or date column, or a view that casts to one.")));
	return (Datum) 0;			/* keep compiler quiet */
}

/* Check the column definition list against what the rows will hold. */
static void
check_result_desc(TupleDesc desc, Oid key_type)
{
	bool		ok = desc->natts == F_NATTS;

	for (int i = 0; ok && i < F_NATTS; i++)
	{
		Oid			type = TupleDescAttr(desc, i)->atttypid;

		if (i == F_CUSTOMER)
			ok = type == key_type;
		else if (i == F_STAGE)
			ok = type_is_enum(type);
		else
			ok = type == fact_types[i];
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column definition list does not match the customer facts"),
				 errhint("lifecycle._customer_facts is internal to segment views.")));
}

/* What every result row is computed with. */
typedef struct FactsOutput
{
	DateADT		as_of;
	int			unit_days;
	StagePolicy policy;
	Datum		stages[STAGE_COUNT];	/* the stage enum's values */
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
 * The customers in one array.  The passes over them read each state once,
 * in no useful memory order, so they prefetch the state PREFETCH_AHEAD
 * customers ahead.
 */
typedef struct Customer
{
	Datum		key;
	RfmAggState *state;			/* NULL: no order rows */
} Customer;

#define PREFETCH_AHEAD	16

static Customer *
collect_customers(customers_hash *table, int64 *count)
{
	Customer   *customers = palloc_extended(Max(table->members, 1) * sizeof(Customer), MCXT_ALLOC_HUGE);
	customers_iterator it;
	CustomerEntry *entry;
	int64		n = 0;

	customers_start_iterate(table, &it);
	while ((entry = customers_iterate(table, &it)) != NULL)
	{
		customers[n].key = entry->key;
		customers[n].state = entry->state;
		n++;
	}
	*count = n;
	return customers;
}

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

/* The R, F and M values of a customer with purchase days. */
static void
customer_metrics(const RfmDays *days, Numeric monetary, const FactsOutput *out, double *metrics)
{
	metrics[METRIC_R] = out->as_of - days->last_purchase;
	metrics[METRIC_F] = out->by_orders ? days->orders : days->purchase_days;
	metrics[METRIC_M] = metric_value(monetary, "monetary");
}

/*
 * The score breaks of the customers with purchase days, as
 * lifecycle.rfm_breaks computes them (none for ntile, which the view's
 * query scores with windows).
 */
static void
score_breaks(const Customer *customers, int64 n, FactsOutput *out, MemoryContext row_mcxt)
{
	double	   *values[METRIC_COUNT];
	int64		scored = 0;

	if (out->method == METHOD_NTILE)
		return;
	for (int m = 0; m < METRIC_COUNT; m++)
		values[m] = palloc_extended(Max(n, 1) * sizeof(double), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < n; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(row_mcxt);
		RfmDays		days;
		double		metrics[METRIC_COUNT];

		prefetch_ahead(customers, n, i);
		if (customers[i].state != NULL && rfm_state_days(customers[i].state, &days) &&
			days.purchase_days > 0)
		{
			rfm_check_days_as_of(&days, out->as_of);
			customer_metrics(&days, rfm_state_monetary(customers[i].state), out, metrics);
			for (int m = 0; m < METRIC_COUNT; m++)
				values[m][scored] = metrics[m];
			scored++;
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(row_mcxt);
	}
	for (int m = 0; m < METRIC_COUNT; m++)
	{
		out->scored[m] = scored > 0;
		if (scored > 0)
			metric_breaks(values[m], scored, out->method, out->breaks[m]);
		pfree(values[m]);
	}
}

/* A customer's BTYD columns as doubles: x, t_x, T and the mean repeat spend. */
static void
customer_btyd(const RfmFacts *facts, const FactsOutput *out, double *btyd)
{
	Datum		values[4];
	bool		nulls[4];

	rfm_btyd_values(&facts->days, facts->gross, facts->first_day_spend, out->as_of, out->unit_days,
					values, nulls);
	btyd[0] = DatumGetInt32(values[0]);
	btyd[1] = DatumGetFloat8(values[1]);
	btyd[2] = DatumGetFloat8(values[2]);
	btyd[3] = nulls[3] ? 0.0 : numeric_to_double(DatumGetNumeric(values[3]));
}

/*
 * Fit BG/NBD over the customers with purchase days and Gamma-Gamma over
 * those with repeat purchases of positive mean value, as the view's fits
 * over its BTYD columns would; nothing with models off or no buyer.
 */
static void
fit_models(const Customer *customers, int64 n, FactsOutput *out, MemoryContext row_mcxt)
{
	ModelRow   *purchase_rows = palloc_extended(Max(n, 1) * sizeof(ModelRow), MCXT_ALLOC_HUGE);
	ModelRow   *spend_rows = palloc_extended(Max(n, 1) * sizeof(ModelRow), MCXT_ALLOC_HUGE);
	int64		npurchase = 0,
				nspend = 0;
	ModelRows	rows;

	for (int64 i = 0; i < n; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(row_mcxt);
		RfmFacts	facts;
		double		btyd[4];

		prefetch_ahead(customers, n, i);
		if (customers[i].state != NULL && rfm_state_facts(customers[i].state, &facts) &&
			facts.days.purchase_days > 0)
		{
			customer_btyd(&facts, out, btyd);
			purchase_rows[npurchase++] = (ModelRow) {btyd[0], btyd[1], btyd[2], 1.0};
			if (spend_is_informative(btyd[0], btyd[3]))
				spend_rows[nspend++] = (ModelRow) {btyd[0], btyd[3], 0.0, 1.0};
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(row_mcxt);
	}
	if (npurchase > 0)
	{
		model_rows_from_array(purchase_rows, npurchase, &rows);
		bgnbd_fit_rows(&rows, BG_SHIFT, &out->purchases);
		model_rows_from_array(spend_rows, nspend, &rows);
		gammagamma_fit_rows(&rows, &out->spend);
		out->purchases_usable = out->purchases.converged;
		/* a spend model predicts only with a finite population mean: q > 1 */
		out->spend_usable = out->spend.converged && out->spend.params[1] > 1;
	}
	pfree(purchase_rows);
	pfree(spend_rows);
}

/* A customer's model columns, where the models give them. */
static void
predict(const RfmFacts *facts, const FactsOutput *out, Datum *values, bool *nulls)
{
	double		btyd[4];
	bool		spend_known;

	customer_btyd(facts, out, btyd);
	spend_known = btyd[0] == 0 || spend_is_informative(btyd[0], btyd[3]);
	if (out->purchases_usable)
	{
		values[F_P_ALIVE] = Float8GetDatum(bgnbd_p_alive_of(out->purchases.params, BG_SHIFT,
															btyd[0], btyd[1], btyd[2]));
		values[F_EXPECTED_PURCHASES] =
			Float8GetDatum(bgnbd_expected_purchases(out->purchases.params, BG_SHIFT, btyd[0], btyd[1],
													btyd[2], out->horizon));
		nulls[F_P_ALIVE] = nulls[F_EXPECTED_PURCHASES] = false;
	}
	if (out->spend_usable && spend_known)
	{
		values[F_EXPECTED_SPEND] = Float8GetDatum(gammagamma_expected_spend(out->spend.params,
																			 btyd[0], btyd[3]));
		nulls[F_EXPECTED_SPEND] = false;
	}
	if (out->purchases_usable && out->spend_usable && spend_known)
	{
		values[F_CLV] = Float8GetDatum(clv_of(out->purchases.params, BG_SHIFT, out->spend.params,
											  btyd[0], btyd[1], btyd[2], btyd[3], out->clv_periods,
											  out->clv_period_length, out->clv_discount_rate));
		nulls[F_CLV] = false;
	}
}

/* A customer's result row, in the current memory context. */
static void
fact_row(const Customer *customer, const FactsOutput *out, Datum *values, bool *nulls)
{
	RfmFacts	facts;
	Numeric		numeric;
	double		metrics[METRIC_COUNT];

	memset(nulls, true, F_NATTS * sizeof(bool));
	values[F_CUSTOMER] = customer->key;
	nulls[F_CUSTOMER] = false;
	nulls[F_STAGE] = false;
	if (customer->state == NULL || !rfm_state_facts(customer->state, &facts))
	{
		values[F_STAGE] = out->stages[STAGE_PROSPECT];
		return;
	}
	rfm_check_days_as_of(&facts.days, out->as_of);
	values[F_STAGE] = out->stages[stage_of(&out->policy, &facts.days, out->as_of)];
	values[F_ORDERS] = Int64GetDatum(facts.days.orders);
	values[F_PURCHASE_DAYS] = Int32GetDatum(facts.days.purchase_days);
	values[F_MONETARY] = NumericGetDatum(facts.monetary);
	values[F_GROSS] = NumericGetDatum(facts.gross);
	values[F_REFUNDS] = Int64GetDatum(facts.refunds);
	values[F_REFUNDED] = NumericGetDatum(facts.refunded);
	for (int i = F_ORDERS; i <= F_REFUNDED; i++)
		nulls[i] = false;
	values[F_FREQUENCY] = Int64GetDatum(out->by_orders ? facts.days.orders : facts.days.purchase_days);
	nulls[F_FREQUENCY] = false;
	numeric = rfm_average_order_value(facts.days.orders, facts.gross);
	nulls[F_AOV] = numeric == NULL;
	values[F_AOV] = NumericGetDatum(numeric);
	if (facts.days.purchase_days == 0)
		return;
	values[F_FIRST_PURCHASE] = DateADTGetDatum(facts.days.first_purchase);
	values[F_LAST_PURCHASE] = DateADTGetDatum(facts.days.last_purchase);
	nulls[F_FIRST_PURCHASE] = nulls[F_LAST_PURCHASE] = false;
	if (facts.days.purchase_days >= 2)
	{
		values[F_PREVIOUS_PURCHASE] = DateADTGetDatum(facts.days.previous_purchase);
		nulls[F_PREVIOUS_PURCHASE] = false;
	}
	values[F_DAYS_SINCE_LAST_ORDER] = Int32GetDatum(out->as_of - facts.days.last_purchase);
	values[F_TENURE_DAYS] = Int32GetDatum(out->as_of - facts.days.first_purchase);
	nulls[F_DAYS_SINCE_LAST_ORDER] = nulls[F_TENURE_DAYS] = false;
	numeric = rfm_mean_interval(&facts.days);
	nulls[F_MEAN_INTERVAL_DAYS] = numeric == NULL;
	values[F_MEAN_INTERVAL_DAYS] = NumericGetDatum(numeric);
	rfm_btyd_values(&facts.days, facts.gross, facts.first_day_spend, out->as_of, out->unit_days,
					&values[F_BTYD_FREQUENCY], &nulls[F_BTYD_FREQUENCY]);
	customer_metrics(&facts.days, facts.monetary, out, metrics);
	for (int i = 0; i < METRIC_COUNT; i++)
	{
		nulls[F_R_SCORE + i] = !out->scored[i];
		if (out->scored[i])
			values[F_R_SCORE + i] = Int32GetDatum(score_of(out->method, i, out->breaks[i], metrics[i]));
	}
	if (out->models)
		predict(&facts, out, values, nulls);
}

/*
 * Read the order rows up to the end of the as-of day, and the keys of the
 * customers relation if there is one, into the scan's table.
 */
static void
scan_relations(FunctionCallInfo fcinfo, FactsScan *scan, Oid orders, Datum day_end)
{
	const char *customer = quote_identifier(NameStr(*PG_GETARG_NAME(1)));
	const char *time = quote_identifier(NameStr(*PG_GETARG_NAME(2)));
	StringInfoData sql;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT x.%s, x.%s, x.%s::pg_catalog.numeric FROM %s x"
					 " WHERE x.%s IS NOT NULL AND x.%s OPERATOR(pg_catalog.<) $1",
					 customer, time, quote_identifier(NameStr(*PG_GETARG_NAME(3))),
					 relation_sql_name(orders), customer, time);
	scan->order_rows = true;
	scan_query(scan, sql.data, scan->time_type, day_end);
	batch_flush(scan);
	if (!PG_ARGISNULL(4))
	{
		const char *key = quote_identifier(NameStr(*DatumGetName(required_arg(fcinfo, 5, "customers_key"))));

		resetStringInfo(&sql);
		appendStringInfo(&sql, "SELECT c.%s::%s FROM %s c WHERE c.%s IS NOT NULL",
						 key, format_type_be_qualified(scan->key.type),
						 relation_sql_name(PG_GETARG_OID(4)), key);
		scan->order_rows = false;
		scan_query(scan, sql.data, InvalidOid, (Datum) 0);
		batch_flush(scan);
	}
	SPI_finish();
}

/* The result rows, one per customer, in a tuplestore. */
static Tuplestorestate *
write_rows(const Customer *customers, int64 n, const FactsOutput *out, TupleDesc desc,
		   MemoryContext store_mcxt, MemoryContext row_mcxt)
{
	MemoryContext old = MemoryContextSwitchTo(store_mcxt);
	Tuplestorestate *store = tuplestore_begin_heap(true, false, work_mem);

	MemoryContextSwitchTo(old);
	for (int64 i = 0; i < n; i++)
	{
		Datum		values[F_NATTS];
		bool		nulls[F_NATTS];

		CHECK_FOR_INTERRUPTS();
		prefetch_ahead(customers, n, i);
		old = MemoryContextSwitchTo(row_mcxt);
		fact_row(&customers[i], out, values, nulls);
		tuplestore_putvalues(store, desc, values, nulls);
		MemoryContextSwitchTo(old);
		MemoryContextReset(row_mcxt);
	}
	return store;
}

PG_FUNCTION_INFO_V1(customer_facts);
/*
 * lifecycle._customer_facts(orders, customer_column, time_column,
 * amount_column, customers, customers_key, time_zone, as_of, btyd_unit,
 * active_days, dormant_days, churn_days, cadence_factor, cadence_min_days,
 * score_method, frequency_basis, models, prediction_days, clv_periods,
 * clv_period_days, clv_discount_rate): one row per customer of the orders up to
 * the end of the as-of day (and per key of the customers relation, if
 * given), as the header describes.  Only cadence_factor (no cadence rule)
 * and the customers relation may be NULL.
 */
Datum
customer_facts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			orders = DatumGetObjectId(required_arg(fcinfo, 0, "orders"));
	text	   *zone = DatumGetTextPP(required_arg(fcinfo, 6, "time_zone"));
	text	   *method = DatumGetTextPP(required_arg(fcinfo, 14, "score_method"));
	FactsOutput out;
	FactsScan	scan;
	Oid			key_collation;
	Datum		day_end;
	TupleDesc	desc;
	MemoryContext old;
	Customer   *customers;
	int64		ncustomers;

	for (int i = 1; i <= 3; i++)
		required_arg(fcinfo, i, "column names");
	memset(&out, 0, sizeof(out));
	out.as_of = DatumGetDateADT(required_arg(fcinfo, 7, "as_of"));
	rfm_check_as_of(out.as_of);
	out.unit_days = rfm_time_unit_days(TextDatumGetCString(required_arg(fcinfo, 8, "btyd_unit")));
	out.policy.active_days = DatumGetInt32(required_arg(fcinfo, 9, "active_days"));
	out.policy.dormant_days = DatumGetInt32(required_arg(fcinfo, 10, "dormant_days"));
	out.policy.churn_days = DatumGetInt32(required_arg(fcinfo, 11, "churn_days"));
	out.policy.cadence = !PG_ARGISNULL(12);
	out.policy.cadence_factor = out.policy.cadence ? PG_GETARG_FLOAT8(12) : 0;
	out.policy.cadence_min_days = DatumGetInt32(required_arg(fcinfo, 13, "cadence_min_days"));
	stage_policy_check(&out.policy);
	out.method = breaks_method(VARDATA_ANY(method), VARSIZE_ANY_EXHDR(method));
	out.by_orders = strcmp(TextDatumGetCString(required_arg(fcinfo, 15, "frequency_basis")), "orders") == 0;
	out.models = DatumGetBool(required_arg(fcinfo, 16, "models"));
	out.horizon = (double) DatumGetInt32(required_arg(fcinfo, 17, "prediction_days")) / out.unit_days;
	out.clv_periods = DatumGetInt32(required_arg(fcinfo, 18, "clv_periods"));
	out.clv_period_length = (double) DatumGetInt32(required_arg(fcinfo, 19, "clv_period_days")) / out.unit_days;
	out.clv_discount_rate = DatumGetFloat8(required_arg(fcinfo, 20, "clv_discount_rate"));
	if (!(out.horizon > 0 && out.clv_periods > 0 && out.clv_period_length > 0 &&
		  isfinite(out.clv_discount_rate) && out.clv_discount_rate >= 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("prediction settings must be positive"),
				 errdetail("prediction_days, clv_periods and clv_period_days must be positive, clv_discount_rate a non-negative finite number.")));

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize) || rsinfo->expectedDesc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("lifecycle._customer_facts must be called in FROM with a column definition list")));

	memset(&scan, 0, sizeof(scan));
	scan.pub.receiveSlot = scan_receive;
	scan.pub.rStartup = scan_startup;
	scan.pub.rShutdown = scan_shutdown;
	scan.pub.rDestroy = scan_destroy;
	scan.pub.mydest = DestNone;
	scan.mcxt = AllocSetContextCreate(CurrentMemoryContext, "lifecycle customer facts",
									  ALLOCSET_DEFAULT_SIZES);
	scan.batch_mcxt = AllocSetContextCreate(CurrentMemoryContext, "lifecycle customer facts batch",
											ALLOCSET_DEFAULT_SIZES);
	scan.row_mcxt = AllocSetContextCreate(CurrentMemoryContext, "lifecycle customer facts row",
										  ALLOCSET_DEFAULT_SIZES);
	scan.key.type = column_type(orders, NameStr(*PG_GETARG_NAME(1)), &key_collation);
	scan.time_type = column_type(orders, NameStr(*PG_GETARG_NAME(2)), NULL);
	day_end = as_of_day_end(scan.time_type, NameStr(*PG_GETARG_NAME(2)), out.as_of, zone);
	if (scan.time_type == TIMESTAMPTZOID)
		scan.zone = lookup_zone(zone);
	check_result_desc(rsinfo->expectedDesc, scan.key.type);
	key_type_init(&scan.key, key_collation);
	scan.customers = customers_create(scan.mcxt, 1024, &scan.key);

	scan_relations(fcinfo, &scan, orders, day_end);
	customers = collect_customers(scan.customers, &ncustomers);
	score_breaks(customers, ncustomers, &out, scan.row_mcxt);
	if (out.models)
		fit_models(customers, ncustomers, &out, scan.row_mcxt);
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	desc = CreateTupleDescCopy(rsinfo->expectedDesc);
	MemoryContextSwitchTo(old);
	stage_enum_values(TupleDescAttr(desc, F_STAGE)->atttypid, out.stages);
	rsinfo->setResult = write_rows(customers, ncustomers, &out, desc,
								   rsinfo->econtext->ecxt_per_query_memory, scan.row_mcxt);
	rsinfo->setDesc = desc;
	rsinfo->returnMode = SFRM_Materialize;
	MemoryContextDelete(scan.mcxt);
	MemoryContextDelete(scan.batch_mcxt);
	MemoryContextDelete(scan.row_mcxt);
	return (Datum) 0;
}
