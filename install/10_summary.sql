-- The customer summary: type lifecycle.rfm, the aggregate lifecycle.rfm_agg
-- and the values derived from a summary and an as-of date.

CREATE TYPE lifecycle.rfm AS (
  first_purchase    date,
  last_purchase     date,
  previous_purchase date,
  orders            bigint,
  purchase_days     integer,
  monetary          numeric,
  gross             numeric,
  refunds           bigint,
  refunded          numeric,
  first_day_spend   numeric
);
COMMENT ON TYPE lifecycle.rfm IS
  'One customer''s orders folded by lifecycle.rfm_agg: purchase days, counts and money';
COMMENT ON COLUMN lifecycle.rfm.first_purchase IS 'Day of the first purchase (amount >= 0 or NULL)';
COMMENT ON COLUMN lifecycle.rfm.last_purchase IS 'Day of the last purchase';
COMMENT ON COLUMN lifecycle.rfm.previous_purchase IS 'The purchase day before the last one; NULL with fewer than two purchase days';
COMMENT ON COLUMN lifecycle.rfm.orders IS 'Number of purchase rows (refunds are not orders)';
COMMENT ON COLUMN lifecycle.rfm.purchase_days IS 'Number of distinct purchase days';
COMMENT ON COLUMN lifecycle.rfm.monetary IS 'Net revenue: purchases minus refunds, exact';
COMMENT ON COLUMN lifecycle.rfm.gross IS 'Value of the purchases before refunds';
COMMENT ON COLUMN lifecycle.rfm.refunds IS 'Number of refund rows (negative amounts)';
COMMENT ON COLUMN lifecycle.rfm.refunded IS 'Total refunded, as a positive amount';
COMMENT ON COLUMN lifecycle.rfm.first_day_spend IS 'Value of the purchases on the first purchase day';

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

CREATE AGGREGATE lifecycle.rfm_agg(order_time date, amount numeric) (
  SFUNC = lifecycle.rfm_agg_trans_date, STYPE = lifecycle.rfm_state,
  FINALFUNC = lifecycle.rfm_agg_final, COMBINEFUNC = lifecycle.rfm_agg_combine,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle.rfm_agg(order_time timestamp, amount numeric) (
  SFUNC = lifecycle.rfm_agg_trans_timestamp, STYPE = lifecycle.rfm_state,
  FINALFUNC = lifecycle.rfm_agg_final, COMBINEFUNC = lifecycle.rfm_agg_combine,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle.rfm_agg(order_time timestamptz, amount numeric) (
  SFUNC = lifecycle.rfm_agg_trans_timestamptz, STYPE = lifecycle.rfm_state,
  FINALFUNC = lifecycle.rfm_agg_final, COMBINEFUNC = lifecycle.rfm_agg_combine,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle.rfm_agg(order_time timestamptz, amount numeric, time_zone text) (
  SFUNC = lifecycle.rfm_agg_trans_timestamptz_zone, STYPE = lifecycle.rfm_state,
  FINALFUNC = lifecycle.rfm_agg_final, COMBINEFUNC = lifecycle.rfm_agg_combine,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE lifecycle.rfm_agg(date, numeric) IS
  'Fold a customer''s orders (order day, amount) into a lifecycle.rfm summary';
COMMENT ON AGGREGATE lifecycle.rfm_agg(timestamp, numeric) IS
  'Fold a customer''s orders (local order time, amount) into a lifecycle.rfm summary';
COMMENT ON AGGREGATE lifecycle.rfm_agg(timestamptz, numeric) IS
  'Fold a customer''s orders into a lifecycle.rfm summary; days are UTC calendar days';
COMMENT ON AGGREGATE lifecycle.rfm_agg(timestamptz, numeric, text) IS
  'Fold a customer''s orders into a lifecycle.rfm summary; days are calendar days in the given IANA zone';

-- The serialized rfm_agg state of a customer's orders (rfm_state_send's
-- bytes) instead of its summary: what a segment view keeps of each
-- customer.  A segment view over a Citus table distributed by the customer
-- key reads them with GROUP BY the key, which Citus runs on the workers:
-- one row a customer reaches the coordinator, not every order.
CREATE AGGREGATE lifecycle._rfm_state_agg(order_time date, amount numeric) (
  SFUNC = lifecycle.rfm_agg_trans_date, STYPE = lifecycle.rfm_state,
  FINALFUNC = lifecycle.rfm_state_send, COMBINEFUNC = lifecycle.rfm_agg_combine,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle._rfm_state_agg(order_time timestamp, amount numeric) (
  SFUNC = lifecycle.rfm_agg_trans_timestamp, STYPE = lifecycle.rfm_state,
  FINALFUNC = lifecycle.rfm_state_send, COMBINEFUNC = lifecycle.rfm_agg_combine,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle._rfm_state_agg(order_time timestamptz, amount numeric, time_zone text) (
  SFUNC = lifecycle.rfm_agg_trans_timestamptz_zone, STYPE = lifecycle.rfm_state,
  FINALFUNC = lifecycle.rfm_state_send, COMBINEFUNC = lifecycle.rfm_agg_combine,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE lifecycle._rfm_state_agg(date, numeric) IS
  'Internal: the serialized rfm_agg state of a customer''s orders (order day, amount)';
COMMENT ON AGGREGATE lifecycle._rfm_state_agg(timestamp, numeric) IS
  'Internal: the serialized rfm_agg state of a customer''s orders (local order time, amount)';
COMMENT ON AGGREGATE lifecycle._rfm_state_agg(timestamptz, numeric, text) IS
  'Internal: the serialized rfm_agg state of a customer''s orders, days in the given IANA zone';

CREATE FUNCTION lifecycle.days_since_last_order(summary lifecycle.rfm, as_of date)
  RETURNS integer LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'rfm_days_since_last_order';
COMMENT ON FUNCTION lifecycle.days_since_last_order(lifecycle.rfm, date) IS
  'RFM recency: days from the last purchase to the as-of date';

CREATE FUNCTION lifecycle.tenure_days(summary lifecycle.rfm, as_of date)
  RETURNS integer LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'rfm_tenure_days';
COMMENT ON FUNCTION lifecycle.tenure_days(lifecycle.rfm, date) IS
  'Days from the first purchase to the as-of date';

CREATE FUNCTION lifecycle.mean_interval_days(summary lifecycle.rfm)
  RETURNS numeric LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'rfm_mean_interval_days';
COMMENT ON FUNCTION lifecycle.mean_interval_days(lifecycle.rfm) IS
  'Mean days between purchase days: (last - first) / (purchase_days - 1); NULL below two purchase days';

CREATE FUNCTION lifecycle.aov(summary lifecycle.rfm)
  RETURNS numeric LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'rfm_aov';
COMMENT ON FUNCTION lifecycle.aov(lifecycle.rfm) IS
  'Average order value: gross purchase value / orders';

CREATE TYPE lifecycle.btyd AS (
  frequency      integer,
  recency        double precision,
  t              double precision,
  monetary_value numeric
);
COMMENT ON TYPE lifecycle.btyd IS
  'Per-customer inputs of the BTYD models, as lifetimes'' summary_data_from_transaction_data(freq=''D'') computes them';
COMMENT ON COLUMN lifecycle.btyd.frequency IS 'Repeat purchase days: purchase days - 1';
COMMENT ON COLUMN lifecycle.btyd.recency IS 'Age at the last purchase: last - first purchase day, in the time unit (not days since the last order)';
COMMENT ON COLUMN lifecycle.btyd.t IS 'Age at the as-of date (T): as-of day - first purchase day, in the time unit';
COMMENT ON COLUMN lifecycle.btyd.monetary_value IS 'Mean spend of the repeat purchase days (first day left out); 0 if none';

CREATE FUNCTION lifecycle.btyd(summary lifecycle.rfm, as_of date, time_unit text DEFAULT 'day')
  RETURNS lifecycle.btyd LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'rfm_btyd';
COMMENT ON FUNCTION lifecycle.btyd(lifecycle.rfm, date, text) IS
  'BTYD columns (frequency, recency, T, monetary_value) at an as-of date, in days or weeks';
