/*
 * dayset.c
 *	  The set of a customer's purchase days, as a bitmap.
 *
 * Counting distinct purchase days from orders that arrive in any order, and
 * merging partial sets from parallel workers, needs the set itself; a bitmap
 * over the span between the first and last day costs one bit a day (about
 * 140 bytes for three years) however many orders there are.
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

/*
 * Make the set cover [lo, hi] (both multiples of 64, hi exclusive of the
 * last word's start + 64), keeping its days.
 */
static void
dayset_cover(DaySet *set, DateADT lo, DateADT hi_word_base, MemoryContext mcxt)
{
	int32		nwords = (int32) (((int64) hi_word_base - lo) / 64 + 1);
	uint64	   *words = MemoryContextAllocZero(mcxt, sizeof(uint64) * nwords);

	if (set->nwords > 0)
	{
		memcpy(words + ((int64) set->base - lo) / 64, set->words,
			   sizeof(uint64) * set->nwords);
		pfree(set->words);
	}
	set->base = lo;
	set->nwords = nwords;
	set->words = words;
}

/* Add a day; returns true if it was not in the set before. */
bool
dayset_add(DaySet *set, DateADT day, MemoryContext mcxt)
{
	DateADT		wb = word_base(day);
	int64		offset;
	uint64		bit;

	if (set->nwords == 0)
		dayset_cover(set, wb, wb, mcxt);
	else if (wb < set->base)
		dayset_cover(set, wb, set->base + (set->nwords - 1) * 64, mcxt);
	else if (wb > set->base + (set->nwords - 1) * 64)
		dayset_cover(set, set->base, wb, mcxt);

	offset = (int64) day - set->base;
	bit = UINT64CONST(1) << (offset % 64);
	if (set->words[offset / 64] & bit)
		return false;
	set->words[offset / 64] |= bit;
	return true;
}

/* Add every day of one set to another. */
void
dayset_union(DaySet *into, const DaySet *from, MemoryContext mcxt)
{
	DateADT		lo,
				hi;
	int64		shift;

	if (from->nwords == 0)
		return;
	lo = from->base;
	hi = from->base + (from->nwords - 1) * 64;
	if (into->nwords > 0)
	{
		lo = Min(lo, into->base);
		hi = Max(hi, into->base + (into->nwords - 1) * 64);
	}
	if (into->nwords == 0 || lo != into->base ||
		hi != into->base + (into->nwords - 1) * 64)
		dayset_cover(into, lo, hi, mcxt);

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

/*
 * Read a set written by dayset_send, checking that it is well formed: a
 * damaged or foreign state must fail cleanly, never index out of bounds.
 */
void
dayset_receive(StringInfo buf, DaySet *set, MemoryContext mcxt)
{
	set->base = pq_getmsgint(buf, 4);
	set->nwords = pq_getmsgint(buf, 4);
	set->words = NULL;
	if (set->nwords < 0 || set->nwords > DAYSET_MAX_WORDS ||
		set->base % 64 != 0 ||
		(int64) set->nwords * 8 > buf->len - buf->cursor)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid purchase-day set in serialized rfm_agg state")));
	if (set->nwords == 0)
		return;
	set->words = MemoryContextAlloc(mcxt, sizeof(uint64) * set->nwords);
	for (int32 i = 0; i < set->nwords; i++)
		set->words[i] = pq_getmsgint64(buf);
	if (set->words[0] == 0 || set->words[set->nwords - 1] == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid purchase-day set in serialized rfm_agg state")));
}
