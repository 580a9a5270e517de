/*
 * changes.c
 *	  lifecycle._segment_view_changes: the rows a refresh of a segment view
 *	  must write to <view>_data, and only those.
 *
 * A segment view's rows are a table, <view>_data, one row per customer with
 * the columns of row_columns below: the customer's facts (facts.c), its
 * segment and recommended action, and its summary_state, the rfm_agg state
 * of its orders.  A refresh computes every customer's row from the
 * summaries (read from the orders, or kept in summary_state for the
 * customers whose orders did not change: customers.c) and returns the rows
 * that differ from the previous ones (by a fingerprint of their columns,
 * fingerprint.c), new customers' rows, and, with a NULL stage, the keys of
 * customers no longer there.  The refresh procedure writes them with one
 * INSERT ... ON CONFLICT and one DELETE (install/70_segment_view.sql).  A
 * daily refresh changes the rows of the customers who ordered or crossed a
 * stage threshold, not a million rows.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "common/hashfn.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/regproc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/sortsupport.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"

#include "args.h"
#include "breaks.h"
#include "compat.h"
#include "customers.h"
#include "facts.h"
#include "fingerprint.h"
#include "money.h"
#include "numeric_double.h"
#include "progress.h"
#include "rows.h"
#include "settings.h"
#include "stage.h"
#include "summary.h"

/*
 * A column of the view's rows: a facts column (fact >= 0, its name and
 * comment; the type too unless given), or one of its own.
 */
typedef struct RowColumn
{
	int			fact;
	Oid			type;
	const char *name;
	const char *comment;
} RowColumn;

/*
 * The one definition of a view's rows: <view>_data is created with these
 * columns (lifecycle._row_columns), the refresh's column definition list
 * and the view's column comments come from here.
 */
static const RowColumn row_columns[V_NATTS] = {
	{F_CUSTOMER},
	{F_STAGE, VARCHAROID},
	{-1, VARCHAROID, "segment", "Named RFM segment from the view's rule set; Others if no rule matches; NULL without a purchase"},
	{F_R_SCORE},
	{F_F_SCORE},
	{F_M_SCORE},
	{F_FIRST_PURCHASE},
	{F_LAST_PURCHASE},
	{F_PREVIOUS_PURCHASE},
	{F_ORDERS},
	{F_PURCHASE_DAYS},
	{F_MONETARY},
	{F_GROSS},
	{F_REFUNDS},
	{F_REFUNDED},
	{F_MEAN_INTERVAL_DAYS},
	{F_AOV},
	{F_BTYD_FREQUENCY},
	{F_BTYD_RECENCY},
	{F_BTYD_MONETARY_VALUE},
	{F_P_ALIVE},
	{F_EXPECTED_PURCHASES},
	{F_EXPECTED_SPEND},
	{F_CLV},
	{-1, VARCHAROID, "recommended_action", "What to do about the customer: their segment's action if one is set, else their stage's (lifecycle.recommended_actions; the view owner's own before the shipped ones)"},
	{F_STAGE_SINCE},
	{F_STAGE_REASON, VARCHAROID},
	{F_EXPECTED_NEXT_ORDER},
	{-1, BYTEAOID, "summary_state", "The rfm_agg state of the customer's orders, kept for the next refresh (internal, versioned)"},
	{-1, INT8OID, "fingerprint", "A fingerprint of the row's other columns, by which a refresh finds the rows that changed (internal)"},
};

static const char *
row_column_name(int column)
{
	return row_columns[column].fact >= 0 ? fact_column_name(row_columns[column].fact) : row_columns[column].name;
}

/* A column's type; InvalidOid for the customer key, whose type is the orders'. */
static Oid
row_column_type(int column)
{
	return OidIsValid(row_columns[column].type) ? row_columns[column].type :
		fact_column_type(row_columns[column].fact);
}

static const char *
row_column_comment(int column)
{
	return row_columns[column].fact >= 0 ? fact_column_comment(row_columns[column].fact) :
		row_columns[column].comment;
}

PG_FUNCTION_INFO_V1(row_columns_sql);
/*
 * lifecycle._row_columns(): the columns of a segment view's rows as (name,
 * type, comment), in order; type NULL for the customer key.
 */
Datum
row_columns_sql(PG_FUNCTION_ARGS)
{
	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < V_NATTS; i++)
		put_column_row(fcinfo, row_column_name(i),
					   i == V_CUSTOMER ? NULL : format_type_be(row_column_type(i)), row_column_comment(i));
	return (Datum) 0;
}

/*
 * Check a row description (what: the column definition list, or the rows
 * table, whose dropped columns do not count) against row_columns, by name
 * and type.
 */
static void
check_row_desc(TupleDesc desc, Oid key_type, const char *what)
{
	int			columns = 0;
	int			i = 0;

	for (int a = 0; a < desc->natts; a++)
		columns += !TupleDescAttr(desc, a)->attisdropped;
	if (columns != V_NATTS)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s has %d columns, a segment view's rows have %d", what, columns, V_NATTS),
				 errhint("lifecycle._row_columns() lists them.")));
	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, a);
		Oid			type;

		if (attr->attisdropped)
			continue;
		type = i == V_CUSTOMER ? key_type : row_column_type(i);
		/* the key is named as the orders name it */
		if (attr->atttypid != type || (i != V_CUSTOMER && strcmp(NameStr(attr->attname), row_column_name(i)) != 0))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column %d of %s is \"%s\" %s; a segment view's rows have \"%s\" %s there",
							i + 1, what, NameStr(attr->attname), format_type_be(attr->atttypid), row_column_name(i),
							format_type_be(type)),
					 errhint("lifecycle._row_columns() lists them.")));
		i++;
	}
}

/*
 * Segments and actions by score and stage: the view's rule set as the
 * owner sees it (lifecycle.segment_map and lifecycle.action_map).
 */
typedef struct SegmentMap
{
	int8		segment[5][5][5];	/* by R, F, M score - 1: its segment; -1: no rule */
	int			nsegments;
	const char *names[SEGMENTS_MAX];	/* the segments, each once */
	Datum		texts[SEGMENTS_MAX];	/* their names as text */
	Datum		segment_action[SEGMENTS_MAX];	/* 0: none */
	Datum		stage_action[STAGE_COUNT];	/* 0: none */
} SegmentMap;

/* A copy of a text Datum in mcxt. */
static Datum
copy_text(Datum value, MemoryContext mcxt)
{
	MemoryContext old = MemoryContextSwitchTo(mcxt);
	Datum		copy = datumCopy(value, false, -1);

	MemoryContextSwitchTo(old);
	return copy;
}

/* Run a query of a rule set ($1) through SPI; its rows are in SPI_tuptable. */
static void
rule_set_query(const char *sql, const char *rule_set)
{
	Oid			type = TEXTOID;
	Datum		arg = CStringGetTextDatum(rule_set);

	if (SPI_execute_with_args(sql, 1, &type, &arg, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run \"%s\"", sql);
}

/* A segment's place in map->names, -1 if the rule set has none of that name. */
static int
segment_of_name(const SegmentMap *map, const char *name)
{
	for (int g = 0; g < map->nsegments; g++)
		if (strcmp(map->names[g], name) == 0)
			return g;
	return -1;
}

/* Read a rule set's segments and actions into map, in mcxt. */
static void
segment_map_read(const char *rule_set, SegmentMap *map, MemoryContext mcxt)
{
	bool		isnull;

	memset(map, 0, sizeof(SegmentMap));
	memset(map->segment, -1, sizeof(map->segment));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rule_set_query("SELECT r, f, m, segment FROM lifecycle.segment_map($1)", rule_set);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		int			r = DatumGetInt32(SPI_getbinval(row, desc, 1, &isnull));
		int			f = DatumGetInt32(SPI_getbinval(row, desc, 2, &isnull));
		int			m = DatumGetInt32(SPI_getbinval(row, desc, 3, &isnull));
		Datum		segment = SPI_getbinval(row, desc, 4, &isnull);
		int			g;

		if (isnull || r < 1 || r > 5 || f < 1 || f > 5 || m < 1 || m > 5)
			continue;
		g = segment_of_name(map, TextDatumGetCString(segment));
		if (g < 0)
		{
			g = map->nsegments++;
			map->names[g] = MemoryContextStrdup(mcxt, TextDatumGetCString(segment));
			map->texts[g] = copy_text(segment, mcxt);
		}
		map->segment[r - 1][f - 1][m - 1] = g;
	}
	rule_set_query("SELECT kind, name, action FROM lifecycle.action_map($1)", rule_set);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *kind = SPI_getvalue(row, desc, 1);
		char	   *name = SPI_getvalue(row, desc, 2);
		Datum		action = SPI_getbinval(row, desc, 3, &isnull);
		int			g = segment_of_name(map, name);

		if (isnull)
			continue;
		action = copy_text(action, mcxt);
		if (strcmp(kind, "stage") == 0)
			map->stage_action[stage_of_label(name, strlen(name))] = action;
		else if (g >= 0)
			map->segment_action[g] = action;
	}
	SPI_finish();
}

/*
 * ntile scores: each metric's buyers ranked (recency by days since the last
 * purchase descending, frequency and monetary ascending; ties by customer
 * key) and cut into five groups as ntile(5) does, the first groups one
 * larger when they do not divide evenly.
 */
typedef struct NtileItem
{
	int64		customer;
	double		value;			/* larger: later in the order */
	Numeric		exact;			/* monetary, to order values equal as doubles */
} NtileItem;

typedef struct NtileOrder
{
	const Customer *customers;
	SortSupportData key;
} NtileOrder;

static int
ntile_compare(const void *a, const void *b, void *arg)
{
	const NtileItem *x = a;
	const NtileItem *y = b;
	NtileOrder *order = arg;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	if (x->exact != NULL)
	{
		int			c = DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(x->exact),
														  NumericGetDatum(y->exact)));

		if (c != 0)
			return c;
	}
	return ApplySortComparator(order->customers[x->customer].key, false,
							   order->customers[y->customer].key, false, &order->key);
}

/* scores[i][metric]: customer i's ntile scores (0: no purchase day). */
static void
ntile_scores(const Customer *customers, int64 n, const FactsOutput *out, Oid key_type, Oid collation,
			 uint8 (*scores)[METRIC_COUNT])
{
	NtileItem  *items = palloc_extended(Max(n, 1) * sizeof(NtileItem), MCXT_ALLOC_HUGE);
	NtileOrder	order;
	int64		buyers = 0;
	TypeCacheEntry *type = lookup_type_cache(key_type, TYPECACHE_LT_OPR);

	if (!OidIsValid(type->lt_opr))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("customer key type %s has no ordering", format_type_be(key_type)),
				 errhint("The ntile score method breaks ties by customer key; use another score method.")));
	memset(&order, 0, sizeof(order));
	order.customers = customers;
	order.key.ssup_cxt = CurrentMemoryContext;
	order.key.ssup_collation = collation;
	PrepareSortSupportFromOrderingOp(type->lt_opr, &order.key);
	for (int m = 0; m < METRIC_COUNT; m++)
	{
		int64		size,
					larger;

		buyers = 0;
		for (int64 i = 0; i < n; i++)
		{
			RfmDays		days;

			if (customers[i].state == NULL || !rfm_state_days(customers[i].state, &days) ||
				days.purchase_days == 0)
				continue;
			items[buyers].customer = i;
			items[buyers].exact = NULL;
			if (m == METRIC_R)
				items[buyers].value = -(double) (out->as_of - days.last_purchase);
			else if (m == METRIC_F)
				items[buyers].value = out->by_orders ? days.orders : days.purchase_days;
			else
			{
				items[buyers].exact = rfm_state_monetary(customers[i].state);
				items[buyers].value = numeric_to_double_clamped(items[buyers].exact);
			}
			buyers++;
		}
		qsort_arg(items, buyers, sizeof(NtileItem), ntile_compare, &order);
		size = buyers / 5;
		larger = buyers % 5;
		for (int64 p = 0; p < buyers; p++)
			scores[items[p].customer][m] = p < larger * (size + 1) ? p / (size + 1) + 1 :
				larger + (p - larger * (size + 1)) / size + 1;
	}
	pfree(items);
}

/* What writing the changed rows works with, and counts. */
typedef struct ChangesOutput
{
	const FactsOutput *facts;
	SegmentMap	segments;
	Datum		stage_texts[STAGE_COUNT];	/* the stages' labels as text */
	Datum		zero;			/* numeric 0: a prospect's sums */
	uint8		(*ntile)[METRIC_COUNT]; /* by customer: ntile scores, or NULL */
	TupleDesc	desc;
	Tuplestorestate *store;
	int64		written;
	int64		present;		/* customers in the view */
	Transitions moves;
	ViewCounts	counts;			/* by stage and segment, in mcxt */
	MemoryContext mcxt;
} ChangesOutput;

/*
 * A customer's view row from its facts row (values and nulls are the
 * view row's, facts and fact_nulls the facts'), with its segment and
 * action; returns the segment's place in map->names, -1 for none.
 */
static int
view_row(const ChangesOutput *out, const Datum *facts, const bool *fact_nulls, Stage stage,
		 Datum *values, bool *nulls)
{
	const SegmentMap *map = &out->segments;
	Datum		action;
	int			segment = -1;

	for (int i = 0; i < V_NATTS; i++)
	{
		int			fact = row_columns[i].fact;

		nulls[i] = fact < 0 || fact_nulls[fact];
		if (!nulls[i])
			values[i] = facts[fact];
	}
	values[V_STAGE] = out->stage_texts[stage];
	/* a prospect has no orders: counts and sums of none */
	if (nulls[V_ORDERS])
	{
		values[V_ORDERS] = values[V_REFUNDS] = Int64GetDatum(0);
		values[V_PURCHASE_DAYS] = Int32GetDatum(0);
		values[V_MONETARY] = values[V_GROSS] = values[V_REFUNDED] = out->zero;
		nulls[V_ORDERS] = nulls[V_REFUNDS] = nulls[V_PURCHASE_DAYS] = false;
		nulls[V_MONETARY] = nulls[V_GROSS] = nulls[V_REFUNDED] = false;
	}
	action = map->stage_action[stage];
	if (!nulls[V_R_SCORE] && !nulls[V_F_SCORE] && !nulls[V_M_SCORE])
	{
		int			r = DatumGetInt32(values[V_R_SCORE]) - 1;
		int			f = DatumGetInt32(values[V_F_SCORE]) - 1;
		int			m = DatumGetInt32(values[V_M_SCORE]) - 1;

		segment = map->segment[r][f][m];
	}
	nulls[V_SEGMENT] = segment < 0;
	if (segment >= 0)
	{
		values[V_SEGMENT] = map->texts[segment];
		if (map->segment_action[segment] != (Datum) 0)
			action = map->segment_action[segment];
	}
	values[V_RECOMMENDED_ACTION] = action;
	nulls[V_RECOMMENDED_ACTION] = action == (Datum) 0;
	return segment;
}


/* Count a customer in its stage and segment (-1: none), with its net revenue. */
static void
count_customer(ChangesOutput *out, Stage stage, int segment, Datum monetary)
{
	Amount		amount;

	amount_read(monetary, &amount);
	out->counts.stages[stage].customers++;
	money_add(&out->counts.stages[stage].revenue, &amount, out->mcxt);
	if (segment < 0)
		return;
	out->counts.segments[segment].customers++;
	money_add(&out->counts.segments[segment].revenue, &amount, out->mcxt);
}

/*
 * A kept customer's summary state, read when stage_since first needs its
 * purchase days.
 */
typedef struct KeptState
{
	bytea	   *bytes;
	RfmAggState *state;
} KeptState;

/* The purchase day before a day, for stage_since: arg is a KeptState. */
static bool
kept_day_before(void *arg, DateADT day, DateADT *before)
{
	KeptState  *kept = arg;

	if (kept->state == NULL)
		kept->state = rfm_state_deserialize(kept->bytes, CurrentMemoryContext);
	return rfm_state_day_before(kept->state, day, before);
}

/*
 * The row columns that follow from a customer's summary alone (their facts
 * column is one of fact_of_summary's), listed once.
 */
static int	summary_columns[V_NATTS];
static int	nsummary_columns = -1;

static void
list_summary_columns(void)
{
	if (nsummary_columns >= 0)
		return;
	nsummary_columns = 0;
	for (int i = 0; i < V_NATTS; i++)
		if (row_columns[i].fact >= 0 && fact_of_summary(row_columns[i].fact))
			summary_columns[nsummary_columns++] = i;
}

/*
 * A kept customer with purchase days: its summary facts from its row (the
 * columns row_columns takes from them, with T of the BTYD columns as of
 * now) and its days; false for any other customer.  What follows from the
 * summary alone is the same as long as the orders are: the row says it, and
 * its state need not be read.
 */
static bool
kept_summary(const Customer *customer, const FactsOutput *out, Datum *facts, bool *fact_nulls, RfmDays *days)
{
	const Datum *row = customer->row;
	const bool *row_nulls = customer->row_nulls;

	if (customer->state != NULL || customer->kept_state == NULL || row == NULL ||
		row_nulls[V_PURCHASE_DAYS] || DatumGetInt32(row[V_PURCHASE_DAYS]) == 0)
		return false;
	memset(fact_nulls, true, F_NATTS * sizeof(bool));
	list_summary_columns();
	for (int c = 0; c < nsummary_columns; c++)
	{
		int			i = summary_columns[c];

		facts[row_columns[i].fact] = row[i];
		fact_nulls[row_columns[i].fact] = row_nulls[i];
	}
	facts[F_CUSTOMER] = customer->key;
	fact_nulls[F_CUSTOMER] = false;
	days->purchase_days = DatumGetInt32(row[V_PURCHASE_DAYS]);
	days->orders = DatumGetInt64(row[V_ORDERS]);
	days->first_purchase = DatumGetDateADT(row[V_FIRST_PURCHASE]);
	days->last_purchase = DatumGetDateADT(row[V_LAST_PURCHASE]);
	days->previous_purchase = row_nulls[V_PREVIOUS_PURCHASE] ? 0 : DatumGetDateADT(row[V_PREVIOUS_PURCHASE]);
	facts[F_BTYD_T] = Float8GetDatum(rfm_btyd_t(days, out->as_of, out->unit_days));
	fact_nulls[F_BTYD_T] = false;
	return true;
}

/*
 * A customer with its summary state at hand: a kept one's read (in the
 * current memory context), for what its row does not say.
 */
static Customer
with_state(const Customer *customer)
{
	Customer	read = *customer;

	if (read.state == NULL && read.kept_state != NULL)
		read.state = rfm_state_deserialize(read.kept_state, CurrentMemoryContext);
	return read;
}

/*
 * A customer's facts row; returns its stage.  A kept customer's from its
 * row, reading its state only if stage_since needs it, or if it has no
 * purchase day (a rare case, computed as from any state).
 */
static Stage
customer_facts(const Customer *customer, const FactsOutput *out, Datum *facts, bool *fact_nulls)
{
	RfmDays		days;
	Customer	read;

	if (kept_summary(customer, out, facts, fact_nulls, &days))
	{
		KeptState	kept = {customer->kept_state, NULL};
		StageStart	start = {kept_day_before, &kept, customer->previous_stage,
			customer->row_nulls[V_STAGE_SINCE] ? 0 : DatumGetDateADT(customer->row[V_STAGE_SINCE])};

		return dated_facts(out, &days, &start, facts, fact_nulls);
	}
	read = with_state(customer);
	return fact_row(&read, out, facts, fact_nulls);
}

/*
 * Put a customer's row into the store if it is new or changed, or its key
 * with a NULL stage if it is gone; count its move in *moves and whether it
 * is there in *present.  A kept customer's row changed if its columns
 * differ from its previous row's; any other's if their fingerprint (of its
 * columns and its summary state) differs.
 */
static void
customer_change(const Customer *customer, int64 i, ChangesOutput *out)
{
	Datum		facts[F_NATTS];
	bool		fact_nulls[F_NATTS];
	Datum		values[V_NATTS];
	bool		nulls[V_NATTS];
	Stage		stage;
	int			segment;
	bytea	   *state = customer->kept_state;
	uint64		fingerprint;

	if (!customer_present(customer))
	{
		if (customer->previous_stage < 0)
			return;
		out->moves[customer->previous_stage + 1][0]++;
		memset(nulls, true, sizeof(nulls));
		values[V_CUSTOMER] = customer->key;
		nulls[V_CUSTOMER] = false;
		tuplestore_putvalues(out->store, out->desc, values, nulls);
		out->written++;
		return;
	}
	out->present++;
	stage = customer_facts(customer, out->facts, facts, fact_nulls);
	out->moves[customer->previous_stage + 1][stage + 1]++;
	if (out->ntile != NULL && out->ntile[i][0] > 0)
		for (int m = 0; m < METRIC_COUNT; m++)
		{
			facts[F_R_SCORE + m] = Int32GetDatum(out->ntile[i][m]);
			fact_nulls[F_R_SCORE + m] = false;
		}
	segment = view_row(out, facts, fact_nulls, stage, values, nulls);
	count_customer(out, stage, segment, values[V_MONETARY]);
	if (customer->state == NULL && customer->row != NULL && customer->previous_stage >= 0 &&
		rows_equal(out->desc, values, nulls, customer->row, customer->row_nulls, V_CUSTOMER + 1, V_SUMMARY_STATE))
		return;
	if (customer->read && customer->state != NULL)
		state = rfm_state_serialize(customer->state);
	fingerprint = row_fingerprint(out->desc, values, nulls, V_CUSTOMER + 1, V_SUMMARY_STATE);
	if (state != NULL)
		fingerprint = hash_combine64(fingerprint, bytes_fingerprint(state));
	if (customer->previous_stage >= 0 && fingerprint == customer->previous_fingerprint)
		return;
	nulls[V_SUMMARY_STATE] = state == NULL;
	values[V_SUMMARY_STATE] = PointerGetDatum(state);
	values[V_FINGERPRINT] = Int64GetDatum((int64) fingerprint);
	nulls[V_FINGERPRINT] = false;
	tuplestore_putvalues(out->store, out->desc, values, nulls);
	out->written++;
}

/* stream_customers' second pass: each customer's change. */
static void
stream_change(void *arg, const Customer *customer)
{
	customer_change(customer, -1, (ChangesOutput *) arg);
}

/*
 * stream_customers' first pass: what the breaks and fits are computed from,
 * a kept customer's from its row.
 */
static void
stream_collect(void *arg, const Customer *customer)
{
	FactsCollector *collector = arg;
	Datum		facts[F_NATTS];
	bool		fact_nulls[F_NATTS];
	RfmDays		days;
	Customer	read;

	if (kept_summary(customer, collector->out, facts, fact_nulls, &days))
		facts_collect_summary(collector, &days, DatumGetNumeric(facts[F_MONETARY]), &facts[F_BTYD_FREQUENCY],
							  &fact_nulls[F_BTYD_FREQUENCY]);
	else
	{
		read = with_state(customer);
		facts_collect(collector, &read);
	}
}

/*
 * The changes when every order is read: every customer's summary, held in
 * memory (customers.c), then each customer's row.
 */
static void
changes_from_orders(const ViewSettings *settings, FactsOutput *facts, ChangesOutput *out, MemoryContext mcxt,
					MemoryContext row_mcxt, CustomerCounts *counts)
{
	int64		n;
	Customer   *customers = facts_compute(settings, facts, mcxt, row_mcxt, &n, counts);

	if (facts->method == METHOD_NTILE)
	{
		out->ntile = MemoryContextAllocExtended(mcxt, Max(n, 1) * sizeof(*out->ntile),
												MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		ntile_scores(customers, n, facts, order_source_key_type(&settings->source),
					 order_source_key_collation(&settings->source), out->ntile);
	}
	progress_phase(PHASE_WRITE, counts->rows, n);
	for (int64 i = 0; i < n; i++)
	{
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		prefetch_ahead(customers, n, i);
		old = MemoryContextSwitchTo(row_mcxt);
		customer_change(&customers[i], i, out);
		MemoryContextSwitchTo(old);
		MemoryContextReset(row_mcxt);
	}
}

/*
 * Error unless the view's rows table has the columns of row_columns: a
 * refresh that reads only the changed customers' orders reads every other
 * customer's row, by position.
 */
static void
check_rows_table(const ViewSettings *settings)
{
	Relation	rows = table_open(settings->source.previous, AccessShareLock);

	check_row_desc(RelationGetDescr(rows), order_source_key_type(&settings->source),
				   psprintf("table %s", relation_sql_name(settings->source.previous)));
	table_close(rows, AccessShareLock);
}

/* The customers of the view's last successful refresh (its rows then); -1 if none. */
static int64
last_refresh_customers(const char *view_name)
{
	Oid			type = TEXTOID;
	Datum		arg = CStringGetTextDatum(view_name);
	int64		customers = -1;
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT r.customers FROM lifecycle.refresh_runs r"
							  " WHERE r.view_name OPERATOR(pg_catalog.=) $1"
							  " AND r.outcome OPERATOR(pg_catalog.=) 'succeeded' ORDER BY r.run_id DESC LIMIT 1",
							  1, &type, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the last refresh of \"%s\"", view_name);
	if (SPI_processed == 1)
	{
		Datum		value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			customers = DatumGetInt64(value);
	}
	SPI_finish();
	return customers;
}

/*
 * The changes when only the changed customers' orders are read: their
 * summaries held in memory, every other customer's read from its row, in
 * two passes over the rows (what the breaks and fits need, then each
 * customer's row), so that memory follows the changed customers, not all.
 * False, before anything is written, if the rows are not those of the
 * last refresh (then every order is to be read).
 */
static bool
changes_from_rows(const ViewSettings *settings, FactsOutput *facts, ChangesOutput *out, MemoryContext mcxt,
				  CustomerCounts *counts)
{
	ChangedCustomers *changed;
	FactsCollector collector;

	if (facts->method == METHOD_NTILE)
		elog(ERROR, "the ntile score method ranks every customer: read every order");
	check_rows_table(settings);
	progress_phase(PHASE_READ, 0, 0);
	changed = read_changed_customers(&settings->source, mcxt, counts);
	progress_phase(PHASE_SCORE, counts->rows, 0);
	facts_collect_start(&collector, facts, mcxt);
	stream_customers(changed, stream_collect, &collector);
	/* rows deleted (or added) by hand: not every kept summary is there */
	if (counts->previous != last_refresh_customers(settings->view_name))
		return false;
	facts_collect_finish(&collector, facts, counts->rows, collector.scored);
	progress_phase(PHASE_WRITE, counts->rows, collector.scored);
	stream_customers(changed, stream_change, out);
	return true;
}

/*
 * The view's rows of checked settings that differ from its previous rows,
 * into the set-returning call's tuplestore.
 */
static void
changes_rows(FunctionCallInfo fcinfo, ViewSettings *settings)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FactsOutput facts;
	ChangesOutput out;
	MemoryContext mcxt,
				row_mcxt,
				old;
	CustomerCounts counts;

	settings_check(settings);
	facts_output_init(settings, &facts);
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize) || rsinfo->expectedDesc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("lifecycle._segment_view_changes must be called in FROM with a column definition list")));
	check_row_desc(rsinfo->expectedDesc, order_source_key_type(&settings->source), "the column definition list");

	mcxt = AllocSetContextCreate(CurrentMemoryContext, "lifecycle view rows", ALLOCSET_DEFAULT_SIZES);
	row_mcxt = AllocSetContextCreate(mcxt, "lifecycle view row", ALLOCSET_DEFAULT_SIZES);
	memset(&out, 0, sizeof(out));
	out.facts = &facts;
	out.mcxt = mcxt;
	segment_map_read(settings->rule_set, &out.segments, mcxt);
	old = MemoryContextSwitchTo(mcxt);
	for (int s = 0; s < STAGE_COUNT; s++)
		out.stage_texts[s] = CStringGetTextDatum(stage_labels[s]);
	out.zero = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
	MemoryContextSwitchTo(old);
	out.counts.nsegments = out.segments.nsegments;
	memcpy(out.counts.segment_names, out.segments.names, sizeof(out.segments.names));
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	out.desc = CreateTupleDescCopy(rsinfo->expectedDesc);
	out.store = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(old);
	if (settings->source.changed == NULL || !changes_from_rows(settings, &facts, &out, mcxt, &counts))
	{
		settings->source.changed = NULL;
		changes_from_orders(settings, &facts, &out, mcxt, row_mcxt, &counts);
	}
	progress_done(counts.rows);
	remember_facts(settings, &facts, &counts, out.present, out.written, settings->source.changed == NULL,
				   out.moves, &out.counts);
	rsinfo->setResult = out.store;
	rsinfo->setDesc = out.desc;
	rsinfo->returnMode = SFRM_Materialize;
	MemoryContextDelete(mcxt);
}

/*
 * A table of the view's: <view><suffix>; an error if it is missing, unless
 * missing_ok (then InvalidOid).
 */
static Oid
view_table(const char *view_name, const char *suffix, bool missing_ok)
{
	RangeVar   *name = makeRangeVarFromNameList(string_to_qualified_name_list(view_name));

	name->relname = psprintf("%s%s", name->relname, suffix);
	return RangeVarGetRelid(name, NoLock, missing_ok);
}

PG_FUNCTION_INFO_V1(segment_view_changes);
/*
 * lifecycle._segment_view_changes(settings lifecycle.segment_views, as_of
 * date, changed text[], guest_orders bigint): the rows of the view with
 * that settings row, as of that day, that differ from its rows now, as the
 * header says.  changed NULL: read every order; else the keys of the
 * customers whose orders changed since (lifecycle.order_changes), and
 * guest_orders the count of order rows without a customer, NULL to count
 * them again.
 */
Datum
segment_view_changes(PG_FUNCTION_ARGS)
{
	ViewSettings settings;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("segment view settings not found"),
				 errdetail("lifecycle.segment_views has no row for this view that the current role may read."),
				 errhint("Only the view's owner (or a member of its role) refreshes it.")));
	settings_from_row(PG_GETARG_HEAPTUPLEHEADER(0), &settings);
	settings.source.as_of = DatumGetDateADT(required_arg(fcinfo, 1, "as_of", NULL));
	settings.source.previous = view_table(settings.view_name, "_data", false);
	settings.source.changed = PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2);
	settings.source.known_guests = PG_ARGISNULL(3) ? -1 : PG_GETARG_INT64(3);
	settings.source.log_view = settings.incremental ? settings.view_name : NULL;
	settings.source.inserted = settings.incremental ? view_table(settings.view_name, "_log", true) : InvalidOid;
	changes_rows(fcinfo, &settings);
	return (Datum) 0;
}
