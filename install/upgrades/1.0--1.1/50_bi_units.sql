
-- Units BI tools can read (issue 12, install/50_metrics.sql): shares and
-- rates in percent, named *_pct, numeric(5,2); averages numeric(38,2); the
-- per-customer stage pairs, stage summaries and transition rates as
-- composite types of plain columns with a comment on each.
CREATE FUNCTION lifecycle._percent(part numeric, whole numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT pg_catalog.round(100.0 OPERATOR(pg_catalog.*) part OPERATOR(pg_catalog./) NULLIF(whole, 0), 2);
END;
COMMENT ON FUNCTION lifecycle._percent(numeric, numeric) IS
  'Internal: part / whole in percent, rounded to 2 decimals; NULL when whole is 0';

-- lifecycle.retention: the rate in percent, averages to 2 decimals.  The
-- monthly companion of a view made under 1.0 reads the type's columns, so
-- it is set aside while they change and made again as it was, under the
-- column's new name, with its owner, privileges and comment, and left out
-- of the extension like the view it belongs to.
DO $$
DECLARE
  m record;
  saved jsonb;
  grant_ record;
BEGIN
  SELECT coalesce(jsonb_agg(x), '[]') INTO saved
    FROM (SELECT c.oid::regclass::text AS name,
                 replace(pg_get_viewdef(c.oid), '.repeat_purchase_rate AS repeat_purchase_rate,',
                         '.repeat_purchase_rate_pct AS repeat_purchase_rate_pct,') AS def,
                 c.relowner::regrole::text AS owner, c.relacl::text[] AS acl, obj_description(c.oid, 'pg_class') AS description
            FROM lifecycle.segment_views v, pg_class c
           WHERE c.oid = to_regclass((lifecycle._companion_names(v.view_name))[3])) x;
  FOR m IN SELECT * FROM jsonb_to_recordset(saved) AS u(name text, def text, owner text, acl text[], description text) LOOP
    EXECUTE format('DROP VIEW %s', m.name);
  END LOOP;
  ALTER TYPE lifecycle.retention RENAME ATTRIBUTE repeat_purchase_rate TO repeat_purchase_rate_pct;
  ALTER TYPE lifecycle.retention
    ALTER ATTRIBUTE repeat_purchase_rate_pct TYPE numeric(5,2),
    ALTER ATTRIBUTE purchase_frequency TYPE numeric(38,2),
    ALTER ATTRIBUTE aov TYPE numeric(38,2),
    ALTER ATTRIBUTE customer_value TYPE numeric(38,2);
  FOR m IN SELECT * FROM jsonb_to_recordset(saved) AS u(name text, def text, owner text, acl text[], description text) LOOP
    EXECUTE format('CREATE VIEW %s AS %s', m.name, m.def);
    EXECUTE format('ALTER EXTENSION lifecycle DROP VIEW %s', m.name);
    EXECUTE format('ALTER VIEW %s OWNER TO %s', m.name, m.owner);
    EXECUTE format('COMMENT ON VIEW %s IS %L', m.name, m.description);
    FOR grant_ IN SELECT a.privilege_type, a.grantee, a.is_grantable FROM aclexplode(m.acl::aclitem[]) a
                   WHERE a.grantee <> (SELECT c.relowner FROM pg_class c WHERE c.oid = m.name::regclass) LOOP
      EXECUTE format('GRANT %s ON %s TO %s%s', grant_.privilege_type, m.name,
                     CASE grant_.grantee WHEN 0 THEN 'PUBLIC' ELSE grant_.grantee::regrole::text END,
                     CASE WHEN grant_.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
  END LOOP;
END $$;
COMMENT ON COLUMN lifecycle.retention.repeat_purchase_rate_pct IS 'repeat_customers / customers, in percent (2 decimals)';
COMMENT ON COLUMN lifecycle.retention.purchase_frequency IS 'orders / customers (2 decimals)';
COMMENT ON COLUMN lifecycle.retention.aov IS 'Average order value: revenue / orders (2 decimals)';
COMMENT ON COLUMN lifecycle.retention.customer_value IS 'purchase_frequency x aov, computed as revenue / customers (2 decimals)';
CREATE OR REPLACE FUNCTION lifecycle.retention_of(customers bigint, orders bigint, revenue numeric,
                                       repeat_customers bigint, refunds bigint, refunded numeric)
  RETURNS lifecycle.retention LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT customers, orders, revenue, repeat_customers,
         lifecycle._percent(repeat_customers, customers),
         pg_catalog.round(orders::numeric OPERATOR(pg_catalog./) NULLIF(customers, 0), 2),
         pg_catalog.round(revenue OPERATOR(pg_catalog./) NULLIF(orders, 0), 2),
         pg_catalog.round(revenue OPERATOR(pg_catalog./) NULLIF(customers, 0), 2),
         refunds, refunded, revenue OPERATOR(pg_catalog.-) refunded;
END;
COMMENT ON FUNCTION lifecycle.retention_of(bigint, bigint, numeric, bigint, bigint, numeric) IS
  'Retention metrics from a period''s totals: customers, orders, revenue before refunds, repeat customers, refunds, refunded';

-- lifecycle.segment_summary: the share in percent (segment_metrics is
-- replaced in 30_bands.sql).
ALTER TYPE lifecycle.segment_summary RENAME ATTRIBUTE share TO share_pct;
ALTER TYPE lifecycle.segment_summary ALTER ATTRIBUTE share_pct TYPE numeric(5,2);
COMMENT ON COLUMN lifecycle.segment_summary.share_pct IS 'customers / all scored customers, in percent (2 decimals)';

-- customer_stages in plain columns; the functions built on it and those
-- whose result columns change are made again.
DROP FUNCTION lifecycle.stage_metrics(regclass, text, text, text, date, text, integer, integer, integer, double precision, integer);
DROP FUNCTION lifecycle.transition_rates(regclass, text, text, text, date, date, text, integer, integer, integer, double precision, integer);
DROP FUNCTION lifecycle.stage_transitions(regclass, text, text, text, date, date, text, integer, integer, integer, double precision, integer);
DROP FUNCTION lifecycle.customer_stages(regclass, text, text, text, date, date, text, integer, integer, integer, double precision, integer);
CREATE TYPE lifecycle.customer_transition AS (
  customer            text,
  from_stage          lifecycle.stage,
  to_stage            lifecycle.stage,
  from_first_purchase date,
  from_last_purchase  date,
  from_orders         bigint,
  from_purchase_days  integer,
  from_monetary       numeric,
  to_first_purchase   date,
  to_last_purchase    date,
  to_orders           bigint,
  to_purchase_days    integer,
  to_monetary         numeric
);
COMMENT ON TYPE lifecycle.customer_transition IS
  'One customer''s stage at two as-of dates, with the summary each rests on (lifecycle.customer_stages)';
COMMENT ON COLUMN lifecycle.customer_transition.customer IS 'Customer key, as text';
COMMENT ON COLUMN lifecycle.customer_transition.from_stage IS 'Stage at from_date (prospect: no order by then)';
COMMENT ON COLUMN lifecycle.customer_transition.to_stage IS 'Stage at to_date';
COMMENT ON COLUMN lifecycle.customer_transition.from_first_purchase IS 'First purchase day up to from_date; NULL without one';
COMMENT ON COLUMN lifecycle.customer_transition.from_last_purchase IS 'Last purchase day up to from_date; NULL without one';
COMMENT ON COLUMN lifecycle.customer_transition.from_orders IS 'Purchase rows up to from_date';
COMMENT ON COLUMN lifecycle.customer_transition.from_purchase_days IS 'Distinct purchase days up to from_date';
COMMENT ON COLUMN lifecycle.customer_transition.from_monetary IS 'Net revenue (purchases minus refunds) up to from_date';
COMMENT ON COLUMN lifecycle.customer_transition.to_first_purchase IS 'First purchase day up to to_date; NULL without one';
COMMENT ON COLUMN lifecycle.customer_transition.to_last_purchase IS 'Last purchase day up to to_date; NULL without one';
COMMENT ON COLUMN lifecycle.customer_transition.to_orders IS 'Purchase rows up to to_date';
COMMENT ON COLUMN lifecycle.customer_transition.to_purchase_days IS 'Distinct purchase days up to to_date';
COMMENT ON COLUMN lifecycle.customer_transition.to_monetary IS 'Net revenue (purchases minus refunds) up to to_date';

CREATE FUNCTION lifecycle.customer_stages(
  orders regclass, customer_column text, time_column text, amount_column text,
  from_date date, to_date date, time_zone text DEFAULT 'UTC',
  active_days integer DEFAULT 90, dormant_days integer DEFAULT 180, churn_days integer DEFAULT 270,
  cadence_factor double precision DEFAULT 3.0, cadence_min_days integer DEFAULT 30)
  RETURNS SETOF lifecycle.customer_transition
  LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM lifecycle.check_period(from_date, to_date);
  -- thresholds are checked once, even when no customer would check them
  PERFORM lifecycle.stage(NULL, to_date, active_days, dormant_days, churn_days,
                          cadence_factor, cadence_min_days);
  RETURN QUERY EXECUTE format($q$
    SELECT c.customer::text,
           lifecycle.stage(c.s_from, $1, $3, $4, $5, $6, $7),
           lifecycle.stage(c.s_to, $2, $3, $4, $5, $6, $7),
           (c.s_from).first_purchase, (c.s_from).last_purchase, coalesce((c.s_from).orders, 0),
           coalesce((c.s_from).purchase_days, 0), coalesce((c.s_from).monetary, 0),
           (c.s_to).first_purchase, (c.s_to).last_purchase, (c.s_to).orders,
           (c.s_to).purchase_days, (c.s_to).monetary
      FROM (SELECT o.customer,
                   lifecycle.rfm_agg(o.day, o.amount) FILTER (WHERE o.day <= $1) AS s_from,
                   lifecycle.rfm_agg(o.day, o.amount) AS s_to
              FROM (%s) o GROUP BY o.customer) c
    $q$, lifecycle.orders_sql(orders, customer_column, time_column, amount_column,
                               time_zone, NULL, to_date + 1))
    USING from_date, to_date, active_days, dormant_days, churn_days, cadence_factor, cadence_min_days;
END
$$;
COMMENT ON FUNCTION lifecycle.customer_stages(regclass, text, text, text, date, date, text, integer, integer, integer, double precision, integer) IS
  'Every customer with an order up to to_date: stage, purchase days, orders and net revenue at from_date and at to_date, in plain columns (orders on the as-of day count); a customer with no order by from_date is a prospect then';

CREATE FUNCTION lifecycle.stage_transitions(
  orders regclass, customer_column text, time_column text, amount_column text,
  from_date date, to_date date, time_zone text DEFAULT 'UTC',
  active_days integer DEFAULT 90, dormant_days integer DEFAULT 180, churn_days integer DEFAULT 270,
  cadence_factor double precision DEFAULT 3.0, cadence_min_days integer DEFAULT 30)
  RETURNS TABLE (from_stage lifecycle.stage, to_stage lifecycle.stage, customers bigint)
  LANGUAGE sql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT c.from_stage, c.to_stage, count(*)
    FROM lifecycle.customer_stages(orders, customer_column, time_column, amount_column,
                                   from_date, to_date, time_zone, active_days, dormant_days,
                                   churn_days, cadence_factor, cadence_min_days) c
   GROUP BY c.from_stage, c.to_stage
   ORDER BY c.from_stage, c.to_stage;
END;
COMMENT ON FUNCTION lifecycle.stage_transitions(regclass, text, text, text, date, date, text, integer, integer, integer, double precision, integer) IS
  'How many customers moved from each stage at from_date to each stage at to_date';

CREATE TYPE lifecycle.transition_rates AS (
  churn_base             bigint,
  churned                bigint,
  churn_rate_pct         numeric(5,2),
  win_back_base          bigint,
  won_back               bigint,
  win_back_rate_pct      numeric(5,2),
  new_base               bigint,
  converted              bigint,
  new_to_repeat_rate_pct numeric(5,2)
);
COMMENT ON TYPE lifecycle.transition_rates IS 'Churn, win-back and new-to-repeat rates between two as-of dates, with their counts';
COMMENT ON COLUMN lifecycle.transition_rates.churn_base IS 'Customers neither prospect nor churned at from_date';
COMMENT ON COLUMN lifecycle.transition_rates.churned IS 'Of them, customers churned at to_date';
COMMENT ON COLUMN lifecycle.transition_rates.churn_rate_pct IS 'churned / churn_base, in percent (2 decimals)';
COMMENT ON COLUMN lifecycle.transition_rates.win_back_base IS 'Customers churned at from_date';
COMMENT ON COLUMN lifecycle.transition_rates.won_back IS 'Of them, customers who bought again after from_date, by to_date';
COMMENT ON COLUMN lifecycle.transition_rates.win_back_rate_pct IS 'won_back / win_back_base, in percent (2 decimals)';
COMMENT ON COLUMN lifecycle.transition_rates.new_base IS 'Customers new (one purchase day) at from_date';
COMMENT ON COLUMN lifecycle.transition_rates.converted IS 'Of them, customers with two or more purchase days at to_date';
COMMENT ON COLUMN lifecycle.transition_rates.new_to_repeat_rate_pct IS 'converted / new_base, in percent (2 decimals)';

CREATE FUNCTION lifecycle.transition_rates(
  orders regclass, customer_column text, time_column text, amount_column text,
  from_date date, to_date date, time_zone text DEFAULT 'UTC',
  active_days integer DEFAULT 90, dormant_days integer DEFAULT 180, churn_days integer DEFAULT 270,
  cadence_factor double precision DEFAULT 3.0, cadence_min_days integer DEFAULT 30)
  RETURNS lifecycle.transition_rates
  LANGUAGE sql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT k.churn_base, k.churned, lifecycle._percent(k.churned, k.churn_base),
         k.win_back_base, k.won_back, lifecycle._percent(k.won_back, k.win_back_base),
         k.new_base, k.converted, lifecycle._percent(k.converted, k.new_base)
    FROM (SELECT count(*) FILTER (WHERE c.from_stage NOT IN ('prospect', 'churned')) AS churn_base,
                 count(*) FILTER (WHERE c.from_stage NOT IN ('prospect', 'churned')
                                    AND c.to_stage = 'churned') AS churned,
                 count(*) FILTER (WHERE c.from_stage = 'churned') AS win_back_base,
                 count(*) FILTER (WHERE c.from_stage = 'churned'
                                    AND c.to_last_purchase > from_date) AS won_back,
                 count(*) FILTER (WHERE c.from_stage = 'new') AS new_base,
                 count(*) FILTER (WHERE c.from_stage = 'new'
                                    AND c.to_purchase_days >= 2) AS converted
            FROM lifecycle.customer_stages(orders, customer_column, time_column, amount_column,
                                           from_date, to_date, time_zone, active_days, dormant_days,
                                           churn_days, cadence_factor, cadence_min_days) c) k;
END;
COMMENT ON FUNCTION lifecycle.transition_rates(regclass, text, text, text, date, date, text, integer, integer, integer, double precision, integer) IS
  'Churn rate (of customers neither prospect nor churned at from_date, the share churned at to_date), win-back rate (of customers churned at from_date, the share who bought again by to_date) and new-to-repeat conversion (of customers new at from_date, the share with two or more purchase days at to_date), in percent, with their counts';

CREATE TYPE lifecycle.stage_summary AS (
  stage     lifecycle.stage,
  customers bigint,
  share_pct numeric(5,2),
  revenue   numeric
);
COMMENT ON TYPE lifecycle.stage_summary IS 'Customers and revenue of one lifecycle stage';
COMMENT ON COLUMN lifecycle.stage_summary.stage IS 'Lifecycle stage';
COMMENT ON COLUMN lifecycle.stage_summary.customers IS 'Customers in the stage';
COMMENT ON COLUMN lifecycle.stage_summary.share_pct IS 'customers / all customers, in percent (2 decimals)';
COMMENT ON COLUMN lifecycle.stage_summary.revenue IS 'Their net revenue up to the as-of date';

CREATE FUNCTION lifecycle.stage_metrics(
  orders regclass, customer_column text, time_column text, amount_column text,
  as_of date, time_zone text DEFAULT 'UTC',
  active_days integer DEFAULT 90, dormant_days integer DEFAULT 180, churn_days integer DEFAULT 270,
  cadence_factor double precision DEFAULT 3.0, cadence_min_days integer DEFAULT 30)
  RETURNS SETOF lifecycle.stage_summary
  LANGUAGE sql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT c.to_stage, count(*), lifecycle._percent(count(*), sum(count(*)) OVER ()),
         sum(c.to_monetary)
    FROM lifecycle.customer_stages(orders, customer_column, time_column, amount_column,
                                   as_of, as_of, time_zone, active_days, dormant_days,
                                   churn_days, cadence_factor, cadence_min_days) c
   GROUP BY c.to_stage
   ORDER BY c.to_stage;
END;
COMMENT ON FUNCTION lifecycle.stage_metrics(regclass, text, text, text, date, text, integer, integer, integer, double precision, integer) IS
  'Customers per lifecycle stage at as_of: count, share of all customers in percent, and their net revenue (all orders up to as_of)';
