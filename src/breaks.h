/*
 * breaks.h
 *	  RFM scoring methods and metric values, shared by the breaks aggregate
 *	  (breaks.c) and the score functions (scores.c).
 */
#ifndef LIFECYCLE_BREAKS_H
#define LIFECYCLE_BREAKS_H

#include "postgres.h"

#include "utils/numeric.h"

/* The scoring methods of PRODUCT.md section 4, in lifecycle.rfm_breaks.method. */
typedef enum BreaksMethod
{
	METHOD_QUANTILE,
	METHOD_RFM_R,
	METHOD_NTILE
} BreaksMethod;

#define METHOD_COUNT	3

/* The metrics, in the order of lifecycle.rfm_breaks's arrays. */
typedef enum BreaksMetric
{
	METRIC_R,
	METRIC_F,
	METRIC_M
} BreaksMetric;

#define METRIC_COUNT	3

/* Breaks per metric: four, between scores 1-5. */
#define BREAKS_PER_METRIC	4

extern BreaksMethod breaks_method(const char *name, int len);
extern const char *breaks_method_name(BreaksMethod method);
extern double metric_value(Numeric value, const char *metric);
extern void metric_breaks(double *values, int64 n, BreaksMethod method, double *breaks);

/* scores.c */
extern int	score_of(BreaksMethod method, BreaksMetric metric, const double *breaks, double x);

#endif
