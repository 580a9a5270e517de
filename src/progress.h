/*
 * progress.h
 *	  What a long segment view refresh shows while it runs, and the time of
 *	  each of its phases (progress.c).
 */
#ifndef LIFECYCLE_PROGRESS_H
#define LIFECYCLE_PROGRESS_H

#include "postgres.h"

/* The phases of computing a view's facts, in order. */
typedef enum FactsPhase
{
	PHASE_READ,					/* reading the order rows into customer states */
	PHASE_SCORE,				/* score breaks */
	PHASE_FIT,					/* purchase models */
	PHASE_WRITE,				/* one row per customer */
	PHASE_COUNT
} FactsPhase;

/* Report progress this often while reading order rows. */
#define PROGRESS_EVERY_ROWS	(1 << 20)

extern void progress_phase(FactsPhase phase, int64 rows, int64 customers);
extern void progress_done(int64 rows);
extern void progress_last(int64 *rows, double *seconds);

#endif
