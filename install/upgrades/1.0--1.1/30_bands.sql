
-- The bands scoring method (recency by the stage thresholds, so that
-- segments agree with stages), the default of new segment views.
COMMENT ON COLUMN lifecycle.rfm_breaks.method IS 'bands, quantile, rfm_r or ntile (ntile scores come from a window function; its breaks are NULL)';
COMMENT ON AGGREGATE lifecycle.rfm_breaks(integer, numeric, numeric, text) IS
  'Score breaks of a customer population in one pass: quantile (type-7 quantiles at 20/40/60/80 %, as percentile_cont), rfm_r (the same + 1, as R rfm 0.3.0), bands (F and M as quantile, recency by the stage bands 45/90/135/180 days) or ntile (no breaks); customers with NULL days_since_last_order are not scored';
COMMENT ON FUNCTION lifecycle.r_score(integer, lifecycle.rfm_breaks) IS
  'Recency score 1-5, recent customers high: quantile and bands = 1 + breaks above the days; rfm_r = 5 - breaks at or below the days';
COMMENT ON FUNCTION lifecycle.f_score(numeric, lifecycle.rfm_breaks) IS
  'Frequency score 1-5: quantile and bands = 1 + breaks strictly below the value; rfm_r = 1 + breaks at or below it';
COMMENT ON FUNCTION lifecycle.m_score(numeric, lifecycle.rfm_breaks) IS
  'Monetary score 1-5: quantile and bands = 1 + breaks strictly below the value; rfm_r = 1 + breaks at or below it';
ALTER TABLE lifecycle.segment_views ALTER COLUMN score_method SET DEFAULT 'bands';
COMMENT ON COLUMN lifecycle.segment_views.score_method IS 'RFM scoring: bands (recency by the stage thresholds, so that segments agree with stages; F and M by quantile), quantile, rfm_r or ntile';

CREATE OR REPLACE FUNCTION lifecycle.segment_metrics(
  orders regclass, customer_column text, time_column text, amount_column text,
  as_of date, method text DEFAULT 'quantile', rule_set text DEFAULT 'default',
  frequency text DEFAULT 'orders', time_zone text DEFAULT 'UTC')
  RETURNS SETOF lifecycle.segment_summary
  LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  f_expr text;
  scores text;
BEGIN
  IF as_of IS NULL THEN
    RAISE EXCEPTION 'as-of date must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  PERFORM lifecycle.check_rule_set(rule_set);
  f_expr := CASE frequency WHEN 'orders' THEN '(c.s).orders' WHEN 'purchase_days' THEN '(c.s).purchase_days' END;
  IF f_expr IS NULL THEN
    RAISE EXCEPTION 'frequency "%" not recognized', frequency
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use ''orders'' (purchase rows) or ''purchase_days'' (distinct days with a purchase).';
  END IF;
  IF method = 'ntile' THEN
    scores := format($q$
      SELECT c.s,
             ntile(5) OVER (ORDER BY lifecycle.days_since_last_order(c.s, $1) DESC, c.customer) AS r,
             ntile(5) OVER (ORDER BY %1$s, c.customer) AS f,
             ntile(5) OVER (ORDER BY (c.s).monetary, c.customer) AS m
        FROM scored c$q$, f_expr);
  ELSIF method IN ('quantile', 'rfm_r', 'bands') THEN
    scores := format($q$
      SELECT c.s,
             lifecycle.r_score(lifecycle.days_since_last_order(c.s, $1), b.breaks) AS r,
             lifecycle.f_score(%1$s, b.breaks) AS f,
             lifecycle.m_score((c.s).monetary, b.breaks) AS m
        FROM scored c,
             (SELECT lifecycle.rfm_breaks(lifecycle.days_since_last_order(c.s, $1), %1$s,
                                          (c.s).monetary, $2) AS breaks
                FROM scored c) b$q$, f_expr);
  ELSE
    RAISE EXCEPTION 'RFM scoring method "%" not recognized', method
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use ''bands'', ''quantile'', ''rfm_r'' or ''ntile''.';
  END IF;
  RETURN QUERY EXECUTE format($q$
    WITH scored AS MATERIALIZED (
      SELECT c.customer, c.s
        FROM (SELECT o.customer, lifecycle.rfm_agg(o.day, o.amount) AS s FROM (%s) o GROUP BY o.customer) c
       WHERE (c.s).purchase_days > 0)
    SELECT map.segment, count(*), lifecycle._percent(count(*), sum(count(*)) OVER ())::numeric(5,2),
           sum((x.s).orders)::bigint, sum((x.s).monetary)
      FROM (%s) x
      JOIN lifecycle.segment_map($3) map ON map.r = x.r AND map.f = x.f AND map.m = x.m
     GROUP BY map.segment
     ORDER BY count(*) DESC, map.segment
    $q$, lifecycle.orders_sql(orders, customer_column, time_column, amount_column,
                               time_zone, NULL, as_of + 1), scores)
    USING as_of, method, rule_set;
END
$$;
COMMENT ON FUNCTION lifecycle.segment_metrics(regclass, text, text, text, date, text, text, text, text) IS
  'Customers, share, orders and net revenue per RFM segment at as_of, scoring every customer with a purchase by method (quantile, rfm_r, ntile, bands) and naming segments by rule_set; frequency counts orders or purchase_days';
