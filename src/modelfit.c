/*
 * modelfit.c
 *	  What the model files share besides the aggregate state: the checks on
 *	  a customer's history, running a fit and reporting its outcome, and the
 *	  model composites in and out.
 */
#include "postgres.h"

#include <math.h>

#include "funcapi.h"
#include "utils/builtins.h"

#include "compat.h"
#include "models.h"

/* A problem with one input row: what is wrong, and why it matters. */
typedef struct RowProblem
{
	const char *message;
	const char *detail;
} RowProblem;

/* True if x is a whole number >= 0. */
static inline bool
is_count(double x)
{
	return isfinite(x) && x >= 0 && x == floor(x);
}

/* Fill *problem and return false when a frequency is not a count. */
static bool
frequency_ok(double x, RowProblem *problem)
{
	if (is_count(x))
		return true;
	problem->message = "frequency must be a non-negative whole number";
	problem->detail = "Frequency counts repeat purchases: purchase days after the first one.";
	return false;
}

/*
 * True if (x, t_x, T) can be a customer's purchase history; otherwise fills
 * *problem.  The first purchase is at age 0, so a customer without repeat
 * purchases has recency 0 and one with repeat purchases a positive recency,
 * never above their age T.
 */
static bool
purchase_history_ok(double x, double t_x, double t, RowProblem *problem)
{
	if (!frequency_ok(x, problem))
		return false;
	problem->detail = "Recency is the customer's age at the last purchase, T the age at the end of the observation.";
	if (!isfinite(t_x) || t_x < 0)
		problem->message = "recency must be a non-negative finite number";
	else if (!isfinite(t) || t < 0)
		problem->message = "T must be a non-negative finite number";
	else if (t_x > t)
		problem->message = "recency must not exceed T";
	else if (x == 0 && t_x != 0)
		problem->message = "recency must be 0 when frequency is 0";
	else if (x > 0 && t_x == 0)
		problem->message = "recency must be positive when frequency is positive";
	else
		return true;
	return false;
}

/*
 * True if (x, m) can be a customer's spend history; otherwise fills
 * *problem.  A mean spend of 0 is possible (repeat purchases of no known
 * value) and carries no information on spend; a negative one is not.
 */
static bool
spend_history_ok(double x, double m, RowProblem *problem)
{
	if (!frequency_ok(x, problem))
		return false;
	problem->detail = "The monetary value is the mean spend of the repeat purchase days.";
	if (!isfinite(m))
		problem->message = "monetary value must be a finite number";
	else if (m < 0)
		problem->message = "monetary value must not be negative";
	else
		return true;
	return false;
}

/*
 * True if a valid spend history tells something about spend: repeat
 * purchases with a positive mean value.
 */
bool
spend_is_informative(double x, double m)
{
	return x > 0 && m > 0;
}

/* Raise a row problem as an invalid-parameter error. */
static void
report_problem(const RowProblem *problem, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", problem->message),
			 errdetail("%s", problem->detail),
			 errhint("%s", hint)));
}

/* True if (x, t_x, T) is a valid purchase history. */
bool
purchase_history_valid(double x, double t_x, double t)
{
	RowProblem	problem;

	return purchase_history_ok(x, t_x, t, &problem);
}

/* True if (x, m) is a valid spend history. */
bool
spend_history_valid(double x, double m)
{
	RowProblem	problem;

	return spend_history_ok(x, m, &problem);
}

/* Error unless (x, t_x, T) is a valid purchase history. */
void
check_purchase_history(double x, double t_x, double t)
{
	RowProblem	problem;

	if (!purchase_history_ok(x, t_x, t, &problem))
		report_problem(&problem, "Compute frequency, recency and T with lifecycle.btyd(summary, as_of, time_unit).");
}

/* Error unless (x, m) is a valid spend history. */
void
check_spend_history(double x, double m)
{
	RowProblem	problem;

	if (!spend_history_ok(x, m, &problem))
		report_problem(&problem, "Compute monetary_value with lifecycle.btyd(summary, as_of, time_unit).");
}

/* Error unless a row weight is positive and finite. */
void
check_weight(double weight)
{
	if (!(isfinite(weight) && weight > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weight must be a positive finite number"),
				 errdetail("A weight is the number of customers sharing the row's values."),
				 errhint("Leave out rows that stand for no customer.")));
}

/* The runs of rows with equal frequency, in order, with their weights. */
FrequencyGroup *
model_rows_groups(const ModelRows *rows, int64 *ngroups)
{
	FrequencyGroup *groups = palloc_extended(Max(rows->nrows, 1) * sizeof(FrequencyGroup),
											 MCXT_ALLOC_HUGE);
	int64		n = -1;

	for (int64 i = 0; i < rows->nrows; i++)
	{
		if (n < 0 || rows->rows[i].x != groups[n].x)
		{
			n++;
			groups[n].x = rows->rows[i].x;
			groups[n].weight = 0.0;
			groups[n].first = i;
			groups[n].count = 0;
		}
		groups[n].weight += rows->rows[i].weight;
		groups[n].count++;
	}
	*ngroups = n + 1;
	return groups;
}

/* What an optimizer outcome means for the user. */
static const char *
outcome_message(const OptimResult *result, const char *const *names)
{
	const char *name = result->which >= 0 ? names[result->which] : NULL;

	switch (result->status)
	{
		case OPTIM_CONVERGED:
			return "converged";
		case OPTIM_MAX_ITERATIONS:
			return psprintf("no convergence after %d iterations", result->iterations);
		case OPTIM_TO_ZERO:
			return psprintf("no maximum: the likelihood keeps rising as %s goes to 0", name);
		case OPTIM_TO_INFINITY:
			return psprintf("no maximum: the likelihood keeps rising as %s grows without bound", name);
		case OPTIM_STALLED:
			return "the search stalled: no step improves the likelihood";
		case OPTIM_NOT_IDENTIFIED:
			if (name != NULL)
				return psprintf("the data do not determine %s: its standard error spans orders of magnitude", name);
			return "the data do not determine the parameters: the information matrix is singular";
	}
	return NULL;				/* keep compiler quiet */
}

/*
 * Fit by maximum likelihood from the start in fit->params and fill in the
 * rest of *fit.  Parameters, standard errors and log-likelihood are only
 * given when the search converged to a well-determined maximum.
 */
void
model_fit_run(OptimObjective fn, void *arg, const char *const *names,
			  const ModelRows *rows, ModelFit *fit)
{
	OptimResult result;

	optim_minimize(fn, arg, fit->nparams, rows->customers, fit->params, &result);
	fit->customers = rows->customers;
	fit->iterations = result.iterations;
	fit->converged = result.status == OPTIM_CONVERGED;
	fit->message = outcome_message(&result, names);
	fit->log_likelihood = fit->converged ? -result.value * rows->customers : NAN;
	for (int i = 0; i < fit->nparams; i++)
	{
		if (!fit->converged)
			fit->params[i] = NAN;
		fit->se[i] = fit->converged && result.has_se ? result.se[i] : NAN;
	}
}

/* A float8 datum, NULL for NaN (the fit's "none"). */
static inline void
set_float(Datum *value, bool *isnull, double x)
{
	*isnull = isnan(x);
	*value = Float8GetDatum(x);
}

/*
 * The model composite of row type desc for *fit: the parameters, their
 * standard errors, log_likelihood, customers, converged, iterations and
 * message.
 */
Datum
model_fit_tuple(TupleDesc desc, const ModelFit *fit)
{
	Datum		values[2 * OPTIM_MAX_PARAMS + 5];
	bool		nulls[2 * OPTIM_MAX_PARAMS + 5];
	int			n = fit->nparams;

	if (desc->natts != 2 * n + 5)
		elog(ERROR, "model composite has %d attributes, expected %d", desc->natts, 2 * n + 5);
	for (int i = 0; i < n; i++)
	{
		set_float(&values[i], &nulls[i], fit->params[i]);
		set_float(&values[n + i], &nulls[n + i], fit->se[i]);
	}
	set_float(&values[2 * n], &nulls[2 * n], fit->log_likelihood);
	set_float(&values[2 * n + 1], &nulls[2 * n + 1], fit->customers);
	values[2 * n + 2] = BoolGetDatum(fit->converged);
	nulls[2 * n + 2] = false;
	values[2 * n + 3] = Int32GetDatum(fit->iterations);
	nulls[2 * n + 3] = false;
	values[2 * n + 4] = CStringGetTextDatum(fit->message);
	nulls[2 * n + 4] = false;
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

/* The model composite a function returns for *fit. */
Datum
model_fit_datum(FunctionCallInfo fcinfo, const ModelFit *fit)
{
	TupleDesc	desc = fcinfo->flinfo->fn_extra;

	if (desc == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "model function must return a composite type");
		desc = BlessTupleDesc(CreateTupleDescCopy(desc));
		fcinfo->flinfo->fn_extra = desc;
		MemoryContextSwitchTo(old);
	}
	return model_fit_tuple(desc, fit);
}

/*
 * A fit that has no estimate: NULL parameters, converged false, and the
 * message saying why.
 */
void
model_fit_none(ModelFit *fit, int nparams, double customers, const char *message)
{
	memset(fit, 0, sizeof(ModelFit));
	fit->nparams = nparams;
	for (int i = 0; i < nparams; i++)
		fit->params[i] = fit->se[i] = NAN;
	fit->log_likelihood = NAN;
	fit->customers = customers;
	fit->message = message;
}

PG_FUNCTION_INFO_V1(model_given);
/*
 * A model from given parameters (published ones, or a stored fit's): the
 * arguments are the parameters in order; they must be positive and finite.
 */
Datum
model_given(PG_FUNCTION_ARGS)
{
	ModelFit	fit;

	fit.nparams = PG_NARGS();
	Assert(fit.nparams <= OPTIM_MAX_PARAMS);
	for (int i = 0; i < fit.nparams; i++)
	{
		fit.params[i] = PG_GETARG_FLOAT8(i);
		fit.se[i] = NAN;
		if (!(isfinite(fit.params[i]) && fit.params[i] > 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("model parameters must be positive finite numbers")));
	}
	fit.log_likelihood = NAN;
	fit.customers = NAN;
	fit.converged = true;
	fit.iterations = 0;
	fit.message = "parameters given";
	PG_RETURN_DATUM(model_fit_datum(fcinfo, &fit));
}

/* The last model composite an argument position saw, and its parameters. */
typedef struct ModelCache
{
	Size		length;			/* 0: empty */
	char	   *bytes;
	double		params[OPTIM_MAX_PARAMS];
} ModelCache;

#define CACHED_MODEL_ARGS 2

/*
 * Parse a model composite's parameters for a prediction.  A model that did
 * not converge has no estimate to predict with: that is an error naming the
 * fit's message, never a prediction from meaningless numbers.
 */
static void
model_parse(HeapTupleHeader model, int nparams, double *params)
{
	bool		isnull;
	Datum		converged = GetAttributeByNum(model, 2 * nparams + 3, &isnull);

	if (isnull || !DatumGetBool(converged))
	{
		Datum		message = GetAttributeByNum(model, 2 * nparams + 5, &isnull);

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model did not converge"),
				 errdetail("The fit reports: %s.", isnull ? "nothing" : TextDatumGetCString(message)),
				 errhint("Check the fit's converged and message columns before predicting.")));
	}
	for (int i = 0; i < nparams; i++)
	{
		Datum		value = GetAttributeByNum(model, i + 1, &isnull);

		params[i] = isnull ? NAN : DatumGetFloat8(value);
		if (!(isfinite(params[i]) && params[i] > 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("model parameters must be positive finite numbers")));
	}
}

/*
 * The parameters of the model composite in argument argno (0 or 1) of a
 * prediction function.  A query usually predicts with one model for every
 * customer, so the parsed parameters are kept per call site and reused
 * while the composite's bytes stay the same.
 */
void
model_read(FunctionCallInfo fcinfo, int argno, int nparams, double *params)
{
	HeapTupleHeader model = PG_GETARG_HEAPTUPLEHEADER(argno);
	Size		length = HeapTupleHeaderGetDatumLength(model);
	ModelCache *cache;

	Assert(argno < CACHED_MODEL_ARGS && nparams <= OPTIM_MAX_PARAMS);
	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
														  CACHED_MODEL_ARGS * sizeof(ModelCache));
	cache = &((ModelCache *) fcinfo->flinfo->fn_extra)[argno];
	if (cache->length != length || memcmp(cache->bytes, model, length) != 0)
	{
		model_parse(model, nparams, cache->params);
		if (cache->bytes != NULL)
			pfree(cache->bytes);
		cache->bytes = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, length);
		memcpy(cache->bytes, model, length);
		cache->length = length;
	}
	memcpy(params, cache->params, nparams * sizeof(double));
}
