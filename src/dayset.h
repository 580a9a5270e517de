/*
 * dayset.h
 *	  A set of purchase days kept as a bitmap over the customer's span.
 */
#ifndef LIFECYCLE_DAYSET_H
#define LIFECYCLE_DAYSET_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/date.h"

/*
 * Bit i of words[] is day base + i.  The words always run from the word that
 * holds the first day to the word that holds the last one, so memory is
 * bounded by the span of days (one bit a day), never by the number of orders.
 * An empty set has nwords = 0.
 */
typedef struct DaySet
{
	DateADT		base;			/* day of bit 0; a multiple of 64 */
	int32		nwords;
	uint64	   *words;			/* allocated in the owning memory context */
} DaySet;

extern bool dayset_add(DaySet *set, DateADT day, MemoryContext mcxt);
extern void dayset_union(DaySet *into, const DaySet *from, MemoryContext mcxt);
extern int32 dayset_count(const DaySet *set);
extern DateADT dayset_first(const DaySet *set);
extern DateADT dayset_last(const DaySet *set);
extern bool dayset_previous(const DaySet *set, DateADT day, DateADT *previous);
extern void dayset_send(StringInfo buf, const DaySet *set);
extern void dayset_receive(StringInfo buf, DaySet *set, MemoryContext mcxt);

#endif
