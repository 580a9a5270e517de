-- Recommended actions (issue 15): what to do with the customers of each
-- lifecycle stage and each named segment, as the seed articles pair each
-- recency band with a campaign and Shopify's segments come with suggested
-- actions.  Shipped defaults, and each role's own overrides under the rules
-- of lifecycle.segment_rules (owner column, row security, shipped rows
-- read-only, pg_dump keeps the user rows).

CREATE TABLE lifecycle.recommended_actions (
  kind     text NOT NULL,
  name     text NOT NULL,
  rule_set text,
  action   text NOT NULL,
  shipped  boolean NOT NULL DEFAULT false,
  owner    regrole DEFAULT pg_catalog.quote_ident(CURRENT_USER)::pg_catalog.regrole,
  CONSTRAINT recommended_actions_key UNIQUE NULLS NOT DISTINCT (owner, kind, name, rule_set),
  CONSTRAINT recommended_actions_owned CHECK (shipped = (owner IS NULL)),
  CONSTRAINT recommended_actions_kind CHECK (kind IN ('stage', 'segment')),
  CONSTRAINT recommended_actions_rule_set CHECK ((kind = 'stage') = (rule_set IS NULL)),
  CONSTRAINT recommended_actions_named CHECK (name <> '' AND rule_set <> '' AND action <> '')
);
COMMENT ON TABLE lifecycle.recommended_actions IS
  'What to do with the customers of a lifecycle stage or a named segment. Every role sees the shipped actions and its own, and adds its own with INSERT: its row for the same kind, name and rule set wins over the shipped one; pg_dump keeps them';
COMMENT ON COLUMN lifecycle.recommended_actions.kind IS 'stage (name is a lifecycle stage) or segment (name is a segment of rule_set)';
COMMENT ON COLUMN lifecycle.recommended_actions.name IS 'The stage (prospect, new, active, at_risk, dormant, churned, reactivated) or the segment name';
COMMENT ON COLUMN lifecycle.recommended_actions.rule_set IS 'The segment rule set the segment belongs to; NULL for stages';
COMMENT ON COLUMN lifecycle.recommended_actions.action IS 'The recommended action, a short sentence for marketers';
COMMENT ON COLUMN lifecycle.recommended_actions.shipped IS 'True for the actions installed by the extension (read-only; pg_dump leaves them to CREATE EXTENSION)';
COMMENT ON COLUMN lifecycle.recommended_actions.owner IS 'The role whose action this is (NULL for the shipped ones); a role''s calls see its own actions before the shipped ones';

-- The seeds' bands (active within 90 days, silent 90-180, sleeping 180-270,
-- lost beyond), one action per stage, and one per segment of both shipped
-- rule sets.  The stage texts name no day counts: a segment view may use
-- other thresholds.
INSERT INTO lifecycle.recommended_actions (kind, name, rule_set, action, shipped, owner) VALUES
  ('stage', 'prospect',    NULL, 'Give a first-purchase incentive, e.g. a welcome discount on the first order.', true, NULL),
  ('stage', 'new',         NULL, 'Send a welcome series that leads to a second purchase.', true, NULL),
  ('stage', 'active',      NULL, 'Include in promotions and new-product announcements.', true, NULL),
  ('stage', 'at_risk',     NULL, 'Going quiet: send a targeted offer to wake them up.', true, NULL),
  ('stage', 'dormant',     NULL, 'Sleeping: run a recall plan, e.g. a large coupon by SMS.', true, NULL),
  ('stage', 'churned',     NULL, 'Lost: low-cost win-back only, e.g. a yearly email; leave out of paid campaigns.', true, NULL),
  ('stage', 'reactivated', NULL, 'Came back: thank them and keep them with a follow-up offer.', true, NULL),
-- default: the rfm package's documented segments.
  ('segment', 'Champions',          'default', 'Reward them: early access to new products, a loyalty perk; ask for reviews and referrals.', true, NULL),
  ('segment', 'Potential Loyalist', 'default', 'Invite them to a loyalty or membership program; recommend related products.', true, NULL),
  ('segment', 'Loyal Customers',    'default', 'Upsell higher-value products and ask for reviews.', true, NULL),
  ('segment', 'Promising',          'default', 'Give a reason to come back soon: a time-limited offer on related products.', true, NULL),
  ('segment', 'New Customers',      'default', 'Onboard them: a welcome series and a second-purchase offer.', true, NULL),
  ('segment', 'Can''t Lose Them',   'default', 'Win them back personally: a message with their favourite products and a strong offer.', true, NULL),
  ('segment', 'At Risk',            'default', 'Send personalised emails with an offer to reconnect before they lapse.', true, NULL),
  ('segment', 'Need Attention',     'default', 'Make a limited-time offer based on their past purchases.', true, NULL),
  ('segment', 'About To Sleep',     'default', 'Share bestsellers with a modest discount to revive interest.', true, NULL),
  ('segment', 'Lost',               'default', 'Low-cost win-back only; leave out of paid campaigns.', true, NULL),
-- classic: the rule set of the rfm package's tests.
  ('segment', 'Champions',          'classic', 'Reward them: early access to new products, a loyalty perk; ask for reviews and referrals.', true, NULL),
  ('segment', 'Loyal Customers',    'classic', 'Upsell higher-value products and ask for reviews.', true, NULL),
  ('segment', 'Potential Loyalist', 'classic', 'Invite them to a loyalty or membership program; recommend related products.', true, NULL),
  ('segment', 'New Customers',      'classic', 'Onboard them: a welcome series and a second-purchase offer.', true, NULL),
  ('segment', 'Promising',          'classic', 'Give a reason to come back soon: a time-limited offer on related products.', true, NULL),
  ('segment', 'Need Attention',     'classic', 'Make a limited-time offer based on their past purchases.', true, NULL),
  ('segment', 'About To Sleep',     'classic', 'Share bestsellers with a modest discount to revive interest.', true, NULL),
  ('segment', 'At Risk',            'classic', 'Send personalised emails with an offer to reconnect before they lapse.', true, NULL),
  ('segment', 'Can''t Lose Them',   'classic', 'Win them back personally: a message with their favourite products and a strong offer.', true, NULL),
  ('segment', 'Lost',               'classic', 'Low-cost win-back only; leave out of paid campaigns.', true, NULL);

SELECT pg_catalog.pg_extension_config_dump('lifecycle.recommended_actions', 'WHERE NOT shipped');

-- Shipped rows are the extension's: pg_dump leaves them out (CREATE EXTENSION
-- brings them back), so a change to them would be lost silently on restore.
-- A stage's action must name a stage.
CREATE FUNCTION lifecycle.recommended_actions_guard()
  RETURNS trigger LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF (TG_OP <> 'INSERT' AND OLD.shipped) OR (TG_OP <> 'DELETE' AND NEW.shipped) THEN
    RAISE EXCEPTION 'shipped recommended actions are read-only'
      USING ERRCODE = 'feature_not_supported',
            DETAIL = 'Rows with shipped = true come with the extension; pg_dump does not keep changes to them.',
            HINT = 'Insert your own row for the same kind, name and rule set: it wins over the shipped one for you, e.g. INSERT INTO lifecycle.recommended_actions (kind, name, action) VALUES (''stage'', ''dormant'', ''Call them.'').';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  IF NEW.kind = 'stage' AND NOT EXISTS (SELECT FROM pg_enum e
                                         WHERE e.enumtypid = 'lifecycle.stage'::regtype AND e.enumlabel = NEW.name) THEN
    RAISE EXCEPTION 'stage "%" not recognized', NEW.name
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Stages are prospect, new, active, at_risk, dormant, churned and reactivated.';
  END IF;
  IF NEW.kind = 'stage' AND NEW.rule_set IS NOT NULL THEN
    RAISE EXCEPTION 'a stage''s action has no rule set'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Leave rule_set NULL for kind = ''stage''; a segment''s action names its rule set.';
  END IF;
  IF NEW.kind = 'segment' AND NEW.rule_set IS NULL THEN
    RAISE EXCEPTION 'a segment''s action needs its rule set'
      USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Segment names belong to a rule set: pass rule_set => ''default'', ''classic'' or one of your own.';
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lifecycle.recommended_actions_guard() IS
  'Trigger: keep the shipped recommended actions read-only and user rows unshipped, so that pg_dump keeps every change; a stage''s action must name a stage and have no rule set, a segment''s must have one';
CREATE TRIGGER recommended_actions_guard
  BEFORE INSERT OR UPDATE OR DELETE ON lifecycle.recommended_actions
  FOR EACH ROW EXECUTE FUNCTION lifecycle.recommended_actions_guard();

-- Every role manages its own actions (pg_cron's cron.job is the model): it
-- sees the shipped ones and its own, and changes only its own.
ALTER TABLE lifecycle.recommended_actions ENABLE ROW LEVEL SECURITY;
CREATE POLICY recommended_actions_read ON lifecycle.recommended_actions FOR SELECT
  USING (shipped OR pg_catalog.pg_has_role(owner, 'USAGE'));
CREATE POLICY recommended_actions_own ON lifecycle.recommended_actions FOR ALL
  USING (NOT shipped AND pg_catalog.pg_has_role(owner, 'USAGE'))
  WITH CHECK (NOT shipped AND pg_catalog.pg_has_role(owner, 'USAGE'));
GRANT SELECT, INSERT, UPDATE, DELETE ON lifecycle.recommended_actions TO PUBLIC;

-- The actions in force for the calling role under a rule set: its own row for
-- a stage or segment, else the shipped one.
CREATE FUNCTION lifecycle.action_map(rule_set text DEFAULT 'default')
  RETURNS TABLE (kind text, name text, action text)
  LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM lifecycle.check_rule_set(rule_set);
  RETURN QUERY
  SELECT m.kind, m.name, m.action
    FROM (SELECT DISTINCT ON (a.kind, a.name) a.kind, a.name, a.action
            FROM lifecycle.recommended_actions a
           WHERE (a.rule_set IS NULL OR a.rule_set = action_map.rule_set)
             AND (a.shipped OR a.owner = quote_ident(current_user)::regrole)
           ORDER BY a.kind, a.name, a.shipped) m     -- own (shipped = false) before shipped
   ORDER BY m.kind = 'segment',                        -- stages in lifecycle order, then segments
            array_position(enum_range(NULL::lifecycle.stage)::text[], m.name), m.name;
END
$$;
COMMENT ON FUNCTION lifecycle.action_map(text) IS
  'The recommended action in force for the calling role for every stage and for every segment of a rule set that has one (its own before the shipped one), to join instead of calling recommended_action per row';

CREATE FUNCTION lifecycle.recommended_action(stage text, segment text, rule_set text DEFAULT 'default')
  RETURNS text
  LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  result text;
BEGIN
  IF stage IS NOT NULL AND NOT EXISTS (SELECT FROM pg_enum e
                                        WHERE e.enumtypid = 'lifecycle.stage'::regtype
                                          AND e.enumlabel = recommended_action.stage) THEN
    RAISE EXCEPTION 'stage "%" not recognized', stage
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Stages are prospect, new, active, at_risk, dormant, churned and reactivated.';
  END IF;
  PERFORM lifecycle.check_rule_set(rule_set);
  -- as action_map: the role's own row before the shipped one
  SELECT a.action INTO result
    FROM lifecycle.recommended_actions a
   WHERE ((a.kind = 'segment' AND a.name = segment AND a.rule_set = recommended_action.rule_set)
          OR (a.kind = 'stage' AND a.name = stage))
     AND (a.shipped OR a.owner = quote_ident(current_user)::regrole)
   ORDER BY a.kind = 'stage', a.shipped   -- the segment's before the stage's
   LIMIT 1;
  RETURN result;
END
$$;
COMMENT ON FUNCTION lifecycle.recommended_action(text, text, text) IS
  'The action for a customer: their segment''s (in rule_set) if one is set, else their stage''s; the calling role''s own actions before the shipped ones; NULL if neither has one';
