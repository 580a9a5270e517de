/*
 * optim.h
 *	  Maximum likelihood over positive parameters: a damped Newton method on
 *	  the log-parameters, with standard errors from the observed information.
 */
#ifndef LIFECYCLE_OPTIM_H
#define LIFECYCLE_OPTIM_H

#define OPTIM_MAX_PARAMS 4

/*
 * An objective: returns the mean negative log-likelihood per customer at
 * theta (all positive), and stores its gradient and Hessian (row-major,
 * n x n) with respect to theta.  Returns a non-finite value where the
 * likelihood cannot be evaluated.
 */
typedef double (*OptimObjective) (const double *theta, double *grad, double *hess, void *arg);

typedef enum OptimStatus
{
	OPTIM_CONVERGED,			/* a well-determined maximum */
	OPTIM_MAX_ITERATIONS,		/* iteration limit reached */
	OPTIM_TO_ZERO,				/* parameter "which" runs off towards 0 */
	OPTIM_TO_INFINITY,			/* parameter "which" runs off towards infinity */
	OPTIM_STALLED,				/* no step decreases the objective */
	OPTIM_NOT_IDENTIFIED		/* a maximum the data barely determine */
} OptimStatus;

typedef struct OptimResult
{
	OptimStatus status;
	int			iterations;
	int			which;			/* parameter concerned, or -1 */
	double		value;			/* objective at the final theta */
	double		gradient_norm;	/* max |d objective / d log theta_i| there */
	bool		has_se;			/* se[] holds standard errors */
	double		se[OPTIM_MAX_PARAMS];
} OptimResult;

extern void optim_minimize(OptimObjective fn, void *arg, int n, double customers,
						   double *theta, OptimResult *result);

#endif
