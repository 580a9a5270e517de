-- rfm_agg's state becomes the type lifecycle.rfm_state instead of internal
-- (install/10_summary.sql).  CREATE OR REPLACE AGGREGATE changes the four
-- aggregates in place: views that call rfm_agg (a 1.0 segment view's
-- companions, any of the user's) keep working, as they refer to the
-- aggregate, not to its state type or support functions.  The support
-- functions of the internal state go after.

-- rfm_agg's state.  Not internal: Citus combines partial aggregates made on
-- its workers only for state types that are not pseudo-types, passing them
-- through the type's text output and input.  In memory the state is flat,
-- without pointers (a parallel worker hands it to its leader as is); its
-- text and binary forms are the portable, versioned serialized state
-- (src/summary.c), validated on input.  To keep a state, keep those: the
-- in-memory layout may change between versions (STORAGE plain keeps it out
-- of TOAST; a stored value of another layout is refused, 22P03).
CREATE TYPE lifecycle.rfm_state;
CREATE FUNCTION lifecycle.rfm_state_in(cstring) RETURNS lifecycle.rfm_state
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'rfm_state_in';
CREATE FUNCTION lifecycle.rfm_state_out(lifecycle.rfm_state) RETURNS cstring
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'rfm_state_out';
CREATE FUNCTION lifecycle.rfm_state_recv(internal) RETURNS lifecycle.rfm_state
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'rfm_state_recv';
CREATE FUNCTION lifecycle.rfm_state_send(lifecycle.rfm_state) RETURNS bytea
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'rfm_state_send';
CREATE TYPE lifecycle.rfm_state (
  INPUT = lifecycle.rfm_state_in, OUTPUT = lifecycle.rfm_state_out,
  RECEIVE = lifecycle.rfm_state_recv, SEND = lifecycle.rfm_state_send,
  INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain
);
COMMENT ON TYPE lifecycle.rfm_state IS
  'The state of lifecycle.rfm_agg (a partial summary); its text and binary forms are the portable, versioned serialized state';
COMMENT ON FUNCTION lifecycle.rfm_state_in(cstring) IS 'rfm_state text input: \x and the serialized state in hex, validated';
COMMENT ON FUNCTION lifecycle.rfm_state_out(lifecycle.rfm_state) IS 'rfm_state text output: \x and the serialized state in hex';
COMMENT ON FUNCTION lifecycle.rfm_state_recv(internal) IS 'rfm_state binary input: the serialized state, validated';
COMMENT ON FUNCTION lifecycle.rfm_state_send(lifecycle.rfm_state) IS 'rfm_state binary output: the serialized state';

CREATE FUNCTION lifecycle.rfm_agg_trans_date(lifecycle.rfm_state, date, numeric)
  RETURNS lifecycle.rfm_state LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_agg_trans_date';
CREATE FUNCTION lifecycle.rfm_agg_trans_timestamp(lifecycle.rfm_state, timestamp, numeric)
  RETURNS lifecycle.rfm_state LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_agg_trans_timestamp';
CREATE FUNCTION lifecycle.rfm_agg_trans_timestamptz(lifecycle.rfm_state, timestamptz, numeric)
  RETURNS lifecycle.rfm_state LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_agg_trans_timestamptz';
CREATE FUNCTION lifecycle.rfm_agg_trans_timestamptz_zone(lifecycle.rfm_state, timestamptz, numeric, text)
  RETURNS lifecycle.rfm_state LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_agg_trans_timestamptz_zone';
CREATE FUNCTION lifecycle.rfm_agg_combine(lifecycle.rfm_state, lifecycle.rfm_state)
  RETURNS lifecycle.rfm_state LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_agg_combine';
CREATE FUNCTION lifecycle.rfm_agg_final(lifecycle.rfm_state)
  RETURNS lifecycle.rfm LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_agg_final';

COMMENT ON FUNCTION lifecycle.rfm_agg_trans_date(lifecycle.rfm_state, date, numeric) IS 'rfm_agg transition for date order times';
COMMENT ON FUNCTION lifecycle.rfm_agg_trans_timestamp(lifecycle.rfm_state, timestamp, numeric) IS 'rfm_agg transition for timestamp order times';
COMMENT ON FUNCTION lifecycle.rfm_agg_trans_timestamptz(lifecycle.rfm_state, timestamptz, numeric) IS 'rfm_agg transition for timestamptz order times, days in UTC';
COMMENT ON FUNCTION lifecycle.rfm_agg_trans_timestamptz_zone(lifecycle.rfm_state, timestamptz, numeric, text) IS 'rfm_agg transition for timestamptz order times, days in the given zone';
COMMENT ON FUNCTION lifecycle.rfm_agg_combine(lifecycle.rfm_state, lifecycle.rfm_state) IS 'rfm_agg: merge two partial states (parallel query, Citus)';
COMMENT ON FUNCTION lifecycle.rfm_agg_final(lifecycle.rfm_state) IS 'rfm_agg: build the lifecycle.rfm summary';

CREATE OR REPLACE AGGREGATE lifecycle.rfm_agg(order_time date, amount numeric) (
  SFUNC = lifecycle.rfm_agg_trans_date, STYPE = lifecycle.rfm_state,
  FINALFUNC = lifecycle.rfm_agg_final, COMBINEFUNC = lifecycle.rfm_agg_combine,
  PARALLEL = SAFE
);
CREATE OR REPLACE AGGREGATE lifecycle.rfm_agg(order_time timestamp, amount numeric) (
  SFUNC = lifecycle.rfm_agg_trans_timestamp, STYPE = lifecycle.rfm_state,
  FINALFUNC = lifecycle.rfm_agg_final, COMBINEFUNC = lifecycle.rfm_agg_combine,
  PARALLEL = SAFE
);
CREATE OR REPLACE AGGREGATE lifecycle.rfm_agg(order_time timestamptz, amount numeric) (
  SFUNC = lifecycle.rfm_agg_trans_timestamptz, STYPE = lifecycle.rfm_state,
  FINALFUNC = lifecycle.rfm_agg_final, COMBINEFUNC = lifecycle.rfm_agg_combine,
  PARALLEL = SAFE
);
CREATE OR REPLACE AGGREGATE lifecycle.rfm_agg(order_time timestamptz, amount numeric, time_zone text) (
  SFUNC = lifecycle.rfm_agg_trans_timestamptz_zone, STYPE = lifecycle.rfm_state,
  FINALFUNC = lifecycle.rfm_agg_final, COMBINEFUNC = lifecycle.rfm_agg_combine,
  PARALLEL = SAFE
);

DROP FUNCTION lifecycle.rfm_agg_trans_date(internal, date, numeric);
DROP FUNCTION lifecycle.rfm_agg_trans_timestamp(internal, timestamp, numeric);
DROP FUNCTION lifecycle.rfm_agg_trans_timestamptz(internal, timestamptz, numeric);
DROP FUNCTION lifecycle.rfm_agg_trans_timestamptz_zone(internal, timestamptz, numeric, text);
DROP FUNCTION lifecycle.rfm_agg_combine(internal, internal);
DROP FUNCTION lifecycle.rfm_agg_serialize(internal);
DROP FUNCTION lifecycle.rfm_agg_deserialize(bytea, internal);
DROP FUNCTION lifecycle.rfm_agg_final(internal);
