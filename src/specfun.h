/*
 * specfun.h
 *	  Special functions the model likelihoods need beyond <math.h>.
 */
#ifndef LIFECYCLE_SPECFUN_H
#define LIFECYCLE_SPECFUN_H

extern double digamma(double x);
extern double trigamma(double x);
extern double hyp2f1_scaled_excess(double a, double b, double c, double z);

#endif
