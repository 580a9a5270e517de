-- RFM scores (PRODUCT.md section 4): the breaks of a population, computed by
-- the aggregate lifecycle.rfm_breaks in one pass, and the 1-5 scores they give.

CREATE TYPE lifecycle.rfm_breaks AS (
  method text,
  r      double precision[],
  f      double precision[],
  m      double precision[]
);
COMMENT ON TYPE lifecycle.rfm_breaks IS
  'The four breaks between RFM scores 1-5 of a customer population, per metric, and the method that made them';
COMMENT ON COLUMN lifecycle.rfm_breaks.method IS 'bands, quantile, rfm_r or ntile (ntile scores come from a window function; its breaks are NULL)';
COMMENT ON COLUMN lifecycle.rfm_breaks.r IS 'Breaks of days_since_last_order (recency): fewer days score higher';
COMMENT ON COLUMN lifecycle.rfm_breaks.f IS 'Breaks of frequency (orders, or purchase days)';
COMMENT ON COLUMN lifecycle.rfm_breaks.m IS 'Breaks of monetary (net revenue)';

CREATE FUNCTION lifecycle.rfm_breaks_trans(internal, integer, numeric, numeric, text)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_breaks_trans';
CREATE FUNCTION lifecycle.rfm_breaks_trans(internal, integer, numeric, numeric)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_breaks_trans';
CREATE FUNCTION lifecycle.rfm_breaks_combine(internal, internal)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_breaks_combine';
CREATE FUNCTION lifecycle.rfm_breaks_serialize(internal)
  RETURNS bytea LANGUAGE c PARALLEL SAFE STRICT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_breaks_serialize';
CREATE FUNCTION lifecycle.rfm_breaks_deserialize(bytea, internal)
  RETURNS internal LANGUAGE c PARALLEL SAFE STRICT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_breaks_deserialize';
CREATE FUNCTION lifecycle.rfm_breaks_final(internal)
  RETURNS lifecycle.rfm_breaks LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_breaks_final';

COMMENT ON FUNCTION lifecycle.rfm_breaks_trans(internal, integer, numeric, numeric, text) IS 'rfm_breaks transition: collect one customer''s metrics';
COMMENT ON FUNCTION lifecycle.rfm_breaks_trans(internal, integer, numeric, numeric) IS 'rfm_breaks transition (quantile method): collect one customer''s metrics';
COMMENT ON FUNCTION lifecycle.rfm_breaks_combine(internal, internal) IS 'rfm_breaks: merge two partial states (parallel query)';
COMMENT ON FUNCTION lifecycle.rfm_breaks_serialize(internal) IS 'rfm_breaks: portable, versioned serialization of a state';
COMMENT ON FUNCTION lifecycle.rfm_breaks_deserialize(bytea, internal) IS 'rfm_breaks: read a serialized state, validating it';
COMMENT ON FUNCTION lifecycle.rfm_breaks_final(internal) IS 'rfm_breaks: the quantile breaks of each metric';

CREATE AGGREGATE lifecycle.rfm_breaks(days_since_last_order integer, frequency numeric,
                                      monetary numeric, method text) (
  SFUNC = lifecycle.rfm_breaks_trans, STYPE = internal,
  FINALFUNC = lifecycle.rfm_breaks_final,
  COMBINEFUNC = lifecycle.rfm_breaks_combine,
  SERIALFUNC = lifecycle.rfm_breaks_serialize, DESERIALFUNC = lifecycle.rfm_breaks_deserialize,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle.rfm_breaks(days_since_last_order integer, frequency numeric,
                                      monetary numeric) (
  SFUNC = lifecycle.rfm_breaks_trans, STYPE = internal,
  FINALFUNC = lifecycle.rfm_breaks_final,
  COMBINEFUNC = lifecycle.rfm_breaks_combine,
  SERIALFUNC = lifecycle.rfm_breaks_serialize, DESERIALFUNC = lifecycle.rfm_breaks_deserialize,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE lifecycle.rfm_breaks(integer, numeric, numeric, text) IS
  'Score breaks of a customer population in one pass: quantile (type-7 quantiles at 20/40/60/80 %, as percentile_cont), rfm_r (the same + 1, as R rfm 0.3.0), bands (F and M as quantile, recency by the stage bands 45/90/135/180 days) or ntile (no breaks); customers with NULL days_since_last_order are not scored';
COMMENT ON AGGREGATE lifecycle.rfm_breaks(integer, numeric, numeric) IS
  'Score breaks of a customer population by the quantile method: type-7 quantiles at 20/40/60/80 %, as percentile_cont';

CREATE FUNCTION lifecycle.r_score(days_since_last_order integer, breaks lifecycle.rfm_breaks)
  RETURNS integer LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'rfm_r_score';
COMMENT ON FUNCTION lifecycle.r_score(integer, lifecycle.rfm_breaks) IS
  'Recency score 1-5, recent customers high: quantile and bands = 1 + breaks above the days; rfm_r = 5 - breaks at or below the days';

CREATE FUNCTION lifecycle.f_score(frequency numeric, breaks lifecycle.rfm_breaks)
  RETURNS integer LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'rfm_f_score';
COMMENT ON FUNCTION lifecycle.f_score(numeric, lifecycle.rfm_breaks) IS
  'Frequency score 1-5: quantile and bands = 1 + breaks strictly below the value; rfm_r = 1 + breaks at or below it';

CREATE FUNCTION lifecycle.m_score(monetary numeric, breaks lifecycle.rfm_breaks)
  RETURNS integer LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'rfm_m_score';
COMMENT ON FUNCTION lifecycle.m_score(numeric, lifecycle.rfm_breaks) IS
  'Monetary score 1-5: quantile and bands = 1 + breaks strictly below the value; rfm_r = 1 + breaks at or below it';
