-- lifecycle 1.0 -> 1.1, assembled by the Makefile from
-- install/upgrades/1.0--1.1/NN_*.sql, one file per change.  The result must
-- equal a fresh 1.1 install (test/scripts/upgrade.sh compares every object).
\echo Use "ALTER EXTENSION lifecycle UPDATE TO '1.1'" to load this file. \quit
