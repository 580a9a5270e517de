-- Recommended actions (issue 15): a shipped action for every lifecycle stage
-- and every segment of the shipped rule sets, and each role's own overrides,
-- under the ownership rules of lifecycle.segment_rules: every role sees the
-- shipped rows and its own, changes only its own, and the shipped rows stay
-- read-only.  Run as two ordinary roles with nothing of lifecycle's granted.
SET client_min_messages = warning;
CREATE ROLE lifecycle_erin;
CREATE ROLE lifecycle_frank;
CREATE SCHEMA actions_test;  -- this script's helper, dropped at the end
GRANT USAGE ON SCHEMA actions_test TO lifecycle_erin, lifecycle_frank;
CREATE FUNCTION actions_test.error_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE query;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- What ships: seven stages (the seeds' bands: active within 90 days, silent
-- 90-180, sleeping 180-270, lost beyond; new, reactivated and prospect) and
-- the ten segments of each shipped rule set.
SELECT kind, rule_set, count(*) FROM lifecycle.recommended_actions WHERE shipped
 GROUP BY 1, 2 ORDER BY 1 DESC, 2;
SELECT count(*) AS segments_without_action
  FROM (SELECT DISTINCT rule_set, segment FROM lifecycle.segment_rules WHERE shipped) s
 WHERE NOT EXISTS (SELECT FROM lifecycle.recommended_actions a
                    WHERE a.kind = 'segment' AND a.rule_set = s.rule_set AND a.name = s.segment);
-- In lifecycle order.
SELECT name AS stage, action FROM lifecycle.action_map() WHERE kind = 'stage';
-- pg_dump keeps the user rows; CREATE EXTENSION brings back the shipped ones.
SELECT x.cond FROM pg_extension e, unnest(e.extconfig, e.extcondition) x(rel, cond)
 WHERE e.extname = 'lifecycle' AND x.rel = 'lifecycle.recommended_actions'::regclass;

-- Erin, an ordinary role.
SET ROLE lifecycle_erin;
-- A customer's action: their segment's if it has one, else their stage's.
SELECT lifecycle.recommended_action('at_risk', 'Can''t Lose Them') AS segment_first,
       lifecycle.recommended_action('at_risk', 'Others') AS others_take_the_stage,
       lifecycle.recommended_action('prospect', NULL) AS prospects_have_no_segment,
       lifecycle.recommended_action(NULL, NULL) AS nothing;
-- Stage and segment are text, as a BI tool binds them (varchar too).
PREPARE action_of(varchar, varchar) AS SELECT lifecycle.recommended_action($1, $2);
EXECUTE action_of('dormant', 'Lost');

-- Her own actions: a stage and a segment of the shipped default rule set,
-- and a segment of a rule set of her own.
INSERT INTO lifecycle.recommended_actions (kind, name, action)
VALUES ('stage', 'dormant', 'Erin: call them.');
INSERT INTO lifecycle.recommended_actions (kind, name, rule_set, action)
VALUES ('segment', 'Champions', 'default', 'Erin: invite to the VIP evening.');
INSERT INTO lifecycle.segment_rules (rule_set, position, segment, r_min, r_max, f_min, f_max, m_min, m_max)
VALUES ('erins', 1, 'VIP', 4, 5, 4, 5, 4, 5);
INSERT INTO lifecycle.recommended_actions (kind, name, rule_set, action)
VALUES ('segment', 'VIP', 'erins', 'Erin: a handwritten card.');
-- Hers win over the shipped ones, for her.
SELECT lifecycle.recommended_action('dormant', 'Others') AS dormant,
       lifecycle.recommended_action('active', 'Champions') AS champions,
       lifecycle.recommended_action('active', 'Champions', 'classic') AS classic_champions,
       lifecycle.recommended_action('active', 'VIP', 'erins') AS vip,
       lifecycle.recommended_action('dormant', 'Anyone', 'erins') AS erins_others;
SELECT kind, name, rule_set, action, owner FROM lifecycle.recommended_actions WHERE NOT shipped
 ORDER BY kind DESC, name;
-- She changes her own rows.
UPDATE lifecycle.recommended_actions SET action = 'Erin: call them, then send a coupon.'
 WHERE kind = 'stage' AND name = 'dormant' AND NOT shipped;
-- The shipped rows she cannot change: row security hides them from UPDATE and
-- DELETE (nothing changes), and the guard refuses a shipped row.
UPDATE lifecycle.recommended_actions SET action = 'pwned' WHERE shipped;
DELETE FROM lifecycle.recommended_actions WHERE shipped;
SELECT count(*) AS shipped_rows, count(*) FILTER (WHERE action = 'pwned') AS changed
  FROM lifecycle.recommended_actions WHERE shipped;
\set SHOW_CONTEXT never
INSERT INTO lifecycle.recommended_actions (kind, name, action, shipped, owner)
VALUES ('stage', 'dormant', 'pwned', true, NULL);
\set SHOW_CONTEXT errors
-- Bad rows, each with its SQLSTATE.
SELECT what, actions_test.error_of(query) FROM (VALUES
  ('a row for Frank',           $$INSERT INTO lifecycle.recommended_actions (kind, name, action, owner) VALUES ('stage', 'new', 'x', 'lifecycle_frank')$$),
  ('a second row for one key',  $$INSERT INTO lifecycle.recommended_actions (kind, name, action) VALUES ('stage', 'dormant', 'again')$$),
  ('an unknown stage',          $$INSERT INTO lifecycle.recommended_actions (kind, name, action) VALUES ('stage', 'sleeping', 'x')$$),
  ('a stage with a rule set',   $$INSERT INTO lifecycle.recommended_actions (kind, name, rule_set, action) VALUES ('stage', 'new', 'default', 'x')$$),
  ('a segment without one',     $$INSERT INTO lifecycle.recommended_actions (kind, name, action) VALUES ('segment', 'Lost', 'x')$$),
  ('an unknown kind',           $$INSERT INTO lifecycle.recommended_actions (kind, name, action) VALUES ('customer', 'x', 'x')$$),
  ('an empty action',           $$INSERT INTO lifecycle.recommended_actions (kind, name, action) VALUES ('stage', 'new', '')$$),
  ('her row made Frank''s',     $$UPDATE lifecycle.recommended_actions SET owner = 'lifecycle_frank' WHERE NOT shipped$$),
  ('her row made shipped',      $$UPDATE lifecycle.recommended_actions SET shipped = true, owner = NULL WHERE NOT shipped$$),
  ('TRUNCATE',                  $$TRUNCATE lifecycle.recommended_actions$$),
  ('recommended_action: unknown stage',    $$SELECT lifecycle.recommended_action('sleeping', NULL)$$),
  ('recommended_action: NULL rule set',    $$SELECT lifecycle.recommended_action('new', NULL, NULL)$$),
  ('recommended_action: unknown rule set', $$SELECT lifecycle.recommended_action('new', 'VIP', 'franks')$$)
) AS cases(what, query);

-- Frank sees none of Erin's rows, gets the shipped actions, and cannot touch hers.
SET ROLE lifecycle_frank;
SELECT count(*) AS rows_not_shipped FROM lifecycle.recommended_actions WHERE NOT shipped;
SELECT lifecycle.recommended_action('dormant', 'Others') AS dormant,
       lifecycle.recommended_action('active', 'Champions') AS champions;
SELECT actions_test.error_of($$SELECT lifecycle.recommended_action('active', 'VIP', 'erins')$$) AS erins_rule_set;
UPDATE lifecycle.recommended_actions SET action = 'pwned' WHERE action LIKE 'Erin%';
DELETE FROM lifecycle.recommended_actions WHERE action LIKE 'Erin%';
-- His own row for the same key as hers is his alone.
INSERT INTO lifecycle.recommended_actions (kind, name, action) VALUES ('stage', 'dormant', 'Frank: a letter.');
SELECT lifecycle.recommended_action('dormant', NULL) AS dormant;

-- Erin's rows are untouched, and she does not see Frank's.
SET ROLE lifecycle_erin;
SELECT kind, name, rule_set, action FROM lifecycle.recommended_actions WHERE NOT shipped ORDER BY kind DESC, name;
SELECT lifecycle.recommended_action('dormant', NULL) AS dormant;
RESET ROLE;

-- A superuser sees every row but still gets the shipped actions (its own
-- would win), and even it cannot change a shipped row.
SELECT count(*) FILTER (WHERE NOT shipped) AS user_rows,
       lifecycle.recommended_action('dormant', NULL) AS dormant
  FROM lifecycle.recommended_actions;
\set SHOW_CONTEXT never
UPDATE lifecycle.recommended_actions SET action = 'pwned' WHERE shipped AND name = 'dormant';
DELETE FROM lifecycle.recommended_actions WHERE shipped AND name = 'dormant';
\set SHOW_CONTEXT errors

-- Joining instead of calling per row: action_map gives the actions in force
-- for the calling role under a rule set, stages first.
SET ROLE lifecycle_erin;
WITH customers(id, stage, segment) AS (VALUES (1, 'dormant', 'Others'), (2, 'active', 'Champions'), (3, 'prospect', NULL))
SELECT c.id, coalesce(seg.action, st.action) AS action,
       coalesce(seg.action, st.action) = lifecycle.recommended_action(c.stage, c.segment) AS same_as_the_function
  FROM customers c
  LEFT JOIN lifecycle.action_map() st ON st.kind = 'stage' AND st.name = c.stage
  LEFT JOIN lifecycle.action_map() seg ON seg.kind = 'segment' AND seg.name = c.segment
 ORDER BY c.id;
RESET ROLE;

DELETE FROM lifecycle.recommended_actions WHERE NOT shipped;
DELETE FROM lifecycle.segment_rules WHERE NOT shipped;
DROP SCHEMA actions_test CASCADE;
DROP ROLE lifecycle_erin;
DROP ROLE lifecycle_frank;
