-- Lifecycle stages (PRODUCT.md section 3): the enum lifecycle.stage and the
-- function that places a customer summary in a stage at an as-of date.

CREATE TYPE lifecycle.stage AS ENUM (
  'prospect', 'new', 'active', 'at_risk', 'dormant', 'churned', 'reactivated'
);
COMMENT ON TYPE lifecycle.stage IS
  'Where a customer stands at an as-of date: prospect, new, active, at_risk, dormant, churned, reactivated';

CREATE FUNCTION lifecycle.stage(
  summary lifecycle.rfm,
  as_of date,
  active_days integer DEFAULT 90,
  dormant_days integer DEFAULT 180,
  churn_days integer DEFAULT 270,
  cadence_factor double precision DEFAULT 3.0,
  cadence_min_days integer DEFAULT 30)
  RETURNS lifecycle.stage LANGUAGE c IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'rfm_stage';
COMMENT ON FUNCTION lifecycle.stage(lifecycle.rfm, date, integer, integer, integer, double precision, integer) IS
  'Lifecycle stage at as_of, first matching rule: prospect (no purchase), churned (R > churn_days), dormant (R > dormant_days), at_risk (R > active_days), reactivated (bought again after a gap > churn_days), new (one purchase day), at_risk (R > max(cadence_factor x mean interval, cadence_min_days); NULL cadence_factor turns this rule off), else active';
