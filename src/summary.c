/*
 * summary.c
 *	  The customer summary aggregate lifecycle.rfm_agg(order_time, amount).
 *
 * Owns the aggregate's state, the type lifecycle.rfm_state: its transition
 * functions (one per order-time type), combine, its portable, versioned
 * serialization (the type's text and binary forms, which Citus passes from
 * its workers), and the final function that builds a lifecycle.rfm
 * composite.  Also the helpers other files use to read such a composite.
 *
 * A row with amount >= 0 (or NULL) is a purchase: it counts as an order and
 * its day is a purchase day.  A negative amount is a refund: it lowers net
 * monetary and counts as a refund, but is not activity.
 *
 * The state is one flat allocation, a varlena: counts, exact money totals
 * (money.c) and the purchase-day set (dayset.c) inline behind them.  A hash
 * aggregate over a million customers touches one state per row, so every
 * extra pointer would be a cache miss per row; and a state that is not
 * internal, without pointers, is what Citus and parallel workers can pass
 * on as it is.  The state is changed in place; when the day set needs room
 * it is copied to a bigger one, which is why the support functions return
 * the state they were given or its new place.  It grows to fill the
 * allocator's chunk (a power of two up to 8 kB, then by half): a state of a
 * customer with up to 8 purchase days takes 128 bytes, and one with a
 * placeholder day far from the rest takes what it would without it and 4
 * bytes.
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

/*
 * Version of the state's layout in memory (what parallel workers hand to
 * their leader as is); bump on any change of struct RfmAggState.
 */
#define RFM_STATE_LAYOUT	1

/* Allocations up to this size are rounded up to a power of two (aset.c). */
#define STATE_CHUNK_LIMIT	8192

/* The state's money totals. */
typedef enum Total
{
	REFUNDED,					/* total refunded, positive */
	FIRST_DAY_SPEND,			/* value of the purchases on the first day */
	GROSS,						/* value of the purchases */
	NTOTALS
} Total;

/*
 * The state is a varlena value of type lifecycle.rfm_state, flat: it holds
 * no pointer, so PostgreSQL can copy it as bytes (a parallel worker hands
 * its partial states to the leader that way).  A total that outgrew int64
 * (money.h's MONEY_BIG) keeps its numeric inside the state, after the day
 * set's room, and its total.units is that numeric's offset from the start
 * of the state; state_total() gives money.c's form.  The fields a purchase
 * row touches come last, next to the day set that follows: most rows then
 * touch one or two cache lines.
 */
struct RfmAggState
{
	int32		vl_len_;		/* varlena header: every byte of the state */
	int32		layout;			/* RFM_STATE_LAYOUT */
	int64		refunds;		/* refund rows */
	MoneySum	totals[NTOTALS];
	int64		orders;			/* purchase rows */
	/* the purchase-day set follows, at state_days(); then big totals */
};

/* Cached per call site: the zone of the last zone argument seen. */
typedef struct ZoneCache
{
	text	   *name;
	const pg_tz *zone;
} ZoneCache;

/* Where the state's purchase-day set starts, right behind its fixed fields. */
#define STATE_DAYS_AT	MAXALIGN(sizeof(RfmAggState))

/* The state's purchase-day set. */
static inline DaySet *
state_days(RfmAggState *state)
{
	return (DaySet *) ((char *) state + STATE_DAYS_AT);
}

/* Bytes of a state whose day set has room for that many slots, before any big total. */
static inline Size
state_size(int32 room)
{
	return MAXALIGN(STATE_DAYS_AT + DAYSET_SIZE(room));
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

/* The room for day slots of a state of that many bytes without big totals. */
static inline int32
state_room(Size size)
{
	return DAYSET_ROOM(size - STATE_DAYS_AT);
}

/* One of the state's totals in money.c's form: a big one's numeric is in the state. */
static inline MoneySum
state_total(const RfmAggState *state, Total which)
{
	MoneySum	sum = state->totals[which];

	if (sum.scale == MONEY_BIG)
		sum.total.big = (Numeric) ((const char *) state + state->totals[which].total.units);
	return sum;
}

/*
 * A new state in mcxt: the counts and days of "from" (none if NULL), its
 * day set with room for at least that many slots, and the given totals in
 * money.c's form, a big one's numeric copied in.  Every move of a state
 * goes through here; the old state is left to its owner to free (an
 * aggregate's, PostgreSQL frees when it takes the new one).
 */
static RfmAggState *
state_build(RfmAggState *from, int32 room, const MoneySum *totals, MemoryContext mcxt)
{
	Size		big_bytes = 0;
	Size		size;
	RfmAggState *state;
	char	   *big;

	for (int i = 0; i < NTOTALS; i++)
		if (totals[i].scale == MONEY_BIG)
			big_bytes += MAXALIGN(VARSIZE(totals[i].total.big));
	size = big_bytes == 0 ? state_alloc_size(room) : state_size(room) + big_bytes;
	if (size > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("summary state of one customer would exceed %zu bytes", (Size) MaxAllocSize)));
	state = MemoryContextAllocZero(mcxt, size);
	SET_VARSIZE(state, size);
	state->layout = RFM_STATE_LAYOUT;
	if (big_bytes == 0)
		room = state_room(size);
	dayset_init(state_days(state), room);
	if (from != NULL)
	{
		state->orders = from->orders;
		state->refunds = from->refunds;
		if (!dayset_empty(state_days(from)))
			dayset_copy(state_days(state), state_days(from));
	}
	big = (char *) state + state_size(room);
	for (int i = 0; i < NTOTALS; i++)
	{
		state->totals[i] = totals[i];
		if (totals[i].scale != MONEY_BIG)
			continue;
		memcpy(big, totals[i].total.big, VARSIZE(totals[i].total.big));
		state->totals[i].total.units = big - (char *) state;
		big += MAXALIGN(VARSIZE(totals[i].total.big));
	}
	return state;
}

/* The state's totals in money.c's form (big ones' numerics read in place). */
static void
state_totals(const RfmAggState *state, MoneySum *totals)
{
	for (int i = 0; i < NTOTALS; i++)
		totals[i] = state_total(state, i);
}

/* A fresh, empty state in mcxt. */
RfmAggState *
rfm_state_create(MemoryContext mcxt)
{
	MoneySum	zero[NTOTALS] = {0};

	return state_build(NULL, 0, zero, mcxt);
}

/*
 * Give the state's day set room for that many slots: returns the state, or
 * its copy in mcxt with the room.
 */
static RfmAggState *
state_make_room(RfmAggState *state, int32 room, MemoryContext mcxt)
{
	MoneySum	totals[NTOTALS];

	if (room <= state_days(state)->room)
		return state;
	state_totals(state, totals);
	return state_build(state, room, totals, mcxt);
}

/*
 * Add an amount to one of the state's totals: in place, or (a total beyond
 * int64) in a copy in mcxt that holds the new numeric.
 */
static inline RfmAggState *
state_add_money(RfmAggState *state, Total which, const Amount *amount, MemoryContext mcxt)
{
	MoneySum	totals[NTOTALS];

	if (likely(money_add_units(&state->totals[which], amount)))
		return state;
	state_totals(state, totals);
	/* money_add replaces a big total's numeric: give it one it may free */
	if (totals[which].scale == MONEY_BIG)
		totals[which].total.big = DatumGetNumericCopy(NumericGetDatum(totals[which].total.big));
	money_add(&totals[which], amount, CurrentMemoryContext);
	state = state_build(state, state_days(state)->room, totals, mcxt);
	if (totals[which].scale == MONEY_BIG)
		pfree(totals[which].total.big);
	return state;
}

/*
 * The state after a step that may have copied it.  A copy made earlier in
 * the same call ("state" is not the caller's "given") is freed when it is
 * replaced, so that a call leaves the caller at most one new state.
 */
static inline RfmAggState *
step(const RfmAggState *given, RfmAggState *state, RfmAggState *next)
{
	if (next != state && state != given)
		pfree(state);
	return next;
}

/* Add one state's total to another's (see state_add_money). */
static RfmAggState *
state_add_total(RfmAggState *into, const RfmAggState *from, Total which, MemoryContext mcxt)
{
	MoneySum	sum = state_total(from, which);
	Amount		amount;

	money_as_amount(&sum, &amount);
	return state_add_money(into, which, &amount, mcxt);
}

/* Set a total back to 0 (a big one's numeric stays unused until the state moves). */
static inline void
state_reset_total(RfmAggState *state, Total which)
{
	memset(&state->totals[which], 0, sizeof(MoneySum));
}

/* Reject a state in another layout (a stored value from another version). */
static void
check_layout(const RfmAggState *state)
{
	if (state->layout != RFM_STATE_LAYOUT || VARSIZE(state) < state_size(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("rfm_agg state in an unknown layout"),
				 errdetail("The state was made by another version of lifecycle."),
				 errhint("Keep a state across versions in its serialized form (lifecycle.rfm_state_send).")));
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
 * returns the state, or its copy in mcxt when it had to grow.
 */
RfmAggState *
rfm_state_add(RfmAggState *state, DateADT day, const Amount *amount, MemoryContext mcxt)
{
	RfmAggState *given = state;
	DaySet	   *days;
	int			against_first;

	if (amount != NULL && amount->negative)
	{
		Amount		refunded = *amount;

		state->refunds = add_count(state->refunds, 1);
		amount_negate(&refunded);
		return state_add_money(state, REFUNDED, &refunded, mcxt);
	}

	state->orders = add_count(state->orders, 1);
	days = state_days(state);
	against_first = dayset_cmp_first(days, day);
	if (against_first < 0)
		state_reset_total(state, FIRST_DAY_SPEND);	/* a new first day: its spend starts over */
	if (unlikely(!dayset_add(days, day)))
	{
		state = state_make_room(state, dayset_room_to_add(days), mcxt);
		if (!dayset_add(state_days(state), day))
			elog(ERROR, "purchase-day set has no room after growing");
	}
	if (amount == NULL)
		return state;
	if (against_first <= 0)
		state = step(given, state, state_add_money(state, FIRST_DAY_SPEND, amount, mcxt));
	return step(given, state, state_add_money(state, GROSS, amount, mcxt));
}

/*
 * Where a new or moved state goes, and whether the state it replaces is the
 * function's to free.  A state of type lifecycle.rfm_state is made in the
 * per-row memory context; PostgreSQL copies it into the aggregate's and
 * frees the one it replaces.  A state declared internal (lifecycle 1.0's
 * SQL objects, until ALTER EXTENSION UPDATE: the library serves both) is a
 * pointer PostgreSQL keeps as is, so it lives in the aggregate context and
 * the function frees what it replaces.  Citus calls the transition function
 * without the declared types; it uses rfm_state.
 */
typedef struct StateHome
{
	MemoryContext mcxt;
	bool		owned;
} StateHome;

static StateHome
state_home(FunctionCallInfo fcinfo)
{
	MemoryContext aggregate_mcxt = aggregate_context(fcinfo);
	StateHome	home = {CurrentMemoryContext, false};

	if (get_fn_expr_argtype(fcinfo->flinfo, 0) == INTERNALOID)
	{
		home.mcxt = aggregate_mcxt;
		home.owned = true;
	}
	return home;
}

/* The state that replaces "old": freed if the function owns it (see StateHome). */
static Datum
replace_state(StateHome home, RfmAggState *old, RfmAggState *state)
{
	if (home.owned && old != NULL && old != state)
		pfree(old);
	PG_RETURN_POINTER(state);
}

/*
 * The shared body of the transition functions: create the state on the first
 * row, skip rows without an order time, add the row.  The state is changed
 * in place, or replaced by a new one (see StateHome).
 */
static Datum
transition(FunctionCallInfo fcinfo, DateADT day, bool time_isnull)
{
	StateHome	home = state_home(fcinfo);
	RfmAggState *state = PG_ARGISNULL(0) ? NULL : (RfmAggState *) PG_GETARG_POINTER(0);
	RfmAggState *old = state;
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
		state = rfm_state_create(home.mcxt);
	state = rfm_state_add(state, day, PG_ARGISNULL(2) ? NULL : &amount, home.mcxt);
	return replace_state(home, old, state);
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
 * Merge state "from" into state "into"; returns "into", or its copy in mcxt
 * when it had to grow.  The summary of two sets of order rows is the merge
 * of their states: what parallel plans and Citus combine, and what a segment
 * view folds newly inserted orders into kept summaries with.
 */
RfmAggState *
rfm_state_merge(RfmAggState *into, RfmAggState *from, MemoryContext mcxt)
{
	RfmAggState *given = into;
	DaySet	   *from_days = state_days(from);

	if (!dayset_empty(from_days))
	{
		int			against_first = dayset_cmp_first(state_days(into), dayset_first(from_days));

		if (against_first < 0)
			state_reset_total(into, FIRST_DAY_SPEND);
		if (against_first <= 0)
			into = state_add_total(into, from, FIRST_DAY_SPEND, mcxt);
		if (dayset_empty(state_days(into)))
		{
			into = step(given, into, state_make_room(into, dayset_copy_room(from_days), mcxt));
			dayset_copy(state_days(into), from_days);
		}
		else
		{
			DateADT		resume = dayset_first(from_days);

			while (!dayset_union(state_days(into), from_days, &resume))
				into = step(given, into, state_make_room(into, dayset_room_to_add(state_days(into)), mcxt));
		}
	}
	into->orders = add_count(into->orders, from->orders);
	into->refunds = add_count(into->refunds, from->refunds);
	into = step(given, into, state_add_total(into, from, REFUNDED, mcxt));
	return step(given, into, state_add_total(into, from, GROSS, mcxt));
}

PG_FUNCTION_INFO_V1(rfm_agg_combine);
/*
 * Combine two partial states (from parallel workers, or from Citus workers
 * through the type's input function).  Not strict: either may be NULL (a
 * worker that saw no row for this customer); for a NULL first state of
 * type rfm_state the second is returned, and PostgreSQL copies it into the
 * aggregate context.
 */
Datum
rfm_agg_combine(PG_FUNCTION_ARGS)
{
	StateHome	home = state_home(fcinfo);
	RfmAggState *into = PG_ARGISNULL(0) ? NULL : (RfmAggState *) PG_GETARG_POINTER(0);
	RfmAggState *old = into;
	RfmAggState *from;

	if (PG_ARGISNULL(1))
	{
		if (into == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(into);
	}
	from = (RfmAggState *) PG_GETARG_POINTER(1);
	check_layout(from);
	if (into == NULL && !home.owned)
		PG_RETURN_POINTER(from);
	if (into == NULL)
		into = rfm_state_create(home.mcxt);
	return replace_state(home, old, rfm_state_merge(into, from, home.mcxt));
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
	MoneySum	totals[NTOTALS];

	state_totals(state, totals);
	pq_begintypsend(&buf);
	enlargeStringInfo(&buf, 1 + 2 * sizeof(int64));
	pq_writeint8(&buf, RFM_STATE_FORMAT);
	pq_writeint64(&buf, state->orders);
	pq_writeint64(&buf, state->refunds);
	money_send(&buf, &totals[GROSS]);
	money_send(&buf, &totals[REFUNDED]);
	money_send(&buf, &totals[FIRST_DAY_SPEND]);
	dayset_send(&buf, state_days(state));
	return pq_endtypsend(&buf);
}

/*
 * Rebuild a state in mcxt from rfm_state_serialize's bytes (len of them at
 * data), validating every field (22P03 on anything malformed).
 */
static RfmAggState *
state_deserialize(const char *data, int len, MemoryContext mcxt)
{
	StringInfoData buf;
	int64		orders,
				refunds;
	MoneySum	totals[NTOTALS];
	RfmAggState *state;

	initReadOnlyStringInfo(&buf, (char *) data, len);
	check_serialized_state(buf.len >= 1 + 8 + 8, "rfm_agg");
	check_serialized_state(pq_getmsgbyte(&buf) == RFM_STATE_FORMAT, "rfm_agg");
	orders = pq_getmsgint64(&buf);
	refunds = pq_getmsgint64(&buf);
	check_serialized_state(orders >= 0 && refunds >= 0, "rfm_agg");
	money_receive(&buf, &totals[GROSS], CurrentMemoryContext);
	money_receive(&buf, &totals[REFUNDED], CurrentMemoryContext);
	money_receive(&buf, &totals[FIRST_DAY_SPEND], CurrentMemoryContext);
	state = state_build(NULL, dayset_receive_room(&buf), totals, mcxt);
	state->orders = orders;
	state->refunds = refunds;
	dayset_receive(&buf, state_days(state));
	check_serialized_state((orders > 0) == !dayset_empty(state_days(state)) &&
						   dayset_count(state_days(state)) <= orders, "rfm_agg");
	check_serialized_state(buf.cursor == buf.len, "rfm_agg");
	return state;
}

/* rfm_state_serialize's bytes as a state in mcxt (see state_deserialize). */
RfmAggState *
rfm_state_deserialize(const bytea *bytes, MemoryContext mcxt)
{
	return state_deserialize(VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes), mcxt);
}

PG_FUNCTION_INFO_V1(rfm_agg_serialize);
/* The serialize function of lifecycle 1.0's internal state (see StateHome). */
Datum
rfm_agg_serialize(PG_FUNCTION_ARGS)
{
	aggregate_context(fcinfo);
	PG_RETURN_BYTEA_P(rfm_state_serialize((RfmAggState *) PG_GETARG_POINTER(0)));
}

PG_FUNCTION_INFO_V1(rfm_agg_deserialize);
/*
 * The deserialize function of lifecycle 1.0's internal state.  The state
 * lives in the per-row memory context: only the combine function reads it.
 */
Datum
rfm_agg_deserialize(PG_FUNCTION_ARGS)
{
	aggregate_context(fcinfo);
	PG_RETURN_POINTER(rfm_state_deserialize(PG_GETARG_BYTEA_PP(0), CurrentMemoryContext));
}

PG_FUNCTION_INFO_V1(rfm_state_in);
/*
 * Text input of lifecycle.rfm_state: the serialized state in hex behind
 * "\x", as rfm_state_out writes it (Citus passes partial states this way),
 * validated.
 */
Datum
rfm_state_in(PG_FUNCTION_ARGS)
{
	char	   *text = PG_GETARG_CSTRING(0);
	size_t		len = strlen(text);
	char	   *bytes;

	if (len < 2 || text[0] != '\\' || text[1] != 'x' || len % 2 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type lifecycle.rfm_state"),
				 errdetail("A state is written as \\x and an even number of hex digits.")));
	bytes = palloc((len - 2) / 2 + 1);
	len = hex_decode(text + 2, len - 2, bytes);
	PG_RETURN_POINTER(state_deserialize(bytes, len, CurrentMemoryContext));
}

PG_FUNCTION_INFO_V1(rfm_state_out);
/* Text output of lifecycle.rfm_state: the serialized state in hex behind "\x". */
Datum
rfm_state_out(PG_FUNCTION_ARGS)
{
	RfmAggState *state = (RfmAggState *) PG_GETARG_POINTER(0);
	bytea	   *bytes;
	Size		len;
	char	   *text;

	check_layout(state);
	bytes = rfm_state_serialize(state);
	len = VARSIZE(bytes) - VARHDRSZ;
	text = palloc(2 * len + 3);
	text[0] = '\\';
	text[1] = 'x';
	text[2 + hex_encode(VARDATA(bytes), len, text + 2)] = '\0';
	PG_RETURN_CSTRING(text);
}

PG_FUNCTION_INFO_V1(rfm_state_recv);
/* Binary input of lifecycle.rfm_state: the serialized state, validated. */
Datum
rfm_state_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			len = buf->len - buf->cursor;

	PG_RETURN_POINTER(state_deserialize(pq_getmsgbytes(buf, len), len, CurrentMemoryContext));
}

PG_FUNCTION_INFO_V1(rfm_state_send);
/*
 * Binary output of lifecycle.rfm_state: the serialized state (also the
 * final function of lifecycle._rfm_state_agg, which a segment view keeps).
 */
Datum
rfm_state_send(PG_FUNCTION_ARGS)
{
	RfmAggState *state = (RfmAggState *) PG_GETARG_POINTER(0);

	check_layout(state);
	PG_RETURN_BYTEA_P(rfm_state_serialize(state));
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
	MoneySum	gross = state_total(state, GROSS);
	MoneySum	refunded;

	/* no refund rows: nothing refunded, monetary is gross */
	if (state->refunds == 0)
		return money_total(&gross);
	refunded = state_total(state, REFUNDED);
	return money_difference(&gross, &refunded);
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
	MoneySum	totals[NTOTALS];

	if (!rfm_state_days(state, &facts->days))
		return false;
	state_totals(state, totals);
	facts->refunds = state->refunds;
	facts->gross = money_total(&totals[GROSS]);
	facts->monetary = state->refunds == 0 ? facts->gross : rfm_state_monetary(state);
	facts->refunded = money_total(&totals[REFUNDED]);
	facts->repeat_spend = facts->days.purchase_days >= 2 ?
		money_difference(&totals[GROSS], &totals[FIRST_DAY_SPEND]) : NULL;
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
	MoneySum	first_day_spend;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (RfmAggState *) PG_GETARG_POINTER(0);
	check_layout(state);
	if (!rfm_state_facts(state, &facts))
		PG_RETURN_NULL();
	first_day_spend = state_total(state, FIRST_DAY_SPEND);
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
	values[RFM_FIRST_DAY_SPEND - 1] = NumericGetDatum(money_total(&first_day_spend));
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
