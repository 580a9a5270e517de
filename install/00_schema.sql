-- lifecycle install script, assembled by the Makefile from install/NN_*.sql.
\echo Use "CREATE EXTENSION lifecycle" to load this file. \quit

COMMENT ON SCHEMA lifecycle IS
  'lifecycle: customer summaries, lifecycle stages, RFM scores and segments, retention metrics and BTYD models';

-- Every role may use the functions; the tables grant their own privileges.
GRANT USAGE ON SCHEMA lifecycle TO PUBLIC;
