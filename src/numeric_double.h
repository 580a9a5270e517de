/*
 * numeric_double.h
 *	  numeric to double precision, rounded exactly as numeric::float8 rounds.
 */
#ifndef LIFECYCLE_NUMERIC_DOUBLE_H
#define LIFECYCLE_NUMERIC_DOUBLE_H

#include "postgres.h"

#include "utils/numeric.h"

extern double numeric_to_double(Numeric value);
extern double numeric_to_double_clamped(Numeric value);

#endif
