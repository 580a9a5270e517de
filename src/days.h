/*
 * days.h
 *	  Whole calendar days: how order times become purchase days.
 */
#ifndef LIFECYCLE_DAYS_H
#define LIFECYCLE_DAYS_H

#include "postgres.h"

#include "pgtime.h"
#include "utils/date.h"
#include "utils/timestamp.h"

extern DateADT day_of_date(DateADT d);
extern DateADT day_of_timestamp(Timestamp ts);
extern DateADT day_of_timestamptz(TimestampTz ts, const pg_tz *zone);
extern const pg_tz *lookup_zone(const text *name);
extern TimestampTz day_start(DateADT day, const pg_tz *zone);

#endif
