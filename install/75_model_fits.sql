
-- lifecycle.model_history in plain columns, for BI tools (issue 12).  The
-- table keeps each refresh's fits as the composite types lifecycle.bgnbd and
-- lifecycle.gammagamma, which the prediction functions take as they are
-- (lifecycle.p_alive(purchases, ...)); a BI tool reads a composite column as
-- one text blob, so this view spreads each fit over columns named
-- bgnbd_<field> and gammagamma_<field>, with the refresh's view, as-of day
-- and BTYD unit beside them.  It runs with the reader's rights
-- (security_invoker), so the history's row security decides what a role
-- sees, as it does for the table.
CREATE VIEW lifecycle.model_fits WITH (security_invoker = true) AS
SELECT h.run_id, r.view_name, r.as_of, r.btyd_unit_days,
       (h.purchases).r AS bgnbd_r, (h.purchases).alpha AS bgnbd_alpha,
       (h.purchases).a AS bgnbd_a, (h.purchases).b AS bgnbd_b,
       (h.purchases).r_se AS bgnbd_r_se, (h.purchases).alpha_se AS bgnbd_alpha_se,
       (h.purchases).a_se AS bgnbd_a_se, (h.purchases).b_se AS bgnbd_b_se,
       (h.purchases).log_likelihood AS bgnbd_log_likelihood, (h.purchases).customers AS bgnbd_customers,
       (h.purchases).converged AS bgnbd_converged, (h.purchases).iterations AS bgnbd_iterations,
       (h.purchases).message AS bgnbd_message,
       (h.spend).p AS gammagamma_p, (h.spend).q AS gammagamma_q, (h.spend).gamma AS gammagamma_gamma,
       (h.spend).p_se AS gammagamma_p_se, (h.spend).q_se AS gammagamma_q_se,
       (h.spend).gamma_se AS gammagamma_gamma_se, (h.spend).log_likelihood AS gammagamma_log_likelihood,
       (h.spend).customers AS gammagamma_customers, (h.spend).converged AS gammagamma_converged,
       (h.spend).iterations AS gammagamma_iterations, (h.spend).message AS gammagamma_message
  FROM lifecycle.model_history h
  JOIN lifecycle.refresh_runs r ON r.run_id OPERATOR(pg_catalog.=) h.run_id;
COMMENT ON VIEW lifecycle.model_fits IS
  'The BG/NBD and Gamma-Gamma fits of each refresh (lifecycle.model_history) in plain columns, for BI tools; parameters in the view''s BTYD unit';
COMMENT ON COLUMN lifecycle.model_fits.run_id IS 'The refresh (lifecycle.refresh_runs)';
COMMENT ON COLUMN lifecycle.model_fits.view_name IS 'The segment view';
COMMENT ON COLUMN lifecycle.model_fits.as_of IS 'The as-of date the refresh computed';
COMMENT ON COLUMN lifecycle.model_fits.btyd_unit_days IS 'Days in the BTYD unit of the parameters (1: day, 7: week)';
-- the other columns' comments are the model types' own
DO $$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT t.prefix || a.attname AS col, t.model || ': ' || pg_catalog.col_description(a.attrelid, a.attnum) AS text
             FROM (VALUES ('bgnbd_', 'BG/NBD', 'lifecycle.bgnbd'::pg_catalog.regclass),
                          ('gammagamma_', 'Gamma-Gamma', 'lifecycle.gammagamma'::pg_catalog.regclass)) t(prefix, model, type)
             JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) t.type AND a.attnum OPERATOR(pg_catalog.>) 0
  LOOP
    EXECUTE pg_catalog.format('COMMENT ON COLUMN lifecycle.model_fits.%I IS %L', c.col, c.text);
  END LOOP;
END $$;
GRANT SELECT ON lifecycle.model_fits TO PUBLIC;
