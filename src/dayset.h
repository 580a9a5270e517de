/*
 * dayset.h
 *	  A set of purchase days: a bitmap over where the days are dense, and
 *	  the days outside it in a sorted array.
 */
#ifndef LIFECYCLE_DAYSET_H
#define LIFECYCLE_DAYSET_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/date.h"

/*
 * Bit i of words[] is day base + i: the bitmap covers the window [base,
 * base + 64 * nwords), and when it has words its first and last are not
 * zero.  The nsparse days outside the window follow the words, as a sorted
 * array of DateADT.  The set is stored inline in its owner's allocation,
 * which has room for "room" four-byte slots behind the header (a word takes
 * two): the owner grows it when dayset_add says it must (see dayset.c for
 * how the layout is chosen and what it costs).
 */
typedef struct DaySet
{
	DateADT		base;			/* day of bit 0; a multiple of 64 */
	int32		nwords;			/* words of the bitmap; 0: no bitmap */
	int32		nsparse;		/* days outside the bitmap, after the words */
	int32		room;			/* four-byte slots the owner made for both */
	int32		relayout_at;	/* slots in use beyond which the layout is chosen again */
	DateADT		first;			/* the earliest day, when the set is not empty */
	uint64		words[FLEXIBLE_ARRAY_MEMBER];
} DaySet;

/* Bytes taken by a set with room for the given number of slots. */
#define DAYSET_SIZE(room) (offsetof(DaySet, words) + sizeof(int32) * (Size) (room))

/* The slots the room of a set of the given size holds. */
#define DAYSET_ROOM(size) ((int32) (((size) - offsetof(DaySet, words)) / sizeof(int32)))

/* Is the set empty? */
static inline bool
dayset_empty(const DaySet *set)
{
	return set->nwords == 0 && set->nsparse == 0;
}

/*
 * Where a day falls against the set's first day: negative before it (or for
 * an empty set), 0 on it, positive after it.
 */
static inline int
dayset_cmp_first(const DaySet *set, DateADT day)
{
	if (dayset_empty(set) || day < set->first)
		return -1;
	return day > set->first;
}

extern void dayset_init(DaySet *set, int32 room);
extern bool dayset_add_outside(DaySet *set, DateADT day);

/*
 * Add a day to the set; false, leaving the set as it was, when the set
 * needs more room first (dayset_room_to_add).  A day inside the bitmap
 * (most days of a customer who buys often) is one bit set, here.
 */
static inline bool
dayset_add(DaySet *set, DateADT day)
{
	uint64		offset = (uint64) ((int64) day - set->base);

	if (offset < (uint64) set->nwords * 64)
	{
		set->words[offset / 64] |= UINT64CONST(1) << (offset % 64);
		if (day < set->first)
			set->first = day;
		return true;
	}
	return dayset_add_outside(set, day);
}

/* The room (slots) the set needs before dayset_add can add any day. */
static inline int32
dayset_room_to_add(const DaySet *set)
{
	return 2 * set->nwords + set->nsparse + 2;
}

extern int32 dayset_copy_room(const DaySet *set);
extern void dayset_copy(DaySet *into, const DaySet *from);
extern bool dayset_union(DaySet *into, const DaySet *from, DateADT *resume);
extern int32 dayset_count(const DaySet *set);
extern DateADT dayset_last(const DaySet *set);
extern bool dayset_previous(const DaySet *set, DateADT day, DateADT *previous);
extern void dayset_send(StringInfo buf, const DaySet *set);
extern int32 dayset_receive_room(StringInfo buf);
extern void dayset_receive(StringInfo buf, DaySet *set);

/* The earliest day; the set must not be empty. */
static inline DateADT
dayset_first(const DaySet *set)
{
	Assert(!dayset_empty(set));
	return set->first;
}

#endif
