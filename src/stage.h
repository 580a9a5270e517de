/*
 * stage.h
 *	  The lifecycle stages (PRODUCT.md section 3) as C code computes them.
 */
#ifndef LIFECYCLE_STAGE_H
#define LIFECYCLE_STAGE_H

#include "postgres.h"

#include "summary.h"

/* The stages, as the enum lifecycle.stage labels them (stage_labels). */
typedef enum Stage
{
	STAGE_PROSPECT,
	STAGE_NEW,
	STAGE_ACTIVE,
	STAGE_AT_RISK,
	STAGE_DORMANT,
	STAGE_CHURNED,
	STAGE_REACTIVATED,
	STAGE_COUNT
} Stage;

extern const char *const stage_labels[STAGE_COUNT];

/* The policy of lifecycle.stage's arguments; no cadence rule if !cadence. */
typedef struct StagePolicy
{
	int32		active_days;
	int32		dormant_days;
	int32		churn_days;
	bool		cadence;
	double		cadence_factor;
	int32		cadence_min_days;
} StagePolicy;

extern void stage_policy_check(const StagePolicy *policy);
extern Stage stage_of(const StagePolicy *policy, const RfmDays *days, DateADT as_of);
extern void stage_enum_values(Oid enum_type, Datum *values);
extern Stage stage_of_label(const char *label, int len);
extern char *stage_fixed_reason(const StagePolicy *policy, Stage stage);
extern char *stage_reason(const StagePolicy *policy, const RfmDays *days, DateADT as_of, Stage stage);
extern DateADT stage_since(const StagePolicy *policy, const RfmDays *days, DateADT as_of,
						   bool (*day_before) (void *arg, DateADT day, DateADT *before), void *arg);

#endif
