/*
 * models.h
 *	  What the purchase-prediction model files share (PRODUCT.md section 6):
 *	  the weighted rows a fit reads, a fit's result, and the model
 *	  composites (lifecycle.bgnbd, lifecycle.mbgnbd, lifecycle.gammagamma).
 */
#ifndef LIFECYCLE_MODELS_H
#define LIFECYCLE_MODELS_H

#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"

#include "optim.h"

/*
 * One distinct input row and the total weight of the rows equal to it.
 * Purchase rows (BG/NBD, MBG/NBD): x = frequency, v = recency t_x, t = T.
 * Spend rows (Gamma-Gamma): x = frequency, v = mean spend per repeat
 * purchase, t = 0.
 */
typedef struct ModelRow
{
	double		x;
	double		v;
	double		t;
	double		weight;
} ModelRow;

/* The distinct rows of a fit, sorted by x, and their total weight (customers). */
typedef struct ModelRows
{
	ModelRow   *rows;
	int64		nrows;
	double		customers;
} ModelRows;

/* Customers with one frequency: rows[first .. first + count - 1]. */
typedef struct FrequencyGroup
{
	double		x;
	double		weight;
	int64		first;
	int64		count;
} FrequencyGroup;

/* A fit, as the model composites show it; NaN stands for NULL. */
typedef struct ModelFit
{
	int			nparams;
	double		params[OPTIM_MAX_PARAMS];
	double		se[OPTIM_MAX_PARAMS];
	double		log_likelihood;
	double		customers;
	bool		converged;
	int			iterations;
	const char *message;
} ModelFit;

/* modelrows.c: the fitting aggregates' state */
extern bool model_rows_get(FunctionCallInfo fcinfo, ModelRows *rows);
extern void model_rows_from_array(ModelRow *array, int64 n, ModelRows *rows);

/* modelfit.c */
extern FrequencyGroup *model_rows_groups(const ModelRows *rows, int64 *ngroups);
extern void model_fit_run(OptimObjective fn, void *arg, const char *const *names,
						  const ModelRows *rows, ModelFit *fit);
extern Datum model_fit_tuple(TupleDesc desc, const ModelFit *fit);
extern Datum model_fit_datum(FunctionCallInfo fcinfo, const ModelFit *fit);
extern void model_fit_none(ModelFit *fit, int nparams, double customers, const char *message);
extern void model_read(FunctionCallInfo fcinfo, int argno, int nparams, double *params);
extern bool purchase_history_valid(double x, double t_x, double t);
extern bool spend_history_valid(double x, double m);
extern bool spend_is_informative(double x, double m);
extern void check_purchase_history(double x, double t_x, double t);
extern void check_spend_history(double x, double m);
extern void check_weight(double weight);

/* bgnbd.c: the BG/NBD family, parameters (r, alpha, a, b). */
#define BGNBD_NPARAMS	4
#define BG_SHIFT		0		/* BG/NBD */
#define MBG_SHIFT		1		/* MBG/NBD: also a drop-out chance at the first purchase */
extern void bgnbd_fit_rows(const ModelRows *rows, int shift, ModelFit *fit);
extern double bgnbd_p_alive_of(const double *params, int shift, double x, double t_x, double t);
extern double bgnbd_expected_purchases(const double *params, int shift, double x,
									   double t_x, double t, double horizon);

/* gammagamma.c: parameters (p, q, gamma). */
#define GAMMAGAMMA_NPARAMS 3
extern void gammagamma_fit_rows(const ModelRows *rows, ModelFit *fit);
extern double gammagamma_expected_spend(const double *params, double x, double m);

/* clv.c */
extern double clv_of(const double *purchase_params, int shift, const double *spend_params,
					 double x, double t_x, double t, double m, int32 periods,
					 double period_length, double discount_rate);

#endif
