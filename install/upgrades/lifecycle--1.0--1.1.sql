-- lifecycle 1.0 -> 1.1.  The result must equal a fresh 1.1 install
-- (test/scripts/upgrade.sh compares every object).
\echo Use "ALTER EXTENSION lifecycle UPDATE TO '1.1'" to load this file. \quit
