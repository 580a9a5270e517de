-- Purchase-prediction models (PRODUCT.md section 6): BG/NBD, MBG/NBD and
-- Gamma-Gamma, fitted by maximum likelihood in aggregates, and the
-- per-customer predictions made from a fit.  Times (recency, T, horizons,
-- period lengths) are in the time unit of the fit's input, e.g. weeks from
-- lifecycle.btyd(summary, as_of, 'week'), and parameters are in that unit.

-- The fit results.
CREATE TYPE lifecycle.bgnbd AS (
  r              double precision,
  alpha          double precision,
  a              double precision,
  b              double precision,
  r_se           double precision,
  alpha_se       double precision,
  a_se           double precision,
  b_se           double precision,
  log_likelihood double precision,
  customers      double precision,
  converged      boolean,
  iterations     integer,
  message        text
);
COMMENT ON TYPE lifecycle.bgnbd IS
  'A BG/NBD purchase model (Fader, Hardie & Lee 2005): a fit by lifecycle.bgnbd_fit or given parameters';
COMMENT ON COLUMN lifecycle.bgnbd.r IS 'Shape of the Gamma distribution of purchase rates across customers';
COMMENT ON COLUMN lifecycle.bgnbd.alpha IS 'Scale of the Gamma distribution of purchase rates, in the time unit of the input (mean rate r/alpha)';
COMMENT ON COLUMN lifecycle.bgnbd.a IS 'First shape of the Beta distribution of drop-out probabilities after a purchase';
COMMENT ON COLUMN lifecycle.bgnbd.b IS 'Second shape of the Beta distribution of drop-out probabilities (mean a/(a+b))';
COMMENT ON COLUMN lifecycle.bgnbd.r_se IS 'Standard error of r (inverse observed information); NULL if unavailable';
COMMENT ON COLUMN lifecycle.bgnbd.alpha_se IS 'Standard error of alpha';
COMMENT ON COLUMN lifecycle.bgnbd.a_se IS 'Standard error of a';
COMMENT ON COLUMN lifecycle.bgnbd.b_se IS 'Standard error of b';
COMMENT ON COLUMN lifecycle.bgnbd.log_likelihood IS 'Log-likelihood at the estimate (all terms, natural log); NULL unless converged';
COMMENT ON COLUMN lifecycle.bgnbd.customers IS 'Customers the fit saw: the sum of the row weights';
COMMENT ON COLUMN lifecycle.bgnbd.converged IS 'True if the fit reached a well-determined maximum; predictions need it';
COMMENT ON COLUMN lifecycle.bgnbd.iterations IS 'Newton iterations the fit took';
COMMENT ON COLUMN lifecycle.bgnbd.message IS 'converged, or why there is no estimate';

CREATE TYPE lifecycle.mbgnbd AS (
  r              double precision,
  alpha          double precision,
  a              double precision,
  b              double precision,
  r_se           double precision,
  alpha_se       double precision,
  a_se           double precision,
  b_se           double precision,
  log_likelihood double precision,
  customers      double precision,
  converged      boolean,
  iterations     integer,
  message        text
);
COMMENT ON TYPE lifecycle.mbgnbd IS
  'An MBG/NBD purchase model (Batislam, Denizel & Filiztekin 2007): like BG/NBD, but a customer may also drop out right after the first purchase';
COMMENT ON COLUMN lifecycle.mbgnbd.r IS 'Shape of the Gamma distribution of purchase rates across customers';
COMMENT ON COLUMN lifecycle.mbgnbd.alpha IS 'Scale of the Gamma distribution of purchase rates, in the time unit of the input (mean rate r/alpha)';
COMMENT ON COLUMN lifecycle.mbgnbd.a IS 'First shape of the Beta distribution of drop-out probabilities after a purchase';
COMMENT ON COLUMN lifecycle.mbgnbd.b IS 'Second shape of the Beta distribution of drop-out probabilities (mean a/(a+b))';
COMMENT ON COLUMN lifecycle.mbgnbd.r_se IS 'Standard error of r (inverse observed information); NULL if unavailable';
COMMENT ON COLUMN lifecycle.mbgnbd.alpha_se IS 'Standard error of alpha';
COMMENT ON COLUMN lifecycle.mbgnbd.a_se IS 'Standard error of a';
COMMENT ON COLUMN lifecycle.mbgnbd.b_se IS 'Standard error of b';
COMMENT ON COLUMN lifecycle.mbgnbd.log_likelihood IS 'Log-likelihood at the estimate (all terms, natural log); NULL unless converged';
COMMENT ON COLUMN lifecycle.mbgnbd.customers IS 'Customers the fit saw: the sum of the row weights';
COMMENT ON COLUMN lifecycle.mbgnbd.converged IS 'True if the fit reached a well-determined maximum; predictions need it';
COMMENT ON COLUMN lifecycle.mbgnbd.iterations IS 'Newton iterations the fit took';
COMMENT ON COLUMN lifecycle.mbgnbd.message IS 'converged, or why there is no estimate';

CREATE TYPE lifecycle.gammagamma AS (
  p              double precision,
  q              double precision,
  gamma          double precision,
  p_se           double precision,
  q_se           double precision,
  gamma_se       double precision,
  log_likelihood double precision,
  customers      double precision,
  converged      boolean,
  iterations     integer,
  message        text
);
COMMENT ON TYPE lifecycle.gammagamma IS
  'A Gamma-Gamma spend model (Fader, Hardie & Lee 2005): a fit by lifecycle.gammagamma_fit or given parameters';
COMMENT ON COLUMN lifecycle.gammagamma.p IS 'Shape of the Gamma distribution of one purchase''s value for a customer';
COMMENT ON COLUMN lifecycle.gammagamma.q IS 'Shape of the Gamma distribution of that distribution''s rate across customers';
COMMENT ON COLUMN lifecycle.gammagamma.gamma IS 'Scale of the Gamma distribution of rates, in money (mean spend p gamma/(q-1))';
COMMENT ON COLUMN lifecycle.gammagamma.p_se IS 'Standard error of p (inverse observed information); NULL if unavailable';
COMMENT ON COLUMN lifecycle.gammagamma.q_se IS 'Standard error of q';
COMMENT ON COLUMN lifecycle.gammagamma.gamma_se IS 'Standard error of gamma';
COMMENT ON COLUMN lifecycle.gammagamma.log_likelihood IS 'Log-likelihood of the mean spends at the estimate (all terms); NULL unless converged';
COMMENT ON COLUMN lifecycle.gammagamma.customers IS 'Customers with repeat purchases the fit saw: the sum of their row weights';
COMMENT ON COLUMN lifecycle.gammagamma.converged IS 'True if the fit reached a well-determined maximum; predictions need it';
COMMENT ON COLUMN lifecycle.gammagamma.iterations IS 'Newton iterations the fit took';
COMMENT ON COLUMN lifecycle.gammagamma.message IS 'converged, or why there is no estimate';

-- Models from given parameters (published, or stored from an earlier fit).
CREATE FUNCTION lifecycle.bgnbd_model(r double precision, alpha double precision,
                                      a double precision, b double precision)
  RETURNS lifecycle.bgnbd LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'model_given';
COMMENT ON FUNCTION lifecycle.bgnbd_model(double precision, double precision, double precision, double precision) IS
  'A BG/NBD model with the given parameters (r, alpha, a, b), usable for predictions';
CREATE FUNCTION lifecycle.mbgnbd_model(r double precision, alpha double precision,
                                       a double precision, b double precision)
  RETURNS lifecycle.mbgnbd LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'model_given';
COMMENT ON FUNCTION lifecycle.mbgnbd_model(double precision, double precision, double precision, double precision) IS
  'An MBG/NBD model with the given parameters (r, alpha, a, b), usable for predictions';
CREATE FUNCTION lifecycle.gammagamma_model(p double precision, q double precision, gamma double precision)
  RETURNS lifecycle.gammagamma LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'model_given';
COMMENT ON FUNCTION lifecycle.gammagamma_model(double precision, double precision, double precision) IS
  'A Gamma-Gamma model with the given parameters (p, q, gamma), usable for predictions';

-- The fitting aggregates: shared state of distinct rows with weights.
CREATE FUNCTION lifecycle.model_purchase_rows_trans(internal, double precision, double precision, double precision)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'model_purchase_rows_trans';
CREATE FUNCTION lifecycle.model_purchase_rows_trans(internal, double precision, double precision, double precision, double precision)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'model_purchase_rows_trans';
CREATE FUNCTION lifecycle.model_spend_rows_trans(internal, double precision, double precision)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'model_spend_rows_trans';
CREATE FUNCTION lifecycle.model_spend_rows_trans(internal, double precision, double precision, double precision)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'model_spend_rows_trans';
CREATE FUNCTION lifecycle.model_rows_combine(internal, internal)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'model_rows_combine';
CREATE FUNCTION lifecycle.model_rows_serialize(internal)
  RETURNS bytea LANGUAGE c PARALLEL SAFE STRICT IMMUTABLE
  AS 'MODULE_PATHNAME', 'model_rows_serialize';
CREATE FUNCTION lifecycle.model_rows_deserialize(bytea, internal)
  RETURNS internal LANGUAGE c PARALLEL SAFE STRICT IMMUTABLE
  AS 'MODULE_PATHNAME', 'model_rows_deserialize';
CREATE FUNCTION lifecycle.bgnbd_fit_final(internal)
  RETURNS lifecycle.bgnbd LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'bgnbd_fit_final';
CREATE FUNCTION lifecycle.mbgnbd_fit_final(internal)
  RETURNS lifecycle.mbgnbd LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'mbgnbd_fit_final';
CREATE FUNCTION lifecycle.gammagamma_fit_final(internal)
  RETURNS lifecycle.gammagamma LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'gammagamma_fit_final';

COMMENT ON FUNCTION lifecycle.model_purchase_rows_trans(internal, double precision, double precision, double precision) IS
  'bgnbd_fit/mbgnbd_fit transition: add a (frequency, recency, T) row';
COMMENT ON FUNCTION lifecycle.model_purchase_rows_trans(internal, double precision, double precision, double precision, double precision) IS
  'bgnbd_fit/mbgnbd_fit transition: add a weighted (frequency, recency, T) row';
COMMENT ON FUNCTION lifecycle.model_spend_rows_trans(internal, double precision, double precision) IS
  'gammagamma_fit transition: add a (frequency, monetary_value) row';
COMMENT ON FUNCTION lifecycle.model_spend_rows_trans(internal, double precision, double precision, double precision) IS
  'gammagamma_fit transition: add a weighted (frequency, monetary_value) row';
COMMENT ON FUNCTION lifecycle.model_rows_combine(internal, internal) IS 'Model fits: merge two partial states (parallel query)';
COMMENT ON FUNCTION lifecycle.model_rows_serialize(internal) IS 'Model fits: portable, versioned serialization of a state';
COMMENT ON FUNCTION lifecycle.model_rows_deserialize(bytea, internal) IS 'Model fits: read a serialized state, validating it';
COMMENT ON FUNCTION lifecycle.bgnbd_fit_final(internal) IS 'bgnbd_fit: maximum-likelihood BG/NBD fit of the rows';
COMMENT ON FUNCTION lifecycle.mbgnbd_fit_final(internal) IS 'mbgnbd_fit: maximum-likelihood MBG/NBD fit of the rows';
COMMENT ON FUNCTION lifecycle.gammagamma_fit_final(internal) IS 'gammagamma_fit: maximum-likelihood Gamma-Gamma fit of the rows';

CREATE AGGREGATE lifecycle.bgnbd_fit(frequency double precision, recency double precision, t double precision) (
  SFUNC = lifecycle.model_purchase_rows_trans, STYPE = internal,
  FINALFUNC = lifecycle.bgnbd_fit_final,
  COMBINEFUNC = lifecycle.model_rows_combine,
  SERIALFUNC = lifecycle.model_rows_serialize, DESERIALFUNC = lifecycle.model_rows_deserialize,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle.bgnbd_fit(frequency double precision, recency double precision, t double precision,
                                     weight double precision) (
  SFUNC = lifecycle.model_purchase_rows_trans, STYPE = internal,
  FINALFUNC = lifecycle.bgnbd_fit_final,
  COMBINEFUNC = lifecycle.model_rows_combine,
  SERIALFUNC = lifecycle.model_rows_serialize, DESERIALFUNC = lifecycle.model_rows_deserialize,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle.mbgnbd_fit(frequency double precision, recency double precision, t double precision) (
  SFUNC = lifecycle.model_purchase_rows_trans, STYPE = internal,
  FINALFUNC = lifecycle.mbgnbd_fit_final,
  COMBINEFUNC = lifecycle.model_rows_combine,
  SERIALFUNC = lifecycle.model_rows_serialize, DESERIALFUNC = lifecycle.model_rows_deserialize,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle.mbgnbd_fit(frequency double precision, recency double precision, t double precision,
                                      weight double precision) (
  SFUNC = lifecycle.model_purchase_rows_trans, STYPE = internal,
  FINALFUNC = lifecycle.mbgnbd_fit_final,
  COMBINEFUNC = lifecycle.model_rows_combine,
  SERIALFUNC = lifecycle.model_rows_serialize, DESERIALFUNC = lifecycle.model_rows_deserialize,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle.gammagamma_fit(frequency double precision, monetary_value double precision) (
  SFUNC = lifecycle.model_spend_rows_trans, STYPE = internal,
  FINALFUNC = lifecycle.gammagamma_fit_final,
  COMBINEFUNC = lifecycle.model_rows_combine,
  SERIALFUNC = lifecycle.model_rows_serialize, DESERIALFUNC = lifecycle.model_rows_deserialize,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle.gammagamma_fit(frequency double precision, monetary_value double precision,
                                          weight double precision) (
  SFUNC = lifecycle.model_spend_rows_trans, STYPE = internal,
  FINALFUNC = lifecycle.gammagamma_fit_final,
  COMBINEFUNC = lifecycle.model_rows_combine,
  SERIALFUNC = lifecycle.model_rows_serialize, DESERIALFUNC = lifecycle.model_rows_deserialize,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE lifecycle.bgnbd_fit(double precision, double precision, double precision) IS
  'Fit a BG/NBD model by maximum likelihood to customers'' (frequency, recency, T); rows with a NULL are left out';
COMMENT ON AGGREGATE lifecycle.bgnbd_fit(double precision, double precision, double precision, double precision) IS
  'Fit a BG/NBD model to (frequency, recency, T) rows, each standing for weight customers';
COMMENT ON AGGREGATE lifecycle.mbgnbd_fit(double precision, double precision, double precision) IS
  'Fit an MBG/NBD model by maximum likelihood to customers'' (frequency, recency, T); rows with a NULL are left out';
COMMENT ON AGGREGATE lifecycle.mbgnbd_fit(double precision, double precision, double precision, double precision) IS
  'Fit an MBG/NBD model to (frequency, recency, T) rows, each standing for weight customers';
COMMENT ON AGGREGATE lifecycle.gammagamma_fit(double precision, double precision) IS
  'Fit a Gamma-Gamma spend model to customers'' (frequency, monetary_value); customers with frequency 0 are left out';
COMMENT ON AGGREGATE lifecycle.gammagamma_fit(double precision, double precision, double precision) IS
  'Fit a Gamma-Gamma spend model to (frequency, monetary_value) rows, each standing for weight customers';

-- Per-customer predictions.
CREATE FUNCTION lifecycle.p_alive(model lifecycle.bgnbd, frequency double precision,
                                  recency double precision, t double precision)
  RETURNS double precision LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'bgnbd_p_alive';
COMMENT ON FUNCTION lifecycle.p_alive(lifecycle.bgnbd, double precision, double precision, double precision) IS
  'Probability that a customer with this history is still active (BG/NBD); 1 without repeat purchases';
CREATE FUNCTION lifecycle.p_alive(model lifecycle.mbgnbd, frequency double precision,
                                  recency double precision, t double precision)
  RETURNS double precision LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'mbgnbd_p_alive';
COMMENT ON FUNCTION lifecycle.p_alive(lifecycle.mbgnbd, double precision, double precision, double precision) IS
  'Probability that a customer with this history is still active (MBG/NBD)';

CREATE FUNCTION lifecycle.expected_purchases(model lifecycle.bgnbd, frequency double precision,
                                             recency double precision, t double precision,
                                             horizon double precision)
  RETURNS double precision LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'bgnbd_expected_purchases_sql';
COMMENT ON FUNCTION lifecycle.expected_purchases(lifecycle.bgnbd, double precision, double precision, double precision, double precision) IS
  'Expected purchases of a customer with this history in the next horizon time units (BG/NBD); (0, 0, 0) is a new customer';
CREATE FUNCTION lifecycle.expected_purchases(model lifecycle.mbgnbd, frequency double precision,
                                             recency double precision, t double precision,
                                             horizon double precision)
  RETURNS double precision LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'mbgnbd_expected_purchases_sql';
COMMENT ON FUNCTION lifecycle.expected_purchases(lifecycle.mbgnbd, double precision, double precision, double precision, double precision) IS
  'Expected purchases of a customer with this history in the next horizon time units (MBG/NBD); (0, 0, 0) is a new customer';

CREATE FUNCTION lifecycle.expected_spend(model lifecycle.gammagamma, frequency double precision,
                                         monetary_value double precision)
  RETURNS double precision LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'gammagamma_expected_spend_sql';
COMMENT ON FUNCTION lifecycle.expected_spend(lifecycle.gammagamma, double precision, double precision) IS
  'Expected value of a future purchase of a customer with this history (Gamma-Gamma); the population mean without repeat purchases';

CREATE FUNCTION lifecycle.clv(purchases lifecycle.bgnbd, spend lifecycle.gammagamma,
                              frequency double precision, recency double precision, t double precision,
                              monetary_value double precision, periods integer,
                              period_length double precision, discount_rate double precision)
  RETURNS double precision LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'bgnbd_clv';
COMMENT ON FUNCTION lifecycle.clv(lifecycle.bgnbd, lifecycle.gammagamma, double precision, double precision, double precision, double precision, integer, double precision, double precision) IS
  'Customer lifetime value: expected spend in each of periods periods of period_length time units, discounted by (1 + discount_rate) per period (BG/NBD purchases)';
CREATE FUNCTION lifecycle.clv(purchases lifecycle.mbgnbd, spend lifecycle.gammagamma,
                              frequency double precision, recency double precision, t double precision,
                              monetary_value double precision, periods integer,
                              period_length double precision, discount_rate double precision)
  RETURNS double precision LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'mbgnbd_clv';
COMMENT ON FUNCTION lifecycle.clv(lifecycle.mbgnbd, lifecycle.gammagamma, double precision, double precision, double precision, double precision, integer, double precision, double precision) IS
  'Customer lifetime value: expected spend in each of periods periods of period_length time units, discounted by (1 + discount_rate) per period (MBG/NBD purchases)';
