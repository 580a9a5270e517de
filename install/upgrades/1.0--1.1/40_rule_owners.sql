
-- Rule sets owned by roles (install/40_segments.sql): an owner column, names
-- unique per owner, row security, lookups of the caller's own and the shipped
-- rule sets (their lookups: 41_rules_by_value.sql).  1.0 let only the
-- extension's owner write rule sets: the user rows it has are that role's.
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

-- Every role manages its own rule sets (pg_cron's cron.job is the model):
-- it sees the shipped ones and its own, and changes only its own.
ALTER TABLE lifecycle.segment_rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY segment_rules_read ON lifecycle.segment_rules FOR SELECT
  USING (shipped OR pg_catalog.pg_has_role(owner, 'USAGE'));
CREATE POLICY segment_rules_own ON lifecycle.segment_rules FOR ALL
  USING (NOT shipped AND pg_catalog.pg_has_role(owner, 'USAGE'))
  WITH CHECK (NOT shipped AND pg_catalog.pg_has_role(owner, 'USAGE'));
GRANT SELECT, INSERT, UPDATE, DELETE ON lifecycle.segment_rules TO PUBLIC;
