/*
 * summary.c
 *	  The customer summary aggregate lifecycle.rfm_agg(order_time, amount).
 *
 * Owns the aggregate's state: its transition functions (one per order-time
 * type), combine, portable serialize/deserialize for parallel query and
 * Citus, and the final function that builds a lifecycle.rfm composite.  Also
 * the helpers other files use to read such a composite.
 *
 * A row with amount >= 0 (or NULL) is a purchase: it counts as an order and
 * its day is a purchase day.  A negative amount is a refund: it lowers net
 * monetary and counts as a refund, but is not activity.
 *
 * The state is one allocation: counts, exact money totals (money.c) and the
 * purchase-day set (dayset.c) inline behind them.  A hash aggregate over a
 * million customers touches one state per row, so every extra pointer
 * would be a cache miss per row; the state grows (and may move) when the
 * day set needs room, which is why the support functions return the state
 * they were given or its new place.  It grows to fill the allocator's
 * chunk (a power of two up to 8 kB, then by half): a state of a customer
 * with up to 10 purchase days takes 128 bytes, and one with a placeholder
 * day far from the rest takes what it would without it and 4 bytes.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "aggregate.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/typcache.h"

#include "compat.h"
#include "days.h"
#include "dayset.h"
#include "money.h"
#include "summary.h"

PG_MODULE_MAGIC;

/*
 * Version of the serialized state; bump on any change of layout.  2: the
 * day set as a window bitmap and sparse days (1 was a bitmap only).
 */
#define RFM_STATE_FORMAT	2

/* Allocations up to this size are rounded up to a power of two (aset.c). */
#define STATE_CHUNK_LIMIT	8192

/*
 * The fields a purchase row touches come last, next to the day set that
 * follows: most rows then touch one or two cache lines.
 */
struct RfmAggState
{
	int64		refunds;		/* refund rows */
	MoneySum	refunded;		/* total refunded, positive */
	MoneySum	first_day_spend;	/* value of the purchases on the first day */
	MoneySum	gross;			/* value of the purchases */
	int64		orders;			/* purchase rows */
	/* the purchase-day set follows, at state_days() */
};

/* Cached per call site: the zone of the last zone argument seen. */
typedef struct ZoneCache
{
	text	   *name;
	const pg_tz *zone;
} ZoneCache;

/* The state's purchase-day set, stored right behind its fixed fields. */
static inline DaySet *
state_days(RfmAggState *state)
{
	return (DaySet *) ((char *) state + MAXALIGN(sizeof(RfmAggState)));
}

/* Bytes of a state whose day set has room for that many slots. */
static inline Size
state_size(int32 room)
{
	return MAXALIGN(sizeof(RfmAggState)) + DAYSET_SIZE(room);
}

/*
 * Bytes to allocate for a state whose day set needs that much room: all of
 * the allocator's chunk below its limit, which it would round up to anyway,
 * and half as much again above (fewer moves as a big set grows).
 */
static inline Size
state_alloc_size(int32 room)
{
	Size		size = state_size(room);

	if (size <= STATE_CHUNK_LIMIT)
		return pg_nextpower2_size_t(size);
	return Max(size, Min(size + size / 2, MaxAllocSize));
}

/* The room for day slots of a state allocated with that many bytes. */
static inline int32
state_room(Size size)
{
	return DAYSET_ROOM(size - MAXALIGN(sizeof(RfmAggState)));
}

/* A fresh, empty state in mcxt, with room for at least that many day slots. */
static RfmAggState *
state_create(MemoryContext mcxt, int32 room)
{
	Size		size = state_alloc_size(room);
	RfmAggState *state = MemoryContextAllocZero(mcxt, size);

	dayset_init(state_days(state), state_room(size));
	return state;
}

/* A fresh, empty state in mcxt. */
RfmAggState *
rfm_state_create(MemoryContext mcxt)
{
	return state_create(mcxt, 0);
}

/*
 * Give the state's day set room for that many slots: returns the state,
 * moved if it had to grow (it stays in its memory context).
 */
static RfmAggState *
state_make_room(RfmAggState *state, int32 room)
{
	Size		size;

	if (room <= state_days(state)->room)
		return state;
	size = state_alloc_size(room);
	state = repalloc(state, size);
	state_days(state)->room = state_room(size);
	return state;
}

/* a + b, erroring rather than wrapping. */
static inline int64
add_count(int64 a, int64 b)
{
	int64		sum;

	if (pg_add_s64_overflow(a, b, &sum))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("order count out of range for one customer")));
	return sum;
}

/*
 * Fold one order row (its day, and its amount unless NULL) into the state;
 * returns the state, which may have moved.
 */
RfmAggState *
rfm_state_add(RfmAggState *state, DateADT day, const Amount *amount, MemoryContext mcxt)
{
	DaySet	   *days;
	int			against_first;

	if (amount != NULL && amount->negative)
	{
		Amount		refunded = *amount;

		state->refunds = add_count(state->refunds, 1);
		amount_negate(&refunded);
		money_add(&state->refunded, &refunded, mcxt);
		return state;
	}

	state->orders = add_count(state->orders, 1);
	days = state_days(state);
	against_first = dayset_cmp_first(days, day);
	if (against_first < 0)
		money_reset(&state->first_day_spend);	/* a new first day: its spend starts over */
	if (unlikely(!dayset_add(days, day)))
	{
		state = state_make_room(state, dayset_room_to_add(days));
		if (!dayset_add(state_days(state), day))
			elog(ERROR, "purchase-day set has no room after growing");
	}
	if (amount == NULL)
		return state;
	if (against_first <= 0)
		money_add(&state->first_day_spend, amount, mcxt);
	money_add(&state->gross, amount, mcxt);
	return state;
}

/*
 * The shared body of the transition functions: create the state on the first
 * row, skip rows without an order time, add the row.
 */
static Datum
transition(FunctionCallInfo fcinfo, DateADT day, bool time_isnull)
{
	MemoryContext mcxt = aggregate_context(fcinfo);
	RfmAggState *state = PG_ARGISNULL(0) ? NULL : (RfmAggState *) PG_GETARG_POINTER(0);
	Amount		amount;

	if (time_isnull)
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}
	if (!PG_ARGISNULL(2))
		amount_read(PG_GETARG_DATUM(2), &amount);
	if (state == NULL)
		state = state_create(mcxt, 0);
	PG_RETURN_POINTER(rfm_state_add(state, day, PG_ARGISNULL(2) ? NULL : &amount, mcxt));
}

PG_FUNCTION_INFO_V1(rfm_agg_trans_date);
/* Transition for rfm_agg(date, numeric). */
Datum
rfm_agg_trans_date(PG_FUNCTION_ARGS)
{
	bool		isnull = PG_ARGISNULL(1);

	return transition(fcinfo, isnull ? 0 : day_of_date(PG_GETARG_DATEADT(1)), isnull);
}

PG_FUNCTION_INFO_V1(rfm_agg_trans_timestamp);
/* Transition for rfm_agg(timestamp, numeric): the day is the timestamp's date. */
Datum
rfm_agg_trans_timestamp(PG_FUNCTION_ARGS)
{
	bool		isnull = PG_ARGISNULL(1);

	return transition(fcinfo, isnull ? 0 : day_of_timestamp(PG_GETARG_TIMESTAMP(1)), isnull);
}

PG_FUNCTION_INFO_V1(rfm_agg_trans_timestamptz);
/* Transition for rfm_agg(timestamptz, numeric): days in UTC. */
Datum
rfm_agg_trans_timestamptz(PG_FUNCTION_ARGS)
{
	bool		isnull = PG_ARGISNULL(1);

	return transition(fcinfo,
					  isnull ? 0 : day_of_timestamptz(PG_GETARG_TIMESTAMPTZ(1), NULL),
					  isnull);
}

/* The zone for a zone argument, looked up once per distinct name. */
static const pg_tz *
cached_zone(FunctionCallInfo fcinfo, text *name)
{
	ZoneCache  *cache = fcinfo->flinfo->fn_extra;

	if (cache != NULL && VARSIZE_ANY(cache->name) == VARSIZE_ANY(name) &&
		memcmp(cache->name, name, VARSIZE_ANY(name)) == 0)
		return cache->zone;
	if (cache == NULL)
		cache = fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ZoneCache));
	else
		pfree(cache->name);
	cache->zone = lookup_zone(name);
	cache->name = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, VARSIZE_ANY(name));
	memcpy(cache->name, name, VARSIZE_ANY(name));
	return cache->zone;
}

PG_FUNCTION_INFO_V1(rfm_agg_trans_timestamptz_zone);
/* Transition for rfm_agg(timestamptz, numeric, zone): days in that zone. */
Datum
rfm_agg_trans_timestamptz_zone(PG_FUNCTION_ARGS)
{
	bool		isnull = PG_ARGISNULL(1);

	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("time zone must not be NULL"),
				 errhint("Pass the zone whose calendar days count, e.g. 'UTC'.")));
	return transition(fcinfo,
					  isnull ? 0 : day_of_timestamptz(PG_GETARG_TIMESTAMPTZ(1),
													  cached_zone(fcinfo, PG_GETARG_TEXT_PP(3))),
					  isnull);
}

/*
 * Merge state "from" into state "into" (whose memory context mcxt is);
 * returns "into", which may have moved.  The summary of two sets of order
 * rows is the merge of their states: what parallel plans combine, and what
 * a segment view folds newly inserted orders into kept summaries with.
 */
RfmAggState *
rfm_state_merge(RfmAggState *into, RfmAggState *from, MemoryContext mcxt)
{
	DaySet	   *from_days = state_days(from);

	if (!dayset_empty(from_days))
	{
		int			against_first = dayset_cmp_first(state_days(into), dayset_first(from_days));

		if (against_first < 0)
			money_reset(&into->first_day_spend);
		if (against_first <= 0)
			money_add_sum(&into->first_day_spend, &from->first_day_spend, mcxt);
		if (dayset_empty(state_days(into)))
		{
			into = state_make_room(into, dayset_copy_room(from_days));
			dayset_copy(state_days(into), from_days);
		}
		else
		{
			DateADT		resume = dayset_first(from_days);

			while (!dayset_union(state_days(into), from_days, &resume))
				into = state_make_room(into, dayset_room_to_add(state_days(into)));
		}
	}
	into->orders = add_count(into->orders, from->orders);
	into->refunds = add_count(into->refunds, from->refunds);
	money_add_sum(&into->refunded, &from->refunded, mcxt);
	money_add_sum(&into->gross, &from->gross, mcxt);
	return into;
}

PG_FUNCTION_INFO_V1(rfm_agg_combine);
/*
 * Combine two partial states.  Not strict: either may be NULL (a worker that
 * saw no row for this customer), and a NULL first state gets a copy in the
 * aggregate context rather than a pointer into the second one.
 */
Datum
rfm_agg_combine(PG_FUNCTION_ARGS)
{
	MemoryContext mcxt = aggregate_context(fcinfo);
	RfmAggState *into = PG_ARGISNULL(0) ? NULL : (RfmAggState *) PG_GETARG_POINTER(0);
	RfmAggState *from;

	if (PG_ARGISNULL(1))
	{
		if (into == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(into);
	}
	from = (RfmAggState *) PG_GETARG_POINTER(1);
	if (into == NULL)
		into = state_create(mcxt, dayset_copy_room(state_days(from)));
	PG_RETURN_POINTER(rfm_state_merge(into, from, mcxt));
}

/*
 * A state as bytes: field by field in network byte order, behind a format
 * version byte, so that states can cross processes and machines, and be
 * kept between refreshes of a segment view.  Each part makes its room once
 * and writes its fields unchecked (pq_writeint*): a segment view
 * serializes every customer's state.
 */
bytea *
rfm_state_serialize(RfmAggState *state)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	enlargeStringInfo(&buf, 1 + 2 * sizeof(int64));
	pq_writeint8(&buf, RFM_STATE_FORMAT);
	pq_writeint64(&buf, state->orders);
	pq_writeint64(&buf, state->refunds);
	money_send(&buf, &state->gross);
	money_send(&buf, &state->refunded);
	money_send(&buf, &state->first_day_spend);
	dayset_send(&buf, state_days(state));
	return pq_endtypsend(&buf);
}

/*
 * Rebuild a state from rfm_state_serialize's bytes in mcxt, validating every
 * field (22P03 on anything malformed).
 */
RfmAggState *
rfm_state_deserialize(const bytea *bytes, MemoryContext mcxt)
{
	StringInfoData buf;
	int64		orders,
				refunds;
	MoneySum	gross,
				refunded,
				first_day_spend;
	RfmAggState *state;

	initReadOnlyStringInfo(&buf, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
	check_serialized_state(buf.len >= 1 + 8 + 8, "rfm_agg");
	check_serialized_state(pq_getmsgbyte(&buf) == RFM_STATE_FORMAT, "rfm_agg");
	orders = pq_getmsgint64(&buf);
	refunds = pq_getmsgint64(&buf);
	check_serialized_state(orders >= 0 && refunds >= 0, "rfm_agg");
	money_receive(&buf, &gross, mcxt);
	money_receive(&buf, &refunded, mcxt);
	money_receive(&buf, &first_day_spend, mcxt);
	state = state_create(mcxt, dayset_receive_room(&buf));
	state->orders = orders;
	state->refunds = refunds;
	state->gross = gross;
	state->refunded = refunded;
	state->first_day_spend = first_day_spend;
	dayset_receive(&buf, state_days(state));
	check_serialized_state((orders > 0) == !dayset_empty(state_days(state)) &&
						   dayset_count(state_days(state)) <= orders, "rfm_agg");
	check_serialized_state(buf.cursor == buf.len, "rfm_agg");
	return state;
}

PG_FUNCTION_INFO_V1(rfm_agg_serialize);
/* rfm_agg's serialize function: rfm_state_serialize. */
Datum
rfm_agg_serialize(PG_FUNCTION_ARGS)
{
	aggregate_context(fcinfo);
	PG_RETURN_BYTEA_P(rfm_state_serialize((RfmAggState *) PG_GETARG_POINTER(0)));
}

PG_FUNCTION_INFO_V1(rfm_agg_deserialize);
/*
 * rfm_agg's deserialize function.  The state lives in the current
 * (per-input-row) memory context, as the built-in deserialize functions'
 * do: it is only read by the combine function, which copies what it keeps
 * into the aggregate context.
 */
Datum
rfm_agg_deserialize(PG_FUNCTION_ARGS)
{
	aggregate_context(fcinfo);
	PG_RETURN_POINTER(rfm_state_deserialize(PG_GETARG_BYTEA_PP(0), CurrentMemoryContext));
}

/*
 * The days of the summary a state stands for; false when no row counted at
 * all.  A customer with only refunds has no purchase days (and no first,
 * last or previous day).
 */
bool
rfm_state_days(RfmAggState *state, RfmDays *days)
{
	DaySet	   *set = state_days(state);

	if (state->orders == 0 && state->refunds == 0)
		return false;
	memset(days, 0, sizeof(RfmDays));
	days->orders = state->orders;
	days->purchase_days = dayset_count(set);
	if (state->orders > 0)
	{
		days->first_purchase = dayset_first(set);
		days->last_purchase = dayset_last(set);
		if (!dayset_previous(set, days->last_purchase, &days->previous_purchase))
			days->previous_purchase = 0;
	}
	return true;
}

/* The purchase day before a day, if the state has one. */
bool
rfm_state_day_before(RfmAggState *state, DateADT day, DateADT *before)
{
	return dayset_previous(state_days(state), day, before);
}

/* The net monetary value of a state's orders: gross - refunded. */
Numeric
rfm_state_monetary(RfmAggState *state)
{
	/* no refund rows: nothing refunded, monetary is gross */
	if (state->refunds == 0)
		return money_total(&state->gross);
	return money_difference(&state->gross, &state->refunded);
}

/*
 * The facts of the summary a state stands for, in the current memory
 * context; false when no row counted at all.  The repeat purchase days'
 * spend is one subtraction of exact totals (money.c), not two numerics and
 * a numeric subtraction: a segment view computes it for every customer.
 */
bool
rfm_state_facts(RfmAggState *state, RfmFacts *facts)
{
	if (!rfm_state_days(state, &facts->days))
		return false;
	facts->refunds = state->refunds;
	facts->gross = money_total(&state->gross);
	facts->monetary = state->refunds == 0 ? facts->gross : rfm_state_monetary(state);
	facts->refunded = money_total(&state->refunded);
	facts->repeat_spend = facts->days.purchase_days >= 2 ?
		money_difference(&state->gross, &state->first_day_spend) : NULL;
	return true;
}

PG_FUNCTION_INFO_V1(rfm_agg_final);
/*
 * Build the lifecycle.rfm composite.  NULL when no row counted at all; a
 * customer with only refunds gets a summary with no purchase days.
 */
Datum
rfm_agg_final(PG_FUNCTION_ARGS)
{
	RfmFacts	facts;
	Datum		values[RFM_NATTS];
	bool		nulls[RFM_NATTS] = {0};
	RfmAggState *state;

	aggregate_context(fcinfo);
	state = PG_ARGISNULL(0) ? NULL : (RfmAggState *) PG_GETARG_POINTER(0);
	if (state == NULL || !rfm_state_facts(state, &facts))
		PG_RETURN_NULL();
	nulls[RFM_FIRST_PURCHASE - 1] = nulls[RFM_LAST_PURCHASE - 1] = facts.days.purchase_days == 0;
	nulls[RFM_PREVIOUS_PURCHASE - 1] = facts.days.purchase_days < 2;
	values[RFM_FIRST_PURCHASE - 1] = DateADTGetDatum(facts.days.first_purchase);
	values[RFM_LAST_PURCHASE - 1] = DateADTGetDatum(facts.days.last_purchase);
	values[RFM_PREVIOUS_PURCHASE - 1] = DateADTGetDatum(facts.days.previous_purchase);
	values[RFM_ORDERS - 1] = Int64GetDatum(facts.days.orders);
	values[RFM_PURCHASE_DAYS - 1] = Int32GetDatum(facts.days.purchase_days);
	values[RFM_MONETARY - 1] = NumericGetDatum(facts.monetary);
	values[RFM_GROSS - 1] = NumericGetDatum(facts.gross);
	values[RFM_REFUNDS - 1] = Int64GetDatum(facts.refunds);
	values[RFM_REFUNDED - 1] = NumericGetDatum(facts.refunded);
	values[RFM_FIRST_DAY_SPEND - 1] = NumericGetDatum(money_total(&state->first_day_spend));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(result_desc(fcinfo), values, nulls)));
}

/*
 * The blessed descriptor of a function's composite result, looked up once
 * per call site and kept in fn_extra: these functions run once per customer.
 * The function must not use fn_extra for anything else.
 */
TupleDesc
result_desc(FunctionCallInfo fcinfo)
{
	TupleDesc	desc = fcinfo->flinfo->fn_extra;

	if (desc == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "function returning a record called in a context that cannot accept one");
		desc = BlessTupleDesc(CreateTupleDescCopy(desc));
		fcinfo->flinfo->fn_extra = desc;
		MemoryContextSwitchTo(old);
	}
	return desc;
}

/*
 * The fields of a lifecycle.rfm composite, deformed in one pass (the row
 * type is looked up once, not once a field as GetAttributeByNum would).
 */
static void
rfm_deform(HeapTupleHeader summary, Datum *values, bool *nulls)
{
	TupleDesc	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(summary),
											  HeapTupleHeaderGetTypMod(summary));
	HeapTupleData tuple;

	if (desc->natts != RFM_NATTS)
		elog(ERROR, "lifecycle.rfm has %d attributes, expected %d", desc->natts, RFM_NATTS);
	tuple.t_len = HeapTupleHeaderGetDatumLength(summary);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = summary;
	heap_deform_tuple(&tuple, desc, values, nulls);
	ReleaseTupleDesc(desc);
}

/* Read the day facts of a lifecycle.rfm composite, checking they fit. */
void
rfm_read_days(HeapTupleHeader summary, RfmDays *days)
{
	Datum		values[RFM_NATTS];
	bool		nulls[RFM_NATTS];

	rfm_deform(summary, values, nulls);
	memset(days, 0, sizeof(RfmDays));
	days->purchase_days = nulls[RFM_PURCHASE_DAYS - 1] ? 0 : DatumGetInt32(values[RFM_PURCHASE_DAYS - 1]);
	days->orders = nulls[RFM_ORDERS - 1] ? 0 : DatumGetInt64(values[RFM_ORDERS - 1]);
	if (days->purchase_days < 0 || days->orders < days->purchase_days)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("inconsistent customer summary"),
				 errdetail("A summary has %d purchase days but " INT64_FORMAT " orders.",
						   days->purchase_days, days->orders),
				 errhint("Build summaries with lifecycle.rfm_agg.")));
	if (days->purchase_days == 0)
		return;
	days->first_purchase = DatumGetDateADT(values[RFM_FIRST_PURCHASE - 1]);
	days->last_purchase = DatumGetDateADT(values[RFM_LAST_PURCHASE - 1]);
	days->previous_purchase = DatumGetDateADT(values[RFM_PREVIOUS_PURCHASE - 1]);
	if (nulls[RFM_FIRST_PURCHASE - 1] || nulls[RFM_LAST_PURCHASE - 1] ||
		DATE_NOT_FINITE(days->first_purchase) || DATE_NOT_FINITE(days->last_purchase) ||
		days->first_purchase > days->last_purchase ||
		(days->purchase_days >= 2 && (nulls[RFM_PREVIOUS_PURCHASE - 1] ||
									  DATE_NOT_FINITE(days->previous_purchase) ||
									  days->previous_purchase < days->first_purchase ||
									  days->previous_purchase >= days->last_purchase)) ||
		(days->purchase_days == 1 && days->first_purchase != days->last_purchase))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("inconsistent customer summary"),
				 errdetail("Its purchase days do not fit its first, previous and last purchase."),
				 errhint("Build summaries with lifecycle.rfm_agg.")));
}

/* Read a numeric attribute of a lifecycle.rfm composite; NULL if NULL. */
Numeric
rfm_read_numeric(HeapTupleHeader summary, int attnum)
{
	Datum		values[RFM_NATTS];
	bool		nulls[RFM_NATTS];

	Assert(attnum >= 1 && attnum <= RFM_NATTS);
	rfm_deform(summary, values, nulls);
	return nulls[attnum - 1] ? NULL : DatumGetNumeric(values[attnum - 1]);
}
