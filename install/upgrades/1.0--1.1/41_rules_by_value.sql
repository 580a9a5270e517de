-- Rule sets by value (install/40_segments.sql): lifecycle.segment_rule,
-- lifecycle.rules and lifecycle.segment(r, f, m, rules), the one place where
-- rules name a score combination; segment(r, f, m, rule_set) and segment_map
-- go through it.  check_rule_set refuses a rule set that is not shipped in a
-- Citus shard query, where copies of it could differ (docs/citus.md).
CREATE OR REPLACE FUNCTION lifecycle.check_rule_set(rule_set text)
  RETURNS void LANGUAGE plpgsql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF rule_set IS NULL THEN
    RAISE EXCEPTION 'rule set must not be NULL'
      USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Use ''default'', ''classic'' or a rule set of your own in lifecycle.segment_rules.';
  END IF;
  -- A shard query of a distributed query (Citus names its connections so):
  -- this node's table is not where the caller's rule sets are kept, and a
  -- copy here may differ.  Only the shipped rule sets are the same everywhere.
  IF pg_catalog.current_setting('application_name') LIKE 'citus\_internal gpid=%'
     AND NOT EXISTS (SELECT FROM lifecycle.segment_rules s WHERE s.shipped AND s.rule_set = check_rule_set.rule_set) THEN
    RAISE EXCEPTION 'segment rule set "%" cannot be read on a Citus worker', rule_set
      USING ERRCODE = 'feature_not_supported',
            DETAIL = 'This call runs in a shard query of a distributed query. A rule set of your own is kept on the node where it was inserted, and a copy on a worker may differ.',
            HINT = format('Pass the rules by value, looked up on the node where the query starts: lifecycle.segment(r, f, m, (SELECT lifecycle.rules(%L))).', rule_set);
  END IF;
  IF NOT EXISTS (SELECT FROM lifecycle.segment_rules s WHERE s.rule_set = check_rule_set.rule_set
                    AND (s.shipped OR s.owner = quote_ident(current_user)::regrole)) THEN
    RAISE EXCEPTION 'segment rule set "%" does not exist', rule_set
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('Known rule sets: %s.',
                            (SELECT string_agg(DISTINCT s.rule_set, ', ' ORDER BY s.rule_set) FROM lifecycle.segment_rules s
                              WHERE s.shipped OR s.owner = quote_ident(current_user)::regrole)),
            HINT = 'Add one with INSERT INTO lifecycle.segment_rules (rule_set, position, segment, r_min, r_max, f_min, f_max, m_min, m_max) VALUES (...): rules are tried by position, the first match names the segment.';
  END IF;
END
$$;
COMMENT ON FUNCTION lifecycle.check_rule_set(text) IS
  'Raise a clear error unless lifecycle.segment_rules holds the rule set among the shipped ones and the current role''s, and this is not a Citus shard query reading a rule set that is not shipped';


-- A rule set by value: its rules in order, so that a query can carry them
-- to wherever segment() runs (a Citus worker reads no rule table).
CREATE TYPE lifecycle.segment_rule AS (
  segment text,
  r_min   integer,
  r_max   integer,
  f_min   integer,
  f_max   integer,
  m_min   integer,
  m_max   integer
);
COMMENT ON TYPE lifecycle.segment_rule IS
  'One rule of a rule set, as lifecycle.rules returns them (an array, in position order) for lifecycle.segment(r, f, m, rules)';
COMMENT ON COLUMN lifecycle.segment_rule.segment IS 'Segment name given to the scores this rule matches';
COMMENT ON COLUMN lifecycle.segment_rule.r_min IS 'Lowest recency score matched (inclusive); NULL = 1';
COMMENT ON COLUMN lifecycle.segment_rule.r_max IS 'Highest recency score matched (inclusive); NULL = 5';
COMMENT ON COLUMN lifecycle.segment_rule.f_min IS 'Lowest frequency score matched (inclusive); NULL = 1';
COMMENT ON COLUMN lifecycle.segment_rule.f_max IS 'Highest frequency score matched (inclusive); NULL = 5';
COMMENT ON COLUMN lifecycle.segment_rule.m_min IS 'Lowest monetary score matched (inclusive); NULL = 1';
COMMENT ON COLUMN lifecycle.segment_rule.m_max IS 'Highest monetary score matched (inclusive); NULL = 5';

CREATE FUNCTION lifecycle.rules(rule_set text DEFAULT 'default')
  RETURNS lifecycle.segment_rule[] LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM lifecycle.check_rule_set(rule_set);
  RETURN ARRAY(SELECT ROW(s.segment, s.r_min, s.r_max, s.f_min, s.f_max, s.m_min, s.m_max)::lifecycle.segment_rule
                 FROM lifecycle.segment_rules s
                WHERE s.rule_set = rules.rule_set
                  AND (s.shipped OR s.owner = quote_ident(current_user)::regrole)
                ORDER BY s.position);
END
$$;
COMMENT ON FUNCTION lifecycle.rules(text) IS
  'The rules of a rule set in position order, to pass by value to lifecycle.segment(r, f, m, rules): on Citus, (SELECT lifecycle.rules(...)) is evaluated where the query starts and its value sent to the workers';

-- The one place where rules name a score combination.
CREATE FUNCTION lifecycle.segment(r integer, f integer, m integer, rules lifecycle.segment_rule[])
  RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  rule lifecycle.segment_rule;
BEGIN
  IF rules IS NULL THEN
    RAISE EXCEPTION 'segment rules must not be NULL'
      USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Pass the rules of a rule set: lifecycle.segment(r, f, m, (SELECT lifecycle.rules(''default''))).';
  END IF;
  IF cardinality(rules) = 0 THEN
    RAISE EXCEPTION 'segment rules must not be empty'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pass the rules of a rule set: lifecycle.segment(r, f, m, (SELECT lifecycle.rules(''default''))).';
  END IF;
  IF r IS NULL OR f IS NULL OR m IS NULL THEN
    RETURN NULL;
  END IF;
  IF r NOT BETWEEN 1 AND 5 OR f NOT BETWEEN 1 AND 5 OR m NOT BETWEEN 1 AND 5 THEN
    RAISE EXCEPTION 'RFM scores must be between 1 and 5'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('Got R = %s, F = %s, M = %s.', r, f, m);
  END IF;
  FOREACH rule IN ARRAY rules LOOP
    IF r BETWEEN coalesce(rule.r_min, 1) AND coalesce(rule.r_max, 5)
       AND f BETWEEN coalesce(rule.f_min, 1) AND coalesce(rule.f_max, 5)
       AND m BETWEEN coalesce(rule.m_min, 1) AND coalesce(rule.m_max, 5) THEN
      RETURN rule.segment;
    END IF;
  END LOOP;
  RETURN 'Others';
END
$$;
COMMENT ON FUNCTION lifecycle.segment(integer, integer, integer, lifecycle.segment_rule[]) IS
  'Segment of an (R, F, M) score combination under rules passed by value (lifecycle.rules): the first that matches; Others if none; NULL if a score is NULL. Reads no table, so it names the same segments on every node';

CREATE OR REPLACE FUNCTION lifecycle.segment(r integer, f integer, m integer, rule_set text DEFAULT 'default')
  RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN lifecycle.segment(r, f, m, lifecycle.rules(rule_set));
END
$$;

CREATE OR REPLACE FUNCTION lifecycle.segment_map(rule_set text DEFAULT 'default')
  RETURNS TABLE (r integer, f integer, m integer, segment text)
  LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT ROWS 125
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  rules lifecycle.segment_rule[] := lifecycle.rules(rule_set);
BEGIN
  RETURN QUERY
  SELECT g.r, g.f, g.m, lifecycle.segment(g.r, g.f, g.m, rules)
    FROM (SELECT rr.r::integer AS r, ff.f::integer AS f, mm.m::integer AS m
            FROM generate_series(1, 5) rr(r), generate_series(1, 5) ff(f), generate_series(1, 5) mm(m)) g
   ORDER BY g.r, g.f, g.m;
END
$$;
