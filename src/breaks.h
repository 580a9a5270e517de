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
	METHOD_NTILE,
	METHOD_BANDS
} BreaksMethod;

#define METHOD_COUNT	4

/* What an unknown or missing method's error suggests. */
#define BREAKS_METHOD_HINT "Use 'bands', 'quantile', 'rfm_r' or 'ntile'."

/* The stage thresholds the bands method uses outside a segment view (lifecycle.stage's defaults). */
#define BANDS_DEFAULT_ACTIVE_DAYS	90
#define BANDS_DEFAULT_DORMANT_DAYS	180

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
extern void recency_band_breaks(int32 active_days, int32 dormant_days, double *breaks);

/* scores.c */
extern int	score_of(BreaksMethod method, BreaksMetric metric, const double *breaks, double x);

#endif
