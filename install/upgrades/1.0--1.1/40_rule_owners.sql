
-- Rule sets owned by roles (install/40_segments.sql): an owner column, names
-- unique per owner, row security, lookups of the caller's own and the shipped
-- rule sets.  1.0 let only the extension's owner write rule sets: the user
-- rows it has are that role's.
ALTER TABLE lifecycle.segment_rules ADD COLUMN owner regrole;
UPDATE lifecycle.segment_rules r SET owner = e.extowner::regrole
  FROM pg_catalog.pg_extension e WHERE e.extname = 'lifecycle' AND NOT r.shipped;
ALTER TABLE lifecycle.segment_rules
  ALTER COLUMN owner SET DEFAULT pg_catalog.quote_ident(CURRENT_USER)::pg_catalog.regrole,
  DROP CONSTRAINT segment_rules_pkey,
  ADD CONSTRAINT segment_rules_position_key UNIQUE NULLS NOT DISTINCT (owner, rule_set, position),
  ADD CONSTRAINT segment_rules_owned CHECK (shipped = (owner IS NULL));
COMMENT ON TABLE lifecycle.segment_rules IS
  'Ordered rules that name RFM score combinations; within a rule set the first matching rule (lowest position) wins, no match is Others. Every role adds its own rule sets with INSERT and sees only its own and the shipped ones; pg_dump keeps them';
COMMENT ON COLUMN lifecycle.segment_rules.owner IS 'The role whose rule set this is (NULL for the shipped ones); a role''s views and calls see its own rule sets and the shipped ones';
COMMENT ON FUNCTION lifecycle.segment_rules_guard() IS
  'Trigger: keep the shipped rule sets read-only, their names reserved and user rows unshipped, so that pg_dump keeps every change';
COMMENT ON FUNCTION lifecycle.check_rule_set(text) IS
  'Raise a clear error unless lifecycle.segment_rules holds the rule set among the shipped ones and the current role''s';

CREATE OR REPLACE FUNCTION lifecycle.segment_rules_guard()
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

CREATE OR REPLACE FUNCTION lifecycle.segment(r integer, f integer, m integer, rule_set text DEFAULT 'default')
  RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  name text;
BEGIN
  PERFORM lifecycle.check_rule_set(rule_set);
  IF r IS NULL OR f IS NULL OR m IS NULL THEN
    RETURN NULL;
  END IF;
  IF r NOT BETWEEN 1 AND 5 OR f NOT BETWEEN 1 AND 5 OR m NOT BETWEEN 1 AND 5 THEN
    RAISE EXCEPTION 'RFM scores must be between 1 and 5'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('Got R = %s, F = %s, M = %s.', r, f, m);
  END IF;
  SELECT s.segment INTO name
    FROM lifecycle.segment_rules s
   WHERE s.rule_set = segment.rule_set
     AND (s.shipped OR s.owner = quote_ident(current_user)::regrole)
     AND r BETWEEN coalesce(s.r_min, 1) AND coalesce(s.r_max, 5)
     AND f BETWEEN coalesce(s.f_min, 1) AND coalesce(s.f_max, 5)
     AND m BETWEEN coalesce(s.m_min, 1) AND coalesce(s.m_max, 5)
   ORDER BY s.position
   LIMIT 1;
  RETURN coalesce(name, 'Others');
END
$$;

CREATE OR REPLACE FUNCTION lifecycle.segment_map(rule_set text DEFAULT 'default')
  RETURNS TABLE (r integer, f integer, m integer, segment text)
  LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT ROWS 125
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM lifecycle.check_rule_set(rule_set);
  RETURN QUERY
  SELECT g.r, g.f, g.m, coalesce(first_match.segment, 'Others')
    FROM (SELECT rr.r::integer AS r, ff.f::integer AS f, mm.m::integer AS m
            FROM generate_series(1, 5) rr(r), generate_series(1, 5) ff(f), generate_series(1, 5) mm(m)) g
    LEFT JOIN LATERAL (
      SELECT s.segment
        FROM lifecycle.segment_rules s
       WHERE s.rule_set = segment_map.rule_set
         AND (s.shipped OR s.owner = quote_ident(current_user)::regrole)
         AND g.r BETWEEN coalesce(s.r_min, 1) AND coalesce(s.r_max, 5)
         AND g.f BETWEEN coalesce(s.f_min, 1) AND coalesce(s.f_max, 5)
         AND g.m BETWEEN coalesce(s.m_min, 1) AND coalesce(s.m_max, 5)
       ORDER BY s.position
       LIMIT 1) first_match ON true
   ORDER BY g.r, g.f, g.m;
END
$$;

-- Every role manages its own rule sets (pg_cron's cron.job is the model):
-- it sees the shipped ones and its own, and changes only its own.
ALTER TABLE lifecycle.segment_rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY segment_rules_read ON lifecycle.segment_rules FOR SELECT
  USING (shipped OR pg_catalog.pg_has_role(owner, 'USAGE'));
CREATE POLICY segment_rules_own ON lifecycle.segment_rules FOR ALL
  USING (NOT shipped AND pg_catalog.pg_has_role(owner, 'USAGE'))
  WITH CHECK (NOT shipped AND pg_catalog.pg_has_role(owner, 'USAGE'));
GRANT SELECT, INSERT, UPDATE, DELETE ON lifecycle.segment_rules TO PUBLIC;
