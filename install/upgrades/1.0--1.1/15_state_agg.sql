-- The serialized state aggregate lifecycle._rfm_state_agg (install/10_summary.sql).

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
