/*
 * customers.c
 *	  Every customer's rfm_agg state from an orders relation, in one pass
 *	  over its rows: what the segment view's facts are computed from
 *	  (facts.c).
 *
 * The order rows come from an ordinary query, run through SPI as the
 * calling user (so privileges, row security, views, partitions and
 * inheritance behave as in any query; every name quoted and
 * schema-qualified, the comparison OPERATOR(pg_catalog.<)), straight into a
 * hash table of rfm_agg states keyed by customer.  GROUP BY with rfm_agg
 * gives the same states; the executor's hash aggregation spends most of a
 * million-customer summary in its generic machinery (grouping-key tuples, a
 * state pointer per aggregate, a function call per row).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/parse_coerce.h"
#include "tcop/dest.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "customers.h"
#include "days.h"
#include "fingerprint.h"
#include "money.h"
#include "progress.h"
#include "rows.h"

/* How customer keys are hashed and compared: their type's default opclass. */
typedef struct KeyType
{
	Oid			type;
	FmgrInfo   *hash;
	FmgrInfo   *equal;
	Oid			collation;
	int16		len;
	bool		byval;
	Oid			input;			/* input function, for keys logged as text */
	Oid			input_param;
} KeyType;

/* A customer: the key, and the summary state of its orders (NULL: none yet). */
typedef struct CustomerEntry
{
	Datum		key;
	uint32		hash;
	char		status;
	int8		previous_stage; /* -1: not in the previous contents */
	bool		listed;			/* in the customers relation */
	bool		read;			/* its orders are read now: no previous state kept */
	bool		folded;			/* inserted order rows logged: state holds them */
	bool		future;			/* has orders after the as-of day */
	bool		seen;			/* met by the current pass of stream_customers */
	RfmAggState *state;
	uint64		previous_fingerprint;
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

/* A row waiting in the batch. */
typedef struct BatchRow
{
	Datum		key;
	uint32		hash;
	bool		order;			/* an order row up to the as-of day */
	bool		future;			/* an order row after the as-of day */
	bool		has_amount;
	DateADT		day;
	Amount		amount;
	RfmAggState *state;
} BatchRow;

/* What the rows the scan receives are. */
typedef enum ScanRows
{
	ORDER_ROWS,					/* customer, time, amount */
	INSERTED_ROWS,				/* customer, time, amount of the view's log */
	STATE_ROWS,					/* customer, serialized state of its orders */
	CUSTOMER_ROWS,				/* customer, of the customers relation */
	PREVIOUS_ROWS,				/* customer, stage, fingerprint of the view's rows */
	STREAM_ROWS					/* customer, the view's row (rows.h), listed */
} ScanRows;

/* The scan: receives the rows of its queries, as a DestReceiver. */
typedef struct FactsScan
{
	DestReceiver pub;
	const OrderSource *source;
	customers_hash *customers;
	KeyType		key;
	Oid			time_type;
	const pg_tz *zone;			/* for timestamptz order times */
	ScanRows	rows;
	bool		future_guests;	/* order rows without a customer after the as-of day */
	CustomerFn	stream_fn;		/* STREAM_ROWS: what to do with each customer */
	void	   *stream_arg;
	MemoryContext mcxt;			/* keys and states */
	MemoryContext batch_mcxt;	/* what the batch's rows point to */
	MemoryContext row_mcxt;		/* reset after each row */
	CustomerCounts *counts;
	int			nbatch;
	BatchRow	batch[BATCH_ROWS];
} FactsScan;

/* Whether the scan receives order rows (of the orders or of the view's log). */
#define reads_orders(scan) ((scan)->rows == ORDER_ROWS || (scan)->rows == INSERTED_ROWS)

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

/* A new entry of the customers' table, for a key (copied into the scan's memory). */
static void
entry_init(FactsScan *scan, CustomerEntry *entry, Datum key)
{
	MemoryContext old = MemoryContextSwitchTo(scan->mcxt);

	entry->key = datumCopy(key, scan->key.byval, scan->key.len);
	MemoryContextSwitchTo(old);
	entry->state = NULL;
	entry->previous_stage = -1;
	entry->listed = entry->read = entry->folded = entry->future = entry->seen = false;
	entry->previous_fingerprint = 0;
}

/*
 * Fold the batch into the customers' table: find (or add) every row's
 * customer, then add the order rows to their states.  An inserted row of a
 * customer whose orders are read is left out: it is one of them.
 */
static void
batch_flush(FactsScan *scan)
{
	int			n = scan->nbatch;
	MemoryContext old;

	for (int i = 0; i < n; i++)
	{
		BatchRow   *row = &scan->batch[i];
		bool		found;
		CustomerEntry *entry = customers_insert_hash(scan->customers, row->key, row->hash, &found);

		if (!found)
			entry_init(scan, entry, row->key);
		entry->listed |= scan->rows == CUSTOMER_ROWS;
		entry->future |= row->future;
		if (scan->rows == INSERTED_ROWS)
		{
			row->order &= !entry->read;
			entry->folded |= row->order;
		}
		if (row->order && entry->state == NULL)
		{
			entry->state = rfm_state_create(scan->mcxt);
			entry->read = scan->rows == ORDER_ROWS;
		}
		row->state = entry->state;
		if (row->state != NULL)
			prefetch_state(row->state);
	}
	/* temporaries of the rows' additions (big totals' numerics) go with the batch */
	old = MemoryContextSwitchTo(scan->batch_mcxt);
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
		/* the state grew into a copy: later rows and the table must follow */
		for (int j = i + 1; j < n; j++)
			if (scan->batch[j].state == row->state)
				scan->batch[j].state = state;
		customers_lookup_hash(scan->customers, row->key, row->hash)->state = state;
		pfree(row->state);
	}
	MemoryContextSwitchTo(old);
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
	row->order = reads_orders(scan) && !nulls[1];
	if (row->order)
		row->day = order_day(scan, values[1]);
	row->future = row->order && row->day > scan->source->as_of;
	row->order &= !row->future;
	row->has_amount = row->order && !nulls[2];
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

/*
 * A customer's kept summary with the order rows inserted since folded in,
 * in the current memory context: its state now.
 */
static void
fold_inserted(Customer *customer, RfmAggState *inserted)
{
	customer->state = customer->kept_state != NULL ?
		rfm_state_deserialize(customer->kept_state, CurrentMemoryContext) :
		rfm_state_create(CurrentMemoryContext);
	customer->state = rfm_state_merge(customer->state, inserted, CurrentMemoryContext);
	customer->kept_state = NULL;
	customer->read = true;
}

/* The stage of a stage label, -1 for NULL. */
static int8
stage_or_none(Datum label, bool isnull)
{
	text	   *stage;

	if (isnull)
		return -1;
	stage = DatumGetTextPP(label);
	return (int8) stage_of_label(VARDATA_ANY(stage), VARSIZE_ANY_EXHDR(stage));
}

/* A row of the view's previous contents (customer, stage, fingerprint). */
static void
previous_row(FactsScan *scan, const Datum *values, const bool *nulls)
{
	bool		found;
	CustomerEntry *entry = customers_insert(scan->customers, values[0], &found);

	if (!found)
		entry_init(scan, entry, values[0]);
	scan->counts->previous++;
	entry->previous_stage = stage_or_none(values[1], nulls[1]);
	entry->previous_fingerprint = nulls[2] ? 0 : (uint64) DatumGetInt64(values[2]);
}

/*
 * A customer of a pass of stream_customers (customer, the view's row,
 * listed): its summary that of its orders if they changed, with the order
 * rows inserted since folded in, else kept (its row's).
 */
static void
stream_row(FactsScan *scan, const Datum *values, const bool *nulls)
{
	CustomerEntry *entry = customers_lookup(scan->customers, values[0]);
	const Datum *row = &values[1];
	const bool *row_nulls = &nulls[1];
	Customer	customer;

	memset(&customer, 0, sizeof(customer));
	customer.key = values[0];
	customer.row = row;
	customer.row_nulls = row_nulls;
	customer.previous_stage = stage_or_none(row[V_STAGE], row_nulls[V_STAGE]);
	customer.previous_fingerprint = row_nulls[V_FINGERPRINT] ? 0 : (uint64) DatumGetInt64(row[V_FINGERPRINT]);
	customer.listed = DatumGetBool(values[V_NATTS + 1]);
	if (customer.previous_stage >= 0)
		scan->counts->previous++;
	if (entry != NULL)
		entry->seen = true;
	if (entry != NULL && entry->read)
	{
		customer.state = entry->state;
		customer.read = true;
	}
	else if (!row_nulls[V_SUMMARY_STATE])
		customer.kept_state = DatumGetByteaPP(row[V_SUMMARY_STATE]);
	if (entry != NULL && entry->folded)
		fold_inserted(&customer, entry->state);
	scan->stream_fn(scan->stream_arg, &customer);
}

/*
 * A customer's summary, computed where its orders are (customer, its
 * serialized rfm_agg state).
 */
static void
state_row(FactsScan *scan, const Datum *values, const bool *nulls)
{
	bool		found;
	CustomerEntry *entry = customers_insert(scan->customers, values[0], &found);

	if (!found)
		entry_init(scan, entry, values[0]);
	entry->state = rfm_state_deserialize(DatumGetByteaPP(values[1]), scan->mcxt);
	entry->read = true;
}

/*
 * An order row without a customer: a guest order up to the as-of day,
 * noted if after it; nothing without a time.
 */
static void
guest_row(FactsScan *scan, const Datum *values, const bool *nulls)
{
	bool		future;

	if (nulls[1])
		return;
	future = order_day(scan, values[1]) > scan->source->as_of;
	scan->counts->guests += !future;
	scan->future_guests |= future;
}

/*
 * Take a received row: an order or customer row into the batch (an order
 * row without a customer only counted), a row of the previous contents to
 * its customer; temporary allocations are freed after it.
 */
static void
scan_row(FactsScan *scan, const Datum *values, const bool *nulls)
{
	MemoryContext old = MemoryContextSwitchTo(scan->row_mcxt);

	if (scan->rows == PREVIOUS_ROWS)
		previous_row(scan, values, nulls);
	else if (scan->rows == STREAM_ROWS)
		stream_row(scan, values, nulls);
	else if (scan->rows == STATE_ROWS)
		state_row(scan, values, nulls);
	else if (reads_orders(scan) && nulls[0])
		guest_row(scan, values, nulls);
	else
		batch_add(scan, values, nulls);
	MemoryContextSwitchTo(old);
	MemoryContextReset(scan->row_mcxt);
	if ((reads_orders(scan) || scan->rows == STATE_ROWS) && ++scan->counts->rows % PROGRESS_EVERY_ROWS == 0)
		progress_phase(PHASE_READ, scan->counts->rows, scan->customers->members);
}

static bool
scan_receive(TupleTableSlot *slot, DestReceiver *self)
{
	slot_getallattrs(slot);
	scan_row((FactsScan *) self, slot->tts_values, slot->tts_isnull);
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
	Datum	   *values;
	bool	   *nulls;

	for (;;)
	{
		SPI_cursor_fetch(portal, true, 10000);
		if (SPI_processed == 0)
			break;
		values = palloc(SPI_tuptable->tupdesc->natts * sizeof(Datum));
		nulls = palloc(SPI_tuptable->tupdesc->natts * sizeof(bool));
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, values, nulls);
			scan_row(scan, values, nulls);
		}
		pfree(values);
		pfree(nulls);
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
#endif
}

/* The relation's name, schema-qualified and quoted; errors if it is gone. */
char *
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

/* The type cache entry of a customer key type, or an error if it cannot be hashed. */
static TypeCacheEntry *
hashable_key_type(Oid type)
{
	TypeCacheEntry *entry = lookup_type_cache(type, TYPECACHE_HASH_PROC_FINFO |
											  TYPECACHE_EQ_OPR_FINFO);

	if (!OidIsValid(entry->hash_proc_finfo.fn_oid) || !OidIsValid(entry->eq_opr_finfo.fn_oid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("customer key type %s cannot be hashed", format_type_be(type)),
				 errhint("Use a key column of a type with a default hash operator class, or a view that casts it to one.")));
	return entry;
}

/* The hash and equality functions of the customer key type (key->type). */
static void
key_type_init(KeyType *key, Oid collation)
{
	Oid			type = key->type;
	TypeCacheEntry *entry = hashable_key_type(type);

	key->hash = &entry->hash_proc_finfo;
	key->equal = &entry->eq_opr_finfo;
	key->collation = collation;
	get_typlenbyval(type, &key->len, &key->byval);
	getTypeInputInfo(type, &key->input, &key->input_param);
}

/* Error unless the order time column's type is one whose days we know. */
static void
check_time_type(Oid time_type, const char *time_column)
{
	if (time_type != TIMESTAMPTZOID && time_type != TIMESTAMPOID && time_type != DATEOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("order time column \"%s\" has type %s", time_column, format_type_be(time_type)),
				 errhint("Use a timestamptz, timestamp or date column, or a view that casts to one.")));
}

/*
 * The end of the as-of day, as a value of the order time's type: orders
 * count when their time is before it.  A timestamptz day ends in the zone's
 * calendar (days.c).
 */
static Datum
as_of_day_end(Oid time_type, const char *time_column, DateADT as_of, text *zone)
{
	Datum		next_day = DateADTGetDatum(as_of + 1);

	check_time_type(time_type, time_column);
	if (time_type == TIMESTAMPTZOID)
		return TimestampTzGetDatum(day_start(as_of + 1, lookup_zone(zone)));
	if (time_type == TIMESTAMPOID)
		return DirectFunctionCall1(date_timestamp, next_day);
	return next_day;
}

/* A customer as its entry in the table holds it. */
static void
customer_from_entry(const CustomerEntry *entry, Customer *customer)
{
	customer->key = entry->key;
	customer->state = entry->state;
	customer->previous_stage = entry->previous_stage;
	customer->listed = entry->listed;
	customer->read = entry->read || entry->folded;
	customer->previous_fingerprint = entry->previous_fingerprint;
	customer->kept_state = NULL;
	customer->row = NULL;
	customer->row_nulls = NULL;
}

/* The customers of the table, in one array in mcxt. */
static Customer *
collect_customers(customers_hash *table, MemoryContext mcxt, int64 *count)
{
	Customer   *customers = MemoryContextAllocExtended(mcxt, Max(table->members, 1) * sizeof(Customer),
												   MCXT_ALLOC_HUGE);
	customers_iterator it;
	CustomerEntry *entry;
	int64		n = 0;

	customers_start_iterate(table, &it);
	while ((entry = customers_iterate(table, &it)) != NULL)
		customer_from_entry(entry, &customers[n++]);
	*count = n;
	return customers;
}

/*
 * The key type's equality operator, schema-qualified for a query run under
 * any search_path: OPERATOR(schema.=).
 */
static char *
key_equality_sql(const KeyType *key)
{
	Oid			operator = lookup_type_cache(key->type, TYPECACHE_EQ_OPR)->eq_opr;
	HeapTuple	tuple = SearchSysCache1(OPEROID, ObjectIdGetDatum(operator));
	Form_pg_operator form;
	char	   *sql;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for operator %u", operator);
	form = (Form_pg_operator) GETSTRUCT(tuple);
	sql = psprintf("OPERATOR(%s.%s)", quote_identifier(get_namespace_name(form->oprnamespace)),
				   NameStr(form->oprname));
	ReleaseSysCache(tuple);
	return sql;
}

/*
 * Run a statement that changes rows in the snapshot the scan's queries read
 * in (the caller's active snapshot), not a new one: it meets exactly the
 * rows they saw.  Its result, if any, is in SPI_tuptable.
 */
static void
execute_in_read_snapshot(const char *sql, int nargs, Oid *types, Datum *values)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);
	int			status;

	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	status = SPI_execute_snapshot(plan, values, NULL, GetActiveSnapshot(), InvalidSnapshot, false, false, 0);
	if (status < 0)
		elog(ERROR, "could not run \"%s\": %s", sql, SPI_result_code_string(status));
	SPI_freeplan(plan);
}

/*
 * Mark a customer whose orders changed, by its key as text: its orders are
 * read now, its previous summary not kept; the key joins *keys.
 */
static void
mark_changed_key(FactsScan *scan, Datum key_text, ArrayBuildState *keys)
{
	MemoryContext old = MemoryContextSwitchTo(scan->row_mcxt);
	bool		found;
	Datum		key;
	CustomerEntry *entry;

	key = OidInputFunctionCall(scan->key.input, TextDatumGetCString(key_text), scan->key.input_param, -1);
	entry = customers_insert(scan->customers, key, &found);
	if (!found)
		entry_init(scan, entry, key);
	entry->read = true;
	accumArrayResult(keys, key_text, false, TEXTOID, scan->mcxt);
	MemoryContextSwitchTo(old);
	MemoryContextReset(scan->row_mcxt);
}

/*
 * Mark the customers whose orders changed: those the refresh claimed
 * (source->changed), and those logged since, claimed here in the snapshot
 * the orders are read in, so that no customer's inserted rows are folded
 * into a summary its other changes have made stale.  Returns all their
 * keys, as text[]; *guests_changed: order rows without a customer changed
 * since.  A mark to read every order stays for the next refresh.
 */
static ArrayType *
mark_changed(FactsScan *scan, bool *guests_changed)
{
	ArrayBuildState *keys = initArrayResult(TEXTOID, scan->mcxt, false);
	ArrayIterator it = array_create_iterator(scan->source->changed, 0, NULL);
	Oid			type = TEXTOID;
	Datum		view = CStringGetTextDatum(scan->source->log_view);
	Datum		value;
	bool		isnull;

	while (array_iterate(it, &value, &isnull))
		if (!isnull)
			mark_changed_key(scan, value, keys);
	array_free_iterator(it);
	execute_in_read_snapshot("DELETE FROM lifecycle.order_changes c WHERE c.view_name OPERATOR(pg_catalog.=) $1"
							 " AND NOT c.full_read RETURNING c.customer", 1, &type, &view);
	*guests_changed = false;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		value = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		*guests_changed |= isnull;
		if (!isnull)
			mark_changed_key(scan, value, keys);
	}
	SPI_freetuptable(SPI_tuptable);
	return DatumGetArrayTypeP(makeArrayResult(keys, scan->mcxt));
}

/*
 * Count the order rows without a customer up to the end of the as-of day,
 * and see whether there are any after it.
 */
static void
count_guests(FactsScan *scan, Datum day_end)
{
	const char *time = quote_identifier(scan->source->time_column);
	char	   *sql = psprintf("SELECT pg_catalog.count(*) FILTER (WHERE x.%s OPERATOR(pg_catalog.<) $1),"
							   " pg_catalog.count(*) FILTER (WHERE x.%s OPERATOR(pg_catalog.>=) $1)"
							   " FROM %s x WHERE x.%s IS NULL", time, time,
							   relation_sql_name(scan->source->orders),
							   quote_identifier(scan->source->customer_column));
	bool		isnull;

	if (SPI_execute_with_args(sql, 1, &scan->time_type, &day_end, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not count the guest orders");
	scan->counts->guests = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	scan->future_guests = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)) > 0;
}

/*
 * Log the customers with orders after the as-of day as changed (and a NULL
 * customer for such orders without one), so that the refresh whose as-of
 * day reaches them reads their orders again.
 */
static void
log_future_customers(FactsScan *scan)
{
	ArrayBuildState *keys = initArrayResult(TEXTOID, scan->row_mcxt, false);
	customers_iterator it;
	CustomerEntry *entry;
	Oid			output;
	bool		varlena;
	Oid			types[2] = {TEXTOID, TEXTARRAYOID};
	Datum		values[2];

	getTypeOutputInfo(scan->key.type, &output, &varlena);
	customers_start_iterate(scan->customers, &it);
	while ((entry = customers_iterate(scan->customers, &it)) != NULL)
		if (entry->future)
		{
			scan->counts->future++;
			accumArrayResult(keys, CStringGetTextDatum(OidOutputFunctionCall(output, entry->key)),
							 false, TEXTOID, scan->row_mcxt);
		}
	if (scan->future_guests)
		accumArrayResult(keys, (Datum) 0, true, TEXTOID, scan->row_mcxt);
	if (scan->counts->future == 0 && !scan->future_guests)
		return;
	values[0] = CStringGetTextDatum(scan->source->log_view);
	values[1] = makeArrayResult(keys, scan->row_mcxt);
	if (SPI_execute_with_args("INSERT INTO lifecycle.order_changes (view_name, customer)"
							  " SELECT $1, pg_catalog.unnest($2)", 2, types, values, NULL, false, 0)
		!= SPI_OK_INSERT)
		elog(ERROR, "could not log the customers with orders after the as-of day");
	MemoryContextReset(scan->row_mcxt);
}

/*
 * The query of the order rows of a relation with the source's order
 * columns (the orders, or the view's log of inserted rows): customer, time,
 * amount, as SQL.
 */
static char *
order_rows_sql(const OrderSource *source, Oid relation)
{
	return psprintf("SELECT x.%s, x.%s, x.%s::pg_catalog.numeric FROM %s x",
					quote_identifier(source->customer_column), quote_identifier(source->time_column),
					quote_identifier(source->amount_column), relation_sql_name(relation));
}

/*
 * Empty the view's log of inserted order rows as the snapshot the orders
 * are read in sees it: the rows logged later stay for the next refresh.
 */
static void
empty_inserted_log(const OrderSource *source)
{
	if (OidIsValid(source->inserted))
		execute_in_read_snapshot(psprintf("DELETE FROM %s", relation_sql_name(source->inserted)), 0, NULL, NULL);
}

/* The keys of the customers relation, if there is one, into the scan's table. */
static void
scan_listed(FactsScan *scan)
{
	const OrderSource *source = scan->source;
	const char *key;

	if (!OidIsValid(source->customers))
		return;
	key = quote_identifier(source->customers_key);
	scan->rows = CUSTOMER_ROWS;
	scan_query(scan, psprintf("SELECT c.%s::%s FROM %s c WHERE c.%s IS NOT NULL", key,
							  format_type_be_qualified(scan->key.type), relation_sql_name(source->customers), key),
			   InvalidOid, (Datum) 0);
	batch_flush(scan);
}

/*
 * Whether the orders are a Citus table distributed by hash of the customer
 * key: each customer's orders are then on one worker.
 */
static bool
distributed_by_key(const OrderSource *source)
{
	Oid			types[2] = {OIDOID, TEXTOID};
	Datum		values[2] = {ObjectIdGetDatum(source->orders), CStringGetTextDatum(source->customer_column)};
	bool		isnull;

	if (!OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE)))
		return false;
	if (SPI_execute_with_args("SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p"
							  " WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1 AND p.partmethod OPERATOR(pg_catalog.=) 'h'"
							  " AND pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) OPERATOR(pg_catalog.=) $2)",
							  2, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up the distribution of the orders");
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Every customer's summary of its orders up to the end of the as-of day
 * ($1), computed where the orders are: GROUP BY the distribution column
 * runs on the workers, and one serialized state a customer reaches the
 * coordinator instead of every order row.  There are no guest orders:
 * Citus refuses a NULL distribution column.
 */
static void
scan_customer_states(FactsScan *scan, Datum day_end)
{
	const OrderSource *source = scan->source;
	const char *customer = quote_identifier(source->customer_column);
	const char *time = quote_identifier(source->time_column);
	const char *zone = scan->time_type == TIMESTAMPTZOID ?
		psprintf(", %s", quote_literal_cstr(text_to_cstring(source->time_zone))) : "";

	scan->rows = STATE_ROWS;
	scan_query(scan, psprintf("SELECT x.%1$s, lifecycle._rfm_state_agg(x.%2$s, x.%3$s::pg_catalog.numeric%4$s)"
							  " FROM %5$s x WHERE x.%2$s OPERATOR(pg_catalog.<) $1"
							  " GROUP BY x.%1$s", customer, time, quote_identifier(source->amount_column), zone,
							  relation_sql_name(source->orders)),
			   scan->time_type, day_end);
}

/*
 * Every order row, into the scan's table: those after the as-of day only
 * to log them again when the view logs its changes, those without a
 * customer counted as guests.
 */
static void
scan_orders(FactsScan *scan, Datum day_end)
{
	const OrderSource *source = scan->source;
	char	   *sql = order_rows_sql(source, source->orders);

	if (source->log_view == NULL)
		sql = psprintf("%s WHERE x.%s OPERATOR(pg_catalog.<) $1", sql, quote_identifier(source->time_column));
	scan->rows = ORDER_ROWS;
	scan_query(scan, sql, source->log_view == NULL ? scan->time_type : InvalidOid, day_end);
	batch_flush(scan);
}

/*
 * Every customer's orders (as order rows, or on a Citus table distributed
 * by the customer key as summaries made on the workers), the keys of the
 * customers relation, and the customer, stage and fingerprint of the
 * view's previous rows, into the scan's table.
 */
static void
scan_relations(FactsScan *scan, Datum day_end)
{
	const OrderSource *source = scan->source;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (source->log_view == NULL && distributed_by_key(source))
		scan_customer_states(scan, day_end);
	else
		scan_orders(scan, day_end);
	scan_listed(scan);
	if (OidIsValid(source->previous))
	{
		scan->rows = PREVIOUS_ROWS;
		scan_query(scan, psprintf("SELECT v.%s, v.stage::pg_catalog.text, v.fingerprint FROM %s v",
								  quote_identifier(source->customer_column), relation_sql_name(source->previous)),
				   InvalidOid, (Datum) 0);
	}
	empty_inserted_log(source);
	if (source->log_view != NULL)
		log_future_customers(scan);
	SPI_finish();
}

/* A scan of the source's relations into a new table of customers in mcxt. */
static void
scan_init(FactsScan *scan, const OrderSource *source, MemoryContext mcxt, CustomerCounts *counts, Datum *day_end)
{
	Oid			key_collation;

	memset(scan, 0, sizeof(FactsScan));
	scan->pub.receiveSlot = scan_receive;
	scan->pub.rStartup = scan_startup;
	scan->pub.rShutdown = scan_shutdown;
	scan->pub.rDestroy = scan_destroy;
	scan->pub.mydest = DestNone;
	scan->mcxt = mcxt;
	scan->source = source;
	memset(counts, 0, sizeof(CustomerCounts));
	scan->counts = counts;
	scan->batch_mcxt = AllocSetContextCreate(mcxt, "lifecycle order batch", ALLOCSET_DEFAULT_SIZES);
	scan->row_mcxt = AllocSetContextCreate(mcxt, "lifecycle order row", ALLOCSET_DEFAULT_SIZES);
	scan->key.type = column_type(source->orders, source->customer_column, &key_collation);
	scan->time_type = order_time_type(source);
	*day_end = as_of_day_end(scan->time_type, source->time_column, source->as_of, source->time_zone);
	if (scan->time_type == TIMESTAMPTZOID)
		scan->zone = lookup_zone(source->time_zone);
	key_type_init(&scan->key, key_collation);
	scan->customers = customers_create(mcxt, 1024, &scan->key);
}

/* The collation of the orders' customer key. */
Oid
order_source_key_collation(const OrderSource *source)
{
	Oid			collation;

	(void) column_type(source->orders, source->customer_column, &collation);
	return collation;
}

/* The type of the orders' customer key. */
Oid
order_source_key_type(const OrderSource *source)
{
	return column_type(source->orders, source->customer_column, NULL);
}

/* Error unless the current role may read the relation. */
static void
check_readable(Oid relid)
{
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", relation_sql_name(relid)),
				 errhint("A segment view reads the whole relation: its owner needs SELECT on it.")));
}

/*
 * Error unless the orders (and customers) relation can be read as the
 * source says: the current role may read them, the columns exist, the key
 * hashes, the order time is a date, timestamp or timestamptz (or a domain
 * over one) and the amount a number.  What creating, changing and
 * refreshing a segment view check (settings.c).
 */
void
order_source_check(const OrderSource *source)
{
	Oid			amount_type;

	check_readable(source->orders);
	hashable_key_type(order_source_key_type(source));
	check_time_type(order_time_type(source), source->time_column);
	amount_type = getBaseType(column_type(source->orders, source->amount_column, NULL));
	if (TypeCategory(amount_type) != TYPCATEGORY_NUMERIC)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("amount column \"%s\" has type %s", source->amount_column, format_type_be(amount_type)),
				 errhint("Use a numeric, integer or floating-point column, or a view that casts to one.")));
	if (OidIsValid(source->customers))
	{
		check_readable(source->customers);
		(void) column_type(source->customers, source->customers_key, NULL);
	}
}

/* The type of the orders' time column, looking through domains. */
Oid
order_time_type(const OrderSource *source)
{
	return getBaseType(column_type(source->orders, source->time_column, NULL));
}

/*
 * Every customer of the orders up to the end of the as-of day (and every key
 * of the customers relation, if given) with the rfm_agg state of its orders,
 * and its stage and fingerprint in source->previous if given, in one array;
 * keys, states and array live in mcxt.  *counts: the order rows read, those
 * without a customer, the customers with orders after the as-of day, the
 * previous rows.
 */
Customer *
read_customers(const OrderSource *source, MemoryContext mcxt, int64 *count, CustomerCounts *counts)
{
	FactsScan	scan;
	Datum		day_end;
	Customer   *customers;

	scan_init(&scan, source, mcxt, counts, &day_end);
	scan_relations(&scan, day_end);
	customers = collect_customers(scan.customers, mcxt, count);
	customers_destroy(scan.customers);
	MemoryContextDelete(scan.batch_mcxt);
	MemoryContextDelete(scan.row_mcxt);
	return customers;
}

/* The customers whose orders changed: a scan whose table holds only them. */
struct ChangedCustomers
{
	FactsScan	scan;
	char	   *stream_sql;		/* the view's customers, for stream_customers */
};

/*
 * The customers of source->changed (and those logged since) with the
 * summaries of their orders now (in mcxt), reading only their order rows,
 * and the other customers with rows in the view's log of inserted orders
 * with those rows' summaries, to fold into their kept ones; the guest
 * orders counted unless known; customers with orders after the as-of day
 * logged again.
 */
ChangedCustomers *
read_changed_customers(const OrderSource *source, MemoryContext mcxt, CustomerCounts *counts)
{
	ChangedCustomers *changed = MemoryContextAllocZero(mcxt, sizeof(ChangedCustomers));
	FactsScan  *scan = &changed->scan;
	const char *customer = quote_identifier(source->customer_column);
	const char *equal;
	Datum		day_end;
	ArrayType  *keys;
	bool		guests_changed;

	scan_init(scan, source, mcxt, counts, &day_end);
	equal = key_equality_sql(&scan->key);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	keys = mark_changed(scan, &guests_changed);
	if (OidIsValid(source->inserted))
	{
		scan->rows = INSERTED_ROWS;
		scan_query(scan, order_rows_sql(source, source->inserted), InvalidOid, (Datum) 0);
		batch_flush(scan);
	}
	/* a scan of every order row, unless no customer is listed */
	if (ArrayGetNItems(ARR_NDIM(keys), ARR_DIMS(keys)) > 0)
	{
		scan->rows = ORDER_ROWS;
		scan_query(scan, psprintf("%s WHERE x.%s %s ANY ($1::pg_catalog.text[]::%s[])",
								  order_rows_sql(source, source->orders), customer, equal,
								  format_type_be_qualified(scan->key.type)),
				   TEXTARRAYOID, PointerGetDatum(keys));
		batch_flush(scan);
	}
	empty_inserted_log(source);
	/* the guest orders of the log are counted already */
	if (source->known_guests >= 0 && !guests_changed)
		counts->guests += source->known_guests;
	else
		count_guests(scan, day_end);
	if (source->log_view != NULL)
		log_future_customers(scan);
	SPI_finish();
	/*
	 * the view's rows (every column, rows.h), and the keys of the customers
	 * relation without one
	 */
	if (OidIsValid(source->customers))
		changed->stream_sql =
			psprintf("SELECT coalesce(v.%1$s, c.k), v.*, c.k IS NOT NULL FROM %2$s v"
					 " FULL JOIN (SELECT DISTINCT x.%3$s::%4$s AS k FROM %5$s x"
					 " WHERE x.%3$s IS NOT NULL) c ON v.%1$s %6$s c.k",
					 customer, relation_sql_name(source->previous), quote_identifier(source->customers_key),
					 format_type_be_qualified(scan->key.type), relation_sql_name(source->customers), equal);
	else
		changed->stream_sql = psprintf("SELECT v.%s, v.*, false FROM %s v", customer,
									   relation_sql_name(source->previous));
	return changed;
}

/*
 * One pass over a view's customers: fn with each customer of its rows and
 * of the customers relation, with the summary of its orders if they
 * changed, else its row's; then with each changed customer not met (new to
 * the view).  Temporary allocations are freed after each customer.
 */
void
stream_customers(ChangedCustomers *changed, CustomerFn fn, void *arg)
{
	FactsScan  *scan = &changed->scan;
	customers_iterator it;
	CustomerEntry *entry;

	scan->counts->previous = 0;
	customers_start_iterate(scan->customers, &it);
	while ((entry = customers_iterate(scan->customers, &it)) != NULL)
		entry->seen = false;
	scan->stream_fn = fn;
	scan->stream_arg = arg;
	scan->rows = STREAM_ROWS;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	scan_query(scan, changed->stream_sql, InvalidOid, (Datum) 0);
	SPI_finish();
	customers_start_iterate(scan->customers, &it);
	while ((entry = customers_iterate(scan->customers, &it)) != NULL)
	{
		Customer	customer;
		MemoryContext old;

		if (entry->seen)
			continue;
		customer_from_entry(entry, &customer);
		old = MemoryContextSwitchTo(scan->row_mcxt);
		fn(arg, &customer);
		MemoryContextSwitchTo(old);
		MemoryContextReset(scan->row_mcxt);
	}
}
