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
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "compat.h"
#include "days.h"
#include "dayset.h"
#include "summary.h"

PG_MODULE_MAGIC;

/* Version of the serialized state; bump on any change of layout. */
#define RFM_STATE_FORMAT	1

typedef struct RfmAggState
{
	int64		orders;			/* purchase rows */
	int64		refunds;		/* refund rows */
	DaySet		days;			/* purchase days */
	void	   *gross;			/* PostgreSQL's own numeric sum state, or NULL */
	Numeric		refunded;		/* total refunded, positive; NULL if none */
	Numeric		first_day_spend;	/* known spend on the first day, or NULL */
} RfmAggState;

/* Cached per call site: the zone of the last zone argument seen. */
typedef struct ZoneCache
{
	text	   *name;
	const pg_tz *zone;
} ZoneCache;

/* The aggregate's memory context; errors outside an aggregate. */
static MemoryContext
agg_context(FunctionCallInfo fcinfo)
{
	MemoryContext mcxt;

	if (!AggCheckCallContext(fcinfo, &mcxt))
		elog(ERROR, "rfm_agg support function called in non-aggregate context");
	return mcxt;
}

/* A fresh, empty state in the aggregate context. */
static RfmAggState *
state_create(MemoryContext mcxt)
{
	return MemoryContextAllocZero(mcxt, sizeof(RfmAggState));
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

/* Reject amounts that have no place in a revenue total. */
static inline void
check_amount(Numeric amount)
{
	if (numeric_is_nan(amount))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order amount must not be NaN"),
				 errdetail("A NaN amount would make every revenue figure NaN."),
				 errhint("Set unknown amounts to NULL: the order still counts, its value does not.")));
#if PG_VERSION_NUM >= 140000
	if (numeric_is_inf(amount))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order amount must be finite"),
				 errdetail("An infinite amount would make every revenue figure infinite."),
				 errhint("Set unknown amounts to NULL: the order still counts, its value does not.")));
#endif
}

/* True if the amount is below zero, i.e. a refund. */
static inline bool
is_refund(Numeric amount)
{
	static Numeric zero = NULL;

	if (zero == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		zero = int64_to_numeric(0);
		MemoryContextSwitchTo(old);
	}
	return DatumGetBool(DirectFunctionCall2(numeric_lt, NumericGetDatum(amount),
											NumericGetDatum(zero)));
}

/* *total (+ or -) value, as a new copy in mcxt; a NULL total counts as 0. */
static void
numeric_accumulate(Numeric *total, Numeric value, bool subtract, MemoryContext mcxt)
{
	MemoryContext old = MemoryContextSwitchTo(mcxt);
	Numeric		result;

	if (*total == NULL)
		result = subtract ? DatumGetNumeric(DirectFunctionCall1(numeric_uminus, NumericGetDatum(value)))
			: DatumGetNumericCopy(NumericGetDatum(value));
	else
	{
		result = subtract ? numeric_sub_opt_error(*total, value, NULL)
			: numeric_add_opt_error(*total, value, NULL);
		pfree(*total);
	}
	*total = result;
	MemoryContextSwitchTo(old);
}

/*
 * Add a value to the fast gross-revenue sum, PostgreSQL's own sum(numeric)
 * transition state (the same accumulator the built-in aggregate uses).
 */
static void
gross_accumulate(RfmAggState *state, Numeric value, FunctionCallInfo fcinfo)
{
	LOCAL_FCINFO(call, 2);

	InitFunctionCallInfoData(*call, NULL, 2, InvalidOid, fcinfo->context, NULL);
	call->args[0].value = PointerGetDatum(state->gross);
	call->args[0].isnull = state->gross == NULL;
	call->args[1].value = NumericGetDatum(value);
	call->args[1].isnull = false;
	state->gross = DatumGetPointer(numeric_avg_accum(call));
}

/* The gross sum as a numeric; 0 when nothing was added. */
static Numeric
gross_total(RfmAggState *state, FunctionCallInfo fcinfo)
{
	LOCAL_FCINFO(call, 1);
	Datum		sum;

	if (state->gross == NULL)
		return int64_to_numeric(0);
	InitFunctionCallInfoData(*call, NULL, 1, InvalidOid, fcinfo->context, NULL);
	call->args[0].value = PointerGetDatum(state->gross);
	call->args[0].isnull = false;
	sum = numeric_sum(call);
	return call->isnull ? int64_to_numeric(0) : DatumGetNumeric(sum);
}

/* Merge another gross sum into the state's. */
static void
gross_combine(RfmAggState *state, void *other, FunctionCallInfo fcinfo)
{
	LOCAL_FCINFO(call, 2);

	if (other == NULL)
		return;
	InitFunctionCallInfoData(*call, NULL, 2, InvalidOid, fcinfo->context, NULL);
	call->args[0].value = PointerGetDatum(state->gross);
	call->args[0].isnull = state->gross == NULL;
	call->args[1].value = PointerGetDatum(other);
	call->args[1].isnull = false;
	state->gross = DatumGetPointer(numeric_avg_combine(call));
}

/* Fold one order row (its day and amount, NULL if unknown) into the state. */
static void
state_add(RfmAggState *state, DateADT day, Numeric amount,
		  FunctionCallInfo fcinfo, MemoryContext mcxt)
{
	if (amount != NULL)
	{
		check_amount(amount);
		if (is_refund(amount))
		{
			state->refunds = add_count(state->refunds, 1);
			numeric_accumulate(&state->refunded, amount, true, mcxt);
			return;
		}
	}

	state->orders = add_count(state->orders, 1);
	if (state->days.nwords == 0 || day < dayset_first(&state->days))
	{
		/* a new first purchase day: its spend starts over */
		if (state->first_day_spend != NULL)
			pfree(state->first_day_spend);
		state->first_day_spend = NULL;
	}
	dayset_add(&state->days, day, mcxt);
	if (amount == NULL)
		return;
	if (day == dayset_first(&state->days))
		numeric_accumulate(&state->first_day_spend, amount, false, mcxt);
	gross_accumulate(state, amount, fcinfo);
}

/*
 * The shared body of the transition functions: create the state on the first
 * row, skip rows without an order time, add the row.
 */
static Datum
transition(FunctionCallInfo fcinfo, DateADT day, bool time_isnull)
{
	MemoryContext mcxt = agg_context(fcinfo);
	RfmAggState *state = PG_ARGISNULL(0) ? NULL : (RfmAggState *) PG_GETARG_POINTER(0);

	if (time_isnull)
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}
	if (state == NULL)
		state = state_create(mcxt);
	state_add(state, day, PG_ARGISNULL(2) ? NULL : PG_GETARG_NUMERIC(2), fcinfo, mcxt);
	PG_RETURN_POINTER(state);
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

/* Merge state "from" into state "into" (both in the aggregate context). */
static void
state_merge(RfmAggState *into, RfmAggState *from, FunctionCallInfo fcinfo,
			MemoryContext mcxt)
{
	if (from->days.nwords > 0)
	{
		bool		from_starts_earlier = into->days.nwords == 0 ||
			dayset_first(&from->days) < dayset_first(&into->days);

		if (from_starts_earlier || dayset_first(&from->days) == dayset_first(&into->days))
		{
			if (from_starts_earlier && into->first_day_spend != NULL)
			{
				pfree(into->first_day_spend);
				into->first_day_spend = NULL;
			}
			if (from->first_day_spend != NULL)
				numeric_accumulate(&into->first_day_spend, from->first_day_spend, false, mcxt);
		}
		dayset_union(&into->days, &from->days, mcxt);
	}
	into->orders = add_count(into->orders, from->orders);
	into->refunds = add_count(into->refunds, from->refunds);
	if (from->refunded != NULL)
		numeric_accumulate(&into->refunded, from->refunded, false, mcxt);
	gross_combine(into, from->gross, fcinfo);
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
	MemoryContext mcxt = agg_context(fcinfo);
	RfmAggState *into = PG_ARGISNULL(0) ? NULL : (RfmAggState *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(1))
	{
		if (into == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(into);
	}
	if (into == NULL)
		into = state_create(mcxt);
	state_merge(into, (RfmAggState *) PG_GETARG_POINTER(1), fcinfo, mcxt);
	PG_RETURN_POINTER(into);
}

/* Append an optional numeric: a presence byte, then its binary form. */
static void
send_numeric(StringInfo buf, Numeric value)
{
	bytea	   *bytes;

	pq_sendbyte(buf, value != NULL);
	if (value == NULL)
		return;
	bytes = DatumGetByteaPP(DirectFunctionCall1(numeric_send, NumericGetDatum(value)));
	pq_sendint32(buf, VARSIZE_ANY_EXHDR(bytes));
	pq_sendbytes(buf, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
}

/* Read an optional numeric written by send_numeric, copied into mcxt. */
static Numeric
receive_numeric(StringInfo buf, MemoryContext mcxt)
{
	StringInfoData part;
	int			len;
	Numeric		value;
	MemoryContext old;

	if (pq_getmsgbyte(buf) == 0)
		return NULL;
	len = pq_getmsgint(buf, 4);
	if (len < 0 || len > buf->len - buf->cursor)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid numeric in serialized rfm_agg state")));
	initReadOnlyStringInfo(&part, (char *) pq_getmsgbytes(buf, len), len);
	old = MemoryContextSwitchTo(mcxt);
	value = DatumGetNumeric(DirectFunctionCall3(numeric_recv, PointerGetDatum(&part),
												ObjectIdGetDatum(InvalidOid),
												Int32GetDatum(-1)));
	MemoryContextSwitchTo(old);
	return value;
}

PG_FUNCTION_INFO_V1(rfm_agg_serialize);
/*
 * Serialize a state field by field in network byte order, behind a format
 * version byte, so that states can cross processes and machines.
 */
Datum
rfm_agg_serialize(PG_FUNCTION_ARGS)
{
	RfmAggState *state = (RfmAggState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	agg_context(fcinfo);
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, RFM_STATE_FORMAT);
	pq_sendint64(&buf, state->orders);
	pq_sendint64(&buf, state->refunds);
	dayset_send(&buf, &state->days);
	send_numeric(&buf, state->gross == NULL ? NULL : gross_total(state, fcinfo));
	send_numeric(&buf, state->refunded);
	send_numeric(&buf, state->first_day_spend);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Reject a serialized state that cannot be ours. */
static inline void
check_state(bool ok)
{
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid serialized rfm_agg state"),
				 errdetail("The state was written by another version of lifecycle or is damaged.")));
}

PG_FUNCTION_INFO_V1(rfm_agg_deserialize);
/* Rebuild a state from rfm_agg_serialize's bytes, validating every field. */
Datum
rfm_agg_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext mcxt = agg_context(fcinfo);
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	RfmAggState *state = state_create(mcxt);
	StringInfoData buf;
	Numeric		gross;

	initReadOnlyStringInfo(&buf, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
	check_state(buf.len >= 1 + 8 + 8 + 8);
	check_state(pq_getmsgbyte(&buf) == RFM_STATE_FORMAT);
	state->orders = pq_getmsgint64(&buf);
	state->refunds = pq_getmsgint64(&buf);
	check_state(state->orders >= 0 && state->refunds >= 0);
	dayset_receive(&buf, &state->days, mcxt);
	check_state((state->orders > 0) == (state->days.nwords > 0));
	gross = receive_numeric(&buf, mcxt);
	if (gross != NULL)
		gross_accumulate(state, gross, fcinfo);
	state->refunded = receive_numeric(&buf, mcxt);
	state->first_day_spend = receive_numeric(&buf, mcxt);
	check_state(buf.cursor == buf.len);
	PG_RETURN_POINTER(state);
}

/* The numeric, or 0 when it is NULL (nothing known was added). */
static inline Datum
numeric_or_zero(Numeric value)
{
	return NumericGetDatum(value != NULL ? value : int64_to_numeric(0));
}

PG_FUNCTION_INFO_V1(rfm_agg_final);
/*
 * Build the lifecycle.rfm composite.  NULL when no row counted at all; a
 * customer with only refunds gets a summary with no purchase days.
 */
Datum
rfm_agg_final(PG_FUNCTION_ARGS)
{
	RfmAggState *state;
	TupleDesc	desc = fcinfo->flinfo->fn_extra;
	Datum		values[RFM_NATTS];
	bool		nulls[RFM_NATTS] = {0};
	Numeric		gross,
				refunded;
	DateADT		last,
				previous;

	agg_context(fcinfo);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (RfmAggState *) PG_GETARG_POINTER(0);
	if (state->orders == 0 && state->refunds == 0)
		PG_RETURN_NULL();

	if (desc == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "rfm_agg_final must return a composite type");
		desc = BlessTupleDesc(CreateTupleDescCopy(desc));
		fcinfo->flinfo->fn_extra = desc;
		MemoryContextSwitchTo(old);
	}

	gross = gross_total(state, fcinfo);
	refunded = state->refunded != NULL ? state->refunded : int64_to_numeric(0);
	if (state->orders > 0)
	{
		last = dayset_last(&state->days);
		values[RFM_FIRST_PURCHASE - 1] = DateADTGetDatum(dayset_first(&state->days));
		values[RFM_LAST_PURCHASE - 1] = DateADTGetDatum(last);
		nulls[RFM_PREVIOUS_PURCHASE - 1] = !dayset_previous(&state->days, last, &previous);
		values[RFM_PREVIOUS_PURCHASE - 1] = DateADTGetDatum(previous);
	}
	else
	{
		nulls[RFM_FIRST_PURCHASE - 1] = true;
		nulls[RFM_LAST_PURCHASE - 1] = true;
		nulls[RFM_PREVIOUS_PURCHASE - 1] = true;
	}
	values[RFM_ORDERS - 1] = Int64GetDatum(state->orders);
	values[RFM_PURCHASE_DAYS - 1] = Int32GetDatum(dayset_count(&state->days));
	values[RFM_MONETARY - 1] = NumericGetDatum(numeric_sub_opt_error(gross, refunded, NULL));
	values[RFM_GROSS - 1] = NumericGetDatum(gross);
	values[RFM_REFUNDS - 1] = Int64GetDatum(state->refunds);
	values[RFM_REFUNDED - 1] = NumericGetDatum(refunded);
	values[RFM_FIRST_DAY_SPEND - 1] = numeric_or_zero(state->first_day_spend);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* Read the day facts of a lifecycle.rfm composite. */
void
rfm_read_days(HeapTupleHeader summary, RfmDays *days)
{
	bool		isnull;
	Datum		value;

	memset(days, 0, sizeof(RfmDays));
	value = GetAttributeByNum(summary, RFM_PURCHASE_DAYS, &isnull);
	days->purchase_days = isnull ? 0 : DatumGetInt32(value);
	value = GetAttributeByNum(summary, RFM_ORDERS, &isnull);
	days->orders = isnull ? 0 : DatumGetInt64(value);
	if (days->purchase_days < 0 || days->orders < days->purchase_days)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("inconsistent customer summary"),
				 errdetail("A summary has %d purchase days but " INT64_FORMAT " orders.",
						   days->purchase_days, days->orders),
				 errhint("Build summaries with lifecycle.rfm_agg.")));
	if (days->purchase_days == 0)
		return;
	days->first_purchase = DatumGetDateADT(GetAttributeByNum(summary, RFM_FIRST_PURCHASE, &isnull));
	if (!isnull)
		days->last_purchase = DatumGetDateADT(GetAttributeByNum(summary, RFM_LAST_PURCHASE, &isnull));
	if (!isnull && days->purchase_days >= 2)
		days->previous_purchase = DatumGetDateADT(GetAttributeByNum(summary, RFM_PREVIOUS_PURCHASE, &isnull));
	if (isnull || DATE_NOT_FINITE(days->first_purchase) || DATE_NOT_FINITE(days->last_purchase) ||
		days->first_purchase > days->last_purchase ||
		(days->purchase_days >= 2 && (DATE_NOT_FINITE(days->previous_purchase) ||
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
	bool		isnull;
	Datum		value = GetAttributeByNum(summary, attnum, &isnull);

	return isnull ? NULL : DatumGetNumeric(value);
}
