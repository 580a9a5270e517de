/*
 * dayset.c
 *	  The set of a customer's purchase days, in memory proportional to the
 *	  days it holds.
 *
 * Counting distinct purchase days from orders that arrive in any order, and
 * merging partial sets from parallel workers, needs the set itself.  A
 * bitmap over the span from the first to the last day costs one bit a day
 * of the span: about 140 bytes for three years, but 92 kB for a customer
 * with a placeholder order on 0001-01-01 beside their real ones, and 268 MB
 * for one with a date at each end of the calendar.  A sorted array costs
 * four bytes a day held, whatever the dates, but 32 times the bitmap for a
 * customer who buys every day.
 *
 * So the set is both: a bitmap over a window of 64-day words where the days
 * are dense, and the days outside the window in a sorted array ("sparse"
 * days).  A layout costs 8 bytes a word plus 4 a sparse day, and the
 * cheapest layout of a set of days (no window at all, or the window whose
 * words pay for themselves) is found in one pass over the days in order.
 * A placeholder far from the rest is a sparse day: it adds 4 bytes to the
 * cheapest layout, as an order on a day of its own would.
 *
 * The set keeps its layout while it grows and chooses the cheapest again
 * only when its cost has doubled since the last choice (plus 32 bytes):
 * a day inside the window is one bit set, a day in the word just before or
 * after the window widens it by that word (a customer who buys often, in
 * time order, never needs more), any other day is inserted into the
 * array (usually at its end).  Adding a day never makes the cheapest layout
 * cheaper, so the set never costs more than twice its cheapest layout plus
 * 32 bytes, and the passes over the days are paid for by the days that
 * doubled the cost: a constant number of steps per day added.  Merging a
 * partial set from a parallel worker adds its days the same way, one by
 * one (into an empty set, it is copied as it is).
 *
 * The set is stored inline in its owner's allocation (the aggregate state),
 * which grows it when told: one allocation per customer, and no pointer to
 * chase per row.  Results (count, first, last, previous day) depend only on
 * the days, never on the layout, so any input order and any merge of
 * partial sets give the same ones.
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"

#include "dayset.h"

/* The largest window a set may have: every representable date. */
#define DAYSET_MAX_WORDS	((int32) (((int64) DATEVAL_NOEND - DATEVAL_NOBEGIN) / 64 + 2))

/*
 * The days a set may hold: every date, and the day before the first, which
 * is where the first timestamptz falls in a zone west of UTC.
 */
#define DAYSET_MIN_DAY	((int64) DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE - 1)
#define DAYSET_END_DAY	((int64) DATE_END_JULIAN - POSTGRES_EPOCH_JDATE)

static inline bool
valid_day(int64 day)
{
	return day >= DAYSET_MIN_DAY && day < DAYSET_END_DAY;
}

/* The sorted days outside the window, after the words. */
static inline DateADT *
sparse_days(DaySet *set)
{
	return (DateADT *) (set->words + set->nwords);
}

static inline const DateADT *
sparse_days_const(const DaySet *set)
{
	return (const DateADT *) (set->words + set->nwords);
}

/* Four-byte slots in use: two a word, one a sparse day. */
static inline int32
used_slots(const DaySet *set)
{
	return 2 * set->nwords + set->nsparse;
}

/* The index of the 64-day word holding a day (floor division). */
static inline int64
word_of(DateADT day)
{
	return ((int64) day - (((int64) day % 64 + 64) % 64)) / 64;
}

/* The end (exclusive) of the set's window, as a day number. */
static inline int64
window_end(const DaySet *set)
{
	return (int64) set->base + (int64) set->nwords * 64;
}

/* Set the bit of a day inside the window. */
static inline void
set_bit(DaySet *set, DateADT day)
{
	int64		offset = (int64) day - set->base;

	Assert(offset >= 0 && offset < (int64) set->nwords * 64);
	set->words[offset / 64] |= UINT64CONST(1) << (offset % 64);
}

/* The index of the first of n sorted days that is not before the day. */
static inline int32
lower_bound(const DateADT *days, int32 n, DateADT day)
{
	int32		lo = 0,
				hi = n;

	while (lo < hi)
	{
		int32		mid = lo + (hi - lo) / 2;

		if (days[mid] < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Remember the cost of a layout just chosen: the layout is chosen again
 * once more than twice as many slots (and 8 more) are in use.
 */
static inline void
chosen(DaySet *set)
{
	set->relayout_at = (int32) Min((int64) PG_INT32_MAX, 2 * (int64) used_slots(set) + 8);
}

/* Make an empty set in room for that many slots. */
void
dayset_init(DaySet *set, int32 room)
{
	set->base = 0;
	set->nwords = 0;
	set->nsparse = 0;
	set->room = room;
	set->first = 0;
	chosen(set);
}

/*
 * Reading the days of a set in order: the bitmap's bits and the sparse
 * days, merged (sparse days are outside the window, so never both).
 */
typedef struct DayCursor
{
	const DaySet *set;
	const DateADT *sparse;
	int32		word;			/* index of the word "bits" came from */
	uint64		bits;			/* its bits not yet taken */
	int32		next;			/* index of the next sparse day */
} DayCursor;

/* Start reading a set's days at the first that is not before the day. */
static void
cursor_start(DayCursor *cursor, const DaySet *set, DateADT day)
{
	int64		offset = (int64) day - set->base;

	cursor->set = set;
	cursor->sparse = sparse_days_const(set);
	cursor->next = lower_bound(cursor->sparse, set->nsparse, day);
	cursor->word = 0;
	cursor->bits = 0;
	if (set->nwords == 0 || offset >= (int64) set->nwords * 64)
		cursor->word = Max(set->nwords - 1, 0);
	else if (offset <= 0)
		cursor->bits = set->words[0];
	else
	{
		cursor->word = (int32) (offset / 64);
		cursor->bits = set->words[cursor->word] & ~((UINT64CONST(1) << (offset % 64)) - 1);
	}
}

/* The cursor's next day, not taken yet; false at the end. */
static inline bool
cursor_peek(DayCursor *cursor, DateADT *day)
{
	const DaySet *set = cursor->set;
	bool		has_sparse = cursor->next < set->nsparse;

	while (cursor->bits == 0 && cursor->word + 1 < set->nwords)
		cursor->bits = set->words[++cursor->word];
	if (cursor->bits != 0)
	{
		*day = set->base + (DateADT) (cursor->word * 64) + pg_rightmost_one_pos64(cursor->bits);
		if (has_sparse && cursor->sparse[cursor->next] < *day)
			*day = cursor->sparse[cursor->next];
		return true;
	}
	if (has_sparse)
		*day = cursor->sparse[cursor->next];
	return has_sparse;
}

/* Take the day cursor_peek gave. */
static inline void
cursor_take(DayCursor *cursor, DateADT day)
{
	if (cursor->next < cursor->set->nsparse && cursor->sparse[cursor->next] == day)
		cursor->next++;
	else
		cursor->bits &= cursor->bits - 1;
}

/* The cursor's next day, taken; false at the end. */
static inline bool
cursor_next(DayCursor *cursor, DateADT *day)
{
	if (!cursor_peek(cursor, day))
		return false;
	cursor_take(cursor, *day);
	return true;
}

/* A layout: the window, and how many days fall outside it. */
typedef struct Layout
{
	DateADT		base;
	int32		nwords;
	int32		nsparse;
} Layout;

/*
 * The cheapest layout of a set's days.  With the days d_0 < ... <
 * d_n-1 and w_k the word of d_k, a window from the word of d_i to the word
 * of d_j costs 8 (w_j - w_i + 1) + 4 (n - (j - i + 1)) bytes, which is
 * s_j - s_i + 4 n + 4 with s_k = 8 w_k - 4 k: the cheapest window pairs
 * each j with the largest s_i so far, in one pass.  It is taken if cheaper
 * than 4 n, no window.  (Its first day is the first of its word and its last
 * the last of its word, or a neighbour in the same word would make it
 * cheaper; so the days inside are exactly d_i .. d_j.)
 */
static void
plan_layout(const DaySet *set, Layout *layout)
{
	DayCursor	cursor;
	DateADT		day;
	int64		n = 0,
				best = 0,
				top = 0,
				top_k = 0,
				top_word = 0,
				lo_k = 0,
				lo_word = 0,
				hi_k = 0,
				hi_word = 0;

	cursor_start(&cursor, set, DATEVAL_NOBEGIN);
	while (cursor_next(&cursor, &day))
	{
		int64		word = word_of(day);
		int64		s = 8 * word - 4 * n;

		if (n == 0 || s > top)
		{
			top = s;
			top_k = n;
			top_word = word;
		}
		if (n == 0 || s - top < best)
		{
			best = s - top;
			lo_k = top_k;
			lo_word = top_word;
			hi_k = n;
			hi_word = word;
		}
		if ((++n & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (n > 0 && best + 4 < 0)
	{
		layout->base = (DateADT) (lo_word * 64);
		layout->nwords = (int32) (hi_word - lo_word + 1);
		layout->nsparse = (int32) (n - (hi_k - lo_k + 1));
	}
	else
	{
		layout->base = 0;
		layout->nwords = 0;
		layout->nsparse = (int32) n;
	}
}

/*
 * Write the days of a set into "into" in the given layout; the set must not
 * be "into" itself.  Keeps its room.
 */
static void
write_layout(DaySet *into, const Layout *layout, const DaySet *set)
{
	DayCursor	cursor;
	DateADT		day;
	DateADT    *sparse;
	int64		n = 0;

	Assert(2 * layout->nwords + layout->nsparse <= into->room);
	into->base = layout->base;
	into->nwords = layout->nwords;
	into->nsparse = 0;
	memset(into->words, 0, sizeof(uint64) * layout->nwords);
	sparse = sparse_days(into);
	cursor_start(&cursor, set, DATEVAL_NOBEGIN);
	while (cursor_next(&cursor, &day))
	{
		if (n++ == 0)
			into->first = day;
		if (day >= into->base && day < window_end(into))
			set_bit(into, day);
		else
			sparse[into->nsparse++] = day;
		if ((n & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	Assert(into->nsparse == layout->nsparse);
	chosen(into);
}

/*
 * Give the set its cheapest layout, which never takes more room than the
 * one it has.
 */
static void
relayout(DaySet *set)
{
	uint64		buffer[128];
	Size		used = DAYSET_SIZE(used_slots(set));
	DaySet	   *copy = used <= sizeof(buffer) ? (DaySet *) buffer : palloc(used);
	Layout		layout;

	memcpy(copy, set, used);
	plan_layout(copy, &layout);
	write_layout(set, &layout, copy);
	if ((void *) copy != (void *) buffer)
		pfree(copy);
}

/*
 * Add the days of "from" from *resume on (the first call passes from's
 * first day) to "into", in order, each as dayset_add does; false when
 * "into" needs more room first (dayset_room_to_add), with *resume the day
 * to go on from.  Merging partial sets this way costs a step per day of
 * "from", and keeps the bound of any set built by adding days.
 */
bool
dayset_union(DaySet *into, const DaySet *from, DateADT *resume)
{
	DayCursor	cursor;
	DateADT		day;

	cursor_start(&cursor, from, *resume);
	while (cursor_peek(&cursor, &day))
	{
		if (!dayset_add(into, day))
		{
			*resume = day;
			return false;
		}
		cursor_take(&cursor, day);
	}
	return true;
}

/* The room (slots) a copy of the set needs. */
int32
dayset_copy_room(const DaySet *set)
{
	return used_slots(set);
}

/*
 * Make "into", which has dayset_copy_room(from) room, a copy of "from" in
 * the same layout: the first partial set a combine sees for a customer.
 */
void
dayset_copy(DaySet *into, const DaySet *from)
{
	int32		room = into->room;

	Assert(used_slots(from) <= room);
	memcpy(into, from, DAYSET_SIZE(used_slots(from)));
	into->room = room;
}

/*
 * Widen the window by the word just before or after it that holds the
 * day, moving any sparse days in that word into the bitmap, and add the
 * day.  There must be room for one more word.
 */
static void
widen(DaySet *set, DateADT day)
{
	DateADT    *sparse = sparse_days(set);
	Size		sparse_bytes = sizeof(DateADT) * set->nsparse;
	int32		lo,
				hi;

	if (day < set->base)
	{
		memmove(set->words + 1, set->words, sizeof(uint64) * set->nwords + sparse_bytes);
		set->words[0] = 0;
		set->base -= 64;
	}
	else
	{
		memmove(sparse + 2, sparse, sparse_bytes);
		set->words[set->nwords] = 0;
	}
	set->nwords++;
	sparse = sparse_days(set);
	lo = lower_bound(sparse, set->nsparse, set->base);
	for (hi = lo; hi < set->nsparse && sparse[hi] < window_end(set); hi++)
		set_bit(set, sparse[hi]);
	memmove(sparse + lo, sparse + hi, sizeof(DateADT) * (set->nsparse - hi));
	set->nsparse -= hi - lo;
	set_bit(set, day);
}

/*
 * dayset_add for a day outside the window: widen the window by a word if
 * the day is in the word next to it, or insert the day into the sparse
 * days; then choose the layout again if the set's cost has doubled.  False,
 * changing nothing, when that needs more room than the set has.
 */
bool
dayset_add_outside(DaySet *set, DateADT day)
{
	DateADT    *sparse = sparse_days(set);
	int32		n = set->nsparse,
				pos = n;
	bool		was_empty = dayset_empty(set);

	if (n > 0 && day <= sparse[n - 1])
	{
		if (day == sparse[n - 1])
			return true;		/* another order on the latest day */
		pos = lower_bound(sparse, n, day);
		if (sparse[pos] == day)
			return true;
	}
	if (set->nwords > 0 && (int64) day >= (int64) set->base - 64 &&
		(int64) day < window_end(set) + 64)
	{
		if (set->room < used_slots(set) + 2)
			return false;
		widen(set, day);
	}
	else
	{
		if (set->room < used_slots(set) + 1)
			return false;
		if (pos < n)
			memmove(sparse + pos + 1, sparse + pos, sizeof(DateADT) * (n - pos));
		sparse[pos] = day;
		set->nsparse++;
	}
	if (was_empty || day < set->first)
		set->first = day;
	if (used_slots(set) > set->relayout_at)
		relayout(set);
	return true;
}

/* Number of days in the set. */
int32
dayset_count(const DaySet *set)
{
	int32		count = set->nsparse;

	for (int32 i = 0; i < set->nwords; i++)
		count += pg_popcount64(set->words[i]);
	return count;
}

/* The latest day; the set must not be empty. */
DateADT
dayset_last(const DaySet *set)
{
	const DateADT *sparse = sparse_days_const(set);
	DateADT		last = 0;

	Assert(!dayset_empty(set));
	if (set->nwords > 0)
		last = set->base + (set->nwords - 1) * 64 +
			pg_leftmost_one_pos64(set->words[set->nwords - 1]);
	if (set->nsparse > 0 && (set->nwords == 0 || sparse[set->nsparse - 1] > last))
		last = sparse[set->nsparse - 1];
	return last;
}

/* The latest day of the bitmap strictly before the given one, if any. */
static bool
bitmap_previous(const DaySet *set, DateADT day, DateADT *previous)
{
	int64		offset = (int64) day - set->base - 1;

	if (set->nwords == 0 || offset < 0)
		return false;
	if (offset >= (int64) set->nwords * 64)
		offset = (int64) set->nwords * 64 - 1;
	for (int64 w = offset / 64; w >= 0; w--)
	{
		uint64		word = set->words[w];

		if (w == offset / 64 && offset % 64 < 63)
			word &= (UINT64CONST(1) << (offset % 64 + 1)) - 1;
		if (word != 0)
		{
			*previous = set->base + (DateADT) (w * 64) + pg_leftmost_one_pos64(word);
			return true;
		}
	}
	return false;
}

/*
 * The latest day of the set strictly before the given one; false if there
 * is none.  Used for the purchase day before the last.
 */
bool
dayset_previous(const DaySet *set, DateADT day, DateADT *previous)
{
	const DateADT *sparse = sparse_days_const(set);
	bool		found = bitmap_previous(set, day, previous);
	int32		pos = lower_bound(sparse, set->nsparse, day);

	if (pos > 0 && (!found || sparse[pos - 1] > *previous))
	{
		*previous = sparse[pos - 1];
		found = true;
	}
	return found;
}

/*
 * Append the set to a buffer: base, word count, sparse day count, then the
 * words and the sparse days.
 */
void
dayset_send(StringInfo buf, const DaySet *set)
{
	const DateADT *sparse = sparse_days_const(set);

	/* room for all of it at once, then unchecked writes (rfm_state_serialize) */
	enlargeStringInfo(buf, 3 * sizeof(int32) + set->nwords * sizeof(uint64) + set->nsparse * sizeof(DateADT));
	pq_writeint32(buf, set->base);
	pq_writeint32(buf, set->nwords);
	pq_writeint32(buf, set->nsparse);
	for (int32 i = 0; i < set->nwords; i++)
		pq_writeint64(buf, set->words[i]);
	for (int32 i = 0; i < set->nsparse; i++)
		pq_writeint32(buf, sparse[i]);
}

/* Reject a serialized set that cannot be ours. */
static inline void
check_set(bool ok)
{
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid purchase-day set in serialized rfm_agg state")));
}

/*
 * The room (slots) of the set dayset_send wrote at the buffer's cursor,
 * checked against the bytes that follow, without consuming it: its reader
 * must make the room first.
 */
int32
dayset_receive_room(StringInfo buf)
{
	int			cursor = buf->cursor;
	DateADT		base;
	int32		nwords,
				nsparse;

	check_set(buf->len - buf->cursor >= 12);
	base = pq_getmsgint(buf, 4);
	nwords = pq_getmsgint(buf, 4);
	nsparse = pq_getmsgint(buf, 4);
	check_set(base % 64 == 0 && nwords >= 0 && nwords <= DAYSET_MAX_WORDS && nsparse >= 0 &&
			  (int64) nwords * 8 + (int64) nsparse * 4 <= buf->len - buf->cursor);
	buf->cursor = cursor;
	return 2 * nwords + nsparse;
}

/*
 * Is a received set well formed: the bitmap's end words not empty, every
 * day one a set may hold, the sparse days in increasing order and outside the
 * window?
 */
static bool
well_formed(const DaySet *set)
{
	const DateADT *sparse = sparse_days_const(set);

	if (set->nwords > 0)
	{
		if (set->words[0] == 0 || set->words[set->nwords - 1] == 0)
			return false;
		if (!valid_day((int64) set->base + pg_rightmost_one_pos64(set->words[0])) ||
			!valid_day(window_end(set) - 64 + pg_leftmost_one_pos64(set->words[set->nwords - 1])))
			return false;
	}
	for (int32 i = 0; i < set->nsparse; i++)
		if (!valid_day(sparse[i]) || (i > 0 && sparse[i] <= sparse[i - 1]) ||
			(sparse[i] >= set->base && sparse[i] < window_end(set)))
			return false;
	return true;
}

/*
 * Read a set written by dayset_send into a set with dayset_receive_room()
 * room, checking that it is well formed: a damaged or foreign state must
 * fail cleanly, never index out of bounds or give wrong days.
 */
void
dayset_receive(StringInfo buf, DaySet *set)
{
	DateADT    *sparse;

	Assert(dayset_receive_room(buf) <= set->room);
	set->base = pq_getmsgint(buf, 4);
	set->nwords = pq_getmsgint(buf, 4);
	set->nsparse = pq_getmsgint(buf, 4);
	for (int32 i = 0; i < set->nwords; i++)
		set->words[i] = pq_getmsgint64(buf);
	sparse = sparse_days(set);
	for (int32 i = 0; i < set->nsparse; i++)
		sparse[i] = pq_getmsgint(buf, 4);
	check_set(well_formed(set));
	if (set->nwords > 0)
		set->first = set->base + pg_rightmost_one_pos64(set->words[0]);
	if (set->nsparse > 0 && (set->nwords == 0 || sparse[0] < set->first))
		set->first = sparse[0];
	chosen(set);
}
