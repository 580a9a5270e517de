-- Upgrade chain: every released version of lifecycle updates to the current
-- one with ALTER EXTENSION ... UPDATE, one step at a time.  Add a CREATE
-- EXTENSION ... VERSION line here for each new release.
-- test/scripts/upgrade.sh checks that the result equals a fresh install.
SET client_min_messages = warning;
DROP EXTENSION lifecycle;
SELECT name, version FROM pg_available_extension_versions WHERE name = 'lifecycle' ORDER BY version;
CREATE EXTENSION lifecycle VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'lifecycle';
ALTER EXTENSION lifecycle UPDATE TO '1.1';
SELECT extversion FROM pg_extension WHERE extname = 'lifecycle';
-- The shipped rule sets are there once.
SELECT rule_set, count(*) FROM lifecycle.segment_rules GROUP BY rule_set ORDER BY rule_set;
