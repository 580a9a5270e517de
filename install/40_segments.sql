-- Named RFM segments (PRODUCT.md section 4): ordered rule tables, the two
-- shipped rule sets, and the functions that name a score combination.

CREATE TABLE lifecycle.segment_rules (
  rule_set text NOT NULL,
  position integer NOT NULL,
  segment  text NOT NULL,
  r_min    integer,
  r_max    integer,
  f_min    integer,
  f_max    integer,
  m_min    integer,
  m_max    integer,
  shipped  boolean NOT NULL DEFAULT false,
  owner    regrole DEFAULT pg_catalog.quote_ident(CURRENT_USER)::pg_catalog.regrole,
  CONSTRAINT segment_rules_position_key UNIQUE NULLS NOT DISTINCT (owner, rule_set, position),
  CONSTRAINT segment_rules_owned CHECK (shipped = (owner IS NULL)),
  CONSTRAINT segment_rules_scores_1_to_5 CHECK (
    r_min BETWEEN 1 AND 5 AND r_max BETWEEN 1 AND 5 AND
    f_min BETWEEN 1 AND 5 AND f_max BETWEEN 1 AND 5 AND
    m_min BETWEEN 1 AND 5 AND m_max BETWEEN 1 AND 5),
  CONSTRAINT segment_rules_min_le_max CHECK (
    r_min <= r_max AND f_min <= f_max AND m_min <= m_max),
  CONSTRAINT segment_rules_named CHECK (rule_set <> '' AND segment <> '')
);
COMMENT ON TABLE lifecycle.segment_rules IS
  'Ordered rules that name RFM score combinations; within a rule set the first matching rule (lowest position) wins, no match is Others. Every role adds its own rule sets with INSERT and sees only its own and the shipped ones; pg_dump keeps them';
COMMENT ON COLUMN lifecycle.segment_rules.rule_set IS 'Name of the rule set (default and classic are shipped)';
COMMENT ON COLUMN lifecycle.segment_rules.position IS 'Order of evaluation within the rule set: lowest first';
COMMENT ON COLUMN lifecycle.segment_rules.segment IS 'Segment name given to the scores this rule matches';
COMMENT ON COLUMN lifecycle.segment_rules.r_min IS 'Lowest recency score matched (inclusive); NULL = 1';
COMMENT ON COLUMN lifecycle.segment_rules.r_max IS 'Highest recency score matched (inclusive); NULL = 5';
COMMENT ON COLUMN lifecycle.segment_rules.f_min IS 'Lowest frequency score matched (inclusive); NULL = 1';
COMMENT ON COLUMN lifecycle.segment_rules.f_max IS 'Highest frequency score matched (inclusive); NULL = 5';
COMMENT ON COLUMN lifecycle.segment_rules.m_min IS 'Lowest monetary score matched (inclusive); NULL = 1';
COMMENT ON COLUMN lifecycle.segment_rules.m_max IS 'Highest monetary score matched (inclusive); NULL = 5';
COMMENT ON COLUMN lifecycle.segment_rules.shipped IS 'True for the rule sets installed by the extension (read-only; pg_dump leaves them to CREATE EXTENSION)';
COMMENT ON COLUMN lifecycle.segment_rules.owner IS 'The role whose rule set this is (NULL for the shipped ones); a role''s views and calls see its own rule sets and the shipped ones';

-- default: the rfm package's documented rules.
INSERT INTO lifecycle.segment_rules
  (rule_set, position, segment, r_min, r_max, f_min, f_max, m_min, m_max, shipped, owner) VALUES
  ('default',  1, 'Champions',          5, 5, 5, 5, 5, 5, true, NULL),
  ('default',  2, 'Potential Loyalist', 3, 5, 3, 5, 2, 5, true, NULL),
  ('default',  3, 'Loyal Customers',    2, 4, 2, 4, 2, 4, true, NULL),
  ('default',  4, 'Promising',          3, 4, 1, 3, 3, 5, true, NULL),
  ('default',  5, 'New Customers',      4, 5, 1, 3, 1, 5, true, NULL),
  ('default',  6, 'Can''t Lose Them',   1, 2, 3, 4, 4, 5, true, NULL),
  ('default',  7, 'At Risk',            1, 2, 2, 5, 4, 5, true, NULL),
  ('default',  8, 'Need Attention',     1, 3, 3, 5, 3, 5, true, NULL),
  ('default',  9, 'About To Sleep',     2, 3, 1, 3, 1, 4, true, NULL),
  ('default', 10, 'Lost',               1, 1, 1, 5, 1, 5, true, NULL),
-- classic: the rule set of the rfm package's own tests.
  ('classic',  1, 'Champions',          4, 5, 4, 5, 4, 5, true, NULL),
  ('classic',  2, 'Loyal Customers',    2, 5, 3, 5, 3, 5, true, NULL),
  ('classic',  3, 'Potential Loyalist', 3, 5, 1, 3, 1, 3, true, NULL),
  ('classic',  4, 'New Customers',      4, 5, 1, 1, 1, 1, true, NULL),
  ('classic',  5, 'Promising',          3, 4, 1, 1, 1, 1, true, NULL),
  ('classic',  6, 'Need Attention',     2, 3, 2, 3, 2, 3, true, NULL),
  ('classic',  7, 'About To Sleep',     2, 3, 1, 2, 1, 2, true, NULL),
  ('classic',  8, 'At Risk',            1, 2, 2, 5, 2, 5, true, NULL),
  ('classic',  9, 'Can''t Lose Them',   1, 1, 4, 5, 4, 5, true, NULL),
  ('classic', 10, 'Lost',               1, 2, 1, 2, 1, 2, true, NULL);

SELECT pg_catalog.pg_extension_config_dump('lifecycle.segment_rules', 'WHERE NOT shipped');

-- Shipped rows are the extension's: pg_dump leaves them out (CREATE EXTENSION
-- brings them back), so a change to them would be lost silently on restore.
CREATE FUNCTION lifecycle.segment_rules_guard()
  RETURNS trigger LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP <> 'DELETE' AND NOT NEW.shipped
     AND EXISTS (SELECT FROM lifecycle.segment_rules s WHERE s.shipped AND s.rule_set = NEW.rule_set) THEN
    RAISE EXCEPTION 'rule set name "%" belongs to a shipped rule set', NEW.rule_set
      USING ERRCODE = 'duplicate_object',
            HINT = 'Give your rule set another name.';
  END IF;
  IF (TG_OP <> 'INSERT' AND OLD.shipped) OR (TG_OP <> 'DELETE' AND NEW.shipped) THEN
    RAISE EXCEPTION 'shipped segment rule sets are read-only'
      USING ERRCODE = 'feature_not_supported',
            DETAIL = 'Rows with shipped = true come with the extension; pg_dump does not keep changes to them.',
            HINT = 'Copy the rule set under a new name and change the copy: INSERT INTO lifecycle.segment_rules (rule_set, position, segment, r_min, r_max, f_min, f_max, m_min, m_max) SELECT ''mine'', position, segment, r_min, r_max, f_min, f_max, m_min, m_max FROM lifecycle.segment_rules WHERE rule_set = ''default''.';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lifecycle.segment_rules_guard() IS
  'Trigger: keep the shipped rule sets read-only, their names reserved and user rows unshipped, so that pg_dump keeps every change';
CREATE TRIGGER segment_rules_guard
  BEFORE INSERT OR UPDATE OR DELETE ON lifecycle.segment_rules
  FOR EACH ROW EXECUTE FUNCTION lifecycle.segment_rules_guard();

-- Raise the error for a rule set that has no rule.
CREATE FUNCTION lifecycle.check_rule_set(rule_set text)
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

CREATE FUNCTION lifecycle.segment(r integer, f integer, m integer, rule_set text DEFAULT 'default')
  RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN lifecycle.segment(r, f, m, lifecycle.rules(rule_set));
END
$$;
COMMENT ON FUNCTION lifecycle.segment(integer, integer, integer, text) IS
  'Segment of an (R, F, M) score combination: the first rule of the rule set that matches, by position; Others if none; NULL if a score is NULL';

CREATE FUNCTION lifecycle.segment_map(rule_set text DEFAULT 'default')
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
COMMENT ON FUNCTION lifecycle.segment_map(text) IS
  'All 125 (R, F, M) score combinations with their segment under a rule set, to join instead of calling lifecycle.segment per row';

-- Every role manages its own rule sets (pg_cron's cron.job is the model):
-- it sees the shipped ones and its own, and changes only its own.
ALTER TABLE lifecycle.segment_rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY segment_rules_read ON lifecycle.segment_rules FOR SELECT
  USING (shipped OR pg_catalog.pg_has_role(owner, 'USAGE'));
CREATE POLICY segment_rules_own ON lifecycle.segment_rules FOR ALL
  USING (NOT shipped AND pg_catalog.pg_has_role(owner, 'USAGE'))
  WITH CHECK (NOT shipped AND pg_catalog.pg_has_role(owner, 'USAGE'));
GRANT SELECT, INSERT, UPDATE, DELETE ON lifecycle.segment_rules TO PUBLIC;
