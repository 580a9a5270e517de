/*
 * dayset.c
 *	  The set of a customer's purchase days, as a bitmap.
 *
 * Counting distinct purchase days from orders that arrive in any order, and
 * merging partial sets from parallel workers, needs the set itself; a bitmap
 * over the span between the first and last day costs one bit a day (about
 * 140 bytes for three years) however many orders there are.  The bitmap is
 * stored inline in its owner's allocation (the aggregate state), which
 * grows it: one allocation per customer, and no pointer to chase per row.
 */
#include "postgres.h"

#include "libpq/pqformat.h"
#include "port/pg_bitutils.h"

#include "dayset.h"

/* The largest span a set may cover: every representable date. */
#define DAYSET_MAX_WORDS	((int32) (((int64) DATEVAL_NOEND - DATEVAL_NOBEGIN) / 64 + 2))

/* The word-aligned base for a day (floor to a multiple of 64). */
static inline DateADT
word_base(DateADT day)
{
	return (DateADT) (day - (DateADT) (((int64) day % 64 + 64) % 64));
}

/* The word-aligned base of the last word of a non-empty set. */
static inline DateADT
last_word_base(const DaySet *set)
{
	return (DateADT) (set->base + (int64) (set->nwords - 1) * 64);
}

/*
 * The number of words the set needs to cover its own days and the span
 * [first, last] too.
 */
int32
dayset_words_with(const DaySet *set, DateADT first, DateADT last)
{
	DateADT		lo = word_base(first),
				hi = word_base(last);

	if (set->nwords > 0)
	{
		lo = Min(lo, set->base);
		hi = Max(hi, last_word_base(set));
	}
	return (int32) (((int64) hi - lo) / 64 + 1);
}

/*
 * Make the set cover [first, last] as well as its days, keeping them.  Its
 * owner must have made room for dayset_words_with(set, first, last) words.
 */
void
dayset_widen(DaySet *set, DateADT first, DateADT last)
{
	int32		nwords = dayset_words_with(set, first, last);
	DateADT		lo = word_base(first);
	int32		shift;

	if (set->nwords == 0)
	{
		memset(set->words, 0, sizeof(uint64) * nwords);
		set->base = lo;
		set->nwords = nwords;
		return;
	}
	lo = Min(lo, set->base);
	shift = (int32) (((int64) set->base - lo) / 64);
	if (shift > 0)
		memmove(set->words + shift, set->words, sizeof(uint64) * set->nwords);
	memset(set->words, 0, sizeof(uint64) * shift);
	memset(set->words + shift + set->nwords, 0,
		   sizeof(uint64) * (nwords - shift - set->nwords));
	set->base = lo;
	set->nwords = nwords;
}

/*
 * Add a day the set already covers (see dayset_covers); returns true if it
 * was not in the set before.
 */
bool
dayset_add(DaySet *set, DateADT day)
{
	int64		offset = (int64) day - set->base;
	uint64		bit = UINT64CONST(1) << (offset % 64);

	Assert(dayset_covers(set, day));
	if (set->words[offset / 64] & bit)
		return false;
	set->words[offset / 64] |= bit;
	return true;
}

/* Add every day of one set to another, which must already cover them. */
void
dayset_union(DaySet *into, const DaySet *from)
{
	int64		shift;

	if (from->nwords == 0)
		return;
	Assert(dayset_covers(into, from->base) && dayset_covers(into, last_word_base(from)));
	shift = ((int64) from->base - into->base) / 64;
	for (int32 i = 0; i < from->nwords; i++)
		into->words[shift + i] |= from->words[i];
}

/* Number of days in the set. */
int32
dayset_count(const DaySet *set)
{
	int32		count = 0;

	for (int32 i = 0; i < set->nwords; i++)
		count += pg_popcount64(set->words[i]);
	return count;
}

/* The earliest day; the set must not be empty. */
DateADT
dayset_first(const DaySet *set)
{
	Assert(set->nwords > 0 && set->words[0] != 0);
	return set->base + pg_rightmost_one_pos64(set->words[0]);
}

/* The latest day; the set must not be empty. */
DateADT
dayset_last(const DaySet *set)
{
	int32		last = set->nwords - 1;

	Assert(set->nwords > 0 && set->words[last] != 0);
	return set->base + last * 64 + pg_leftmost_one_pos64(set->words[last]);
}

/*
 * The latest day of the set strictly before the given one; false if there
 * is none.  Used for the purchase day before the last.
 */
bool
dayset_previous(const DaySet *set, DateADT day, DateADT *previous)
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

/* Append the set to a buffer: base, word count, then the words. */
void
dayset_send(StringInfo buf, const DaySet *set)
{
	pq_sendint32(buf, set->base);
	pq_sendint32(buf, set->nwords);
	for (int32 i = 0; i < set->nwords; i++)
		pq_sendint64(buf, set->words[i]);
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
 * The number of words of the set dayset_send wrote at the buffer's cursor,
 * checked, without consuming it: its reader must make room for them first.
 */
int32
dayset_receive_words(StringInfo buf)
{
	int			cursor = buf->cursor;
	DateADT		base = pq_getmsgint(buf, 4);
	int32		nwords = pq_getmsgint(buf, 4);

	check_set(nwords >= 0 && nwords <= DAYSET_MAX_WORDS && base % 64 == 0 &&
			  (int64) nwords * 8 <= buf->len - buf->cursor);
	buf->cursor = cursor;
	return nwords;
}

/*
 * Read a set written by dayset_send into a set with room for
 * dayset_receive_words() words, checking that it is well formed: a damaged
 * or foreign state must fail cleanly, never index out of bounds.
 */
void
dayset_receive(StringInfo buf, DaySet *set)
{
	(void) dayset_receive_words(buf);
	set->base = pq_getmsgint(buf, 4);
	set->nwords = pq_getmsgint(buf, 4);
	for (int32 i = 0; i < set->nwords; i++)
		set->words[i] = pq_getmsgint64(buf);
	check_set(set->nwords == 0 ||
			  (set->words[0] != 0 && set->words[set->nwords - 1] != 0));
}
