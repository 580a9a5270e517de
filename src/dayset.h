/*
 * dayset.h
 *	  A set of purchase days kept as a bitmap over the customer's span.
 */
#ifndef LIFECYCLE_DAYSET_H
#define LIFECYCLE_DAYSET_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "port/pg_bitutils.h"
#include "utils/date.h"

/*
 * Bit i of words[] is day base + i.  The words always run from the word that
 * holds the first day to the word that holds the last one, so memory is
 * bounded by the span of days (one bit a day), never by the number of orders.
 * An empty set has nwords = 0.  The words are stored inline, so that the
 * set sits in its owner's allocation: the owner makes room for
 * dayset_words_with() words before dayset_widen().
 */
typedef struct DaySet
{
	DateADT		base;			/* day of bit 0; a multiple of 64 */
	int32		nwords;
	uint64		words[FLEXIBLE_ARRAY_MEMBER];
} DaySet;

/* Bytes taken by a set of nwords words. */
#define DAYSET_SIZE(nwords) (offsetof(DaySet, words) + sizeof(uint64) * (nwords))

/* Is the day inside the span the set's words cover? */
static inline bool
dayset_covers(const DaySet *set, DateADT day)
{
	return set->nwords > 0 && day >= set->base &&
		(int64) day - set->base < (int64) set->nwords * 64;
}

/*
 * Where a day falls against the set's first day: negative before it (or for
 * an empty set), 0 on it, positive after it.  Reads the first word only for
 * a day inside it: a day in a later word is after the first day, and the
 * first word may be a cache line of its own.
 */
static inline int
dayset_cmp_first(const DaySet *set, DateADT day)
{
	DateADT		first;

	if (set->nwords == 0 || day < set->base)
		return -1;
	if ((int64) day - set->base >= 64)
		return 1;
	first = set->base + pg_rightmost_one_pos64(set->words[0]);
	return day < first ? -1 : day > first;
}

extern int32 dayset_words_with(const DaySet *set, DateADT first, DateADT last);
extern void dayset_widen(DaySet *set, DateADT first, DateADT last);
extern bool dayset_add(DaySet *set, DateADT day);
extern void dayset_union(DaySet *into, const DaySet *from);
extern int32 dayset_count(const DaySet *set);
extern DateADT dayset_first(const DaySet *set);
extern DateADT dayset_last(const DaySet *set);
extern bool dayset_previous(const DaySet *set, DateADT day, DateADT *previous);
extern void dayset_send(StringInfo buf, const DaySet *set);
extern int32 dayset_receive_words(StringInfo buf);
extern void dayset_receive(StringInfo buf, DaySet *set);

#endif
