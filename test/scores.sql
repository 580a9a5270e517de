-- Scores, segments and metrics: every error a user can cause, with its
-- SQLSTATE, and the declared properties of the functions.
BEGIN;
SELECT plan(36);

-- rfm_breaks and the score functions.
SELECT throws_ok($$SELECT lifecycle.rfm_breaks(1, 1, 1, 'decile')$$, '22023',
                 'RFM scoring method "decile" not recognized', 'unknown method');
SELECT throws_ok($$SELECT lifecycle.rfm_breaks(1, 1, 1, NULL)$$, '22004',
                 'RFM scoring method must not be NULL', 'NULL method');
SELECT throws_ok($$SELECT lifecycle.rfm_breaks(r, 1, 1, CASE r WHEN 1 THEN 'quantile' ELSE 'rfm_r' END) FROM (VALUES (1), (2)) v(r)$$,
                 '22023', NULL, 'method changing within a population');
SELECT throws_ok($$SELECT lifecycle.rfm_breaks(1, 'NaN', 1)$$, '22023', 'frequency must be a finite number', 'NaN frequency');
SELECT throws_ok($$SELECT lifecycle.rfm_breaks(1, 1, 'Infinity')$$, '22023', 'monetary must be a finite number', 'infinite monetary');
SELECT throws_ok($$SELECT lifecycle.f_score(1, (SELECT lifecycle.rfm_breaks(1, 1, 1, 'ntile')))$$, '22023',
                 'ntile scores are not computed from breaks', 'ntile has no breaks');
SELECT throws_ok($$SELECT lifecycle.r_score(1, ROW('ntile', NULL, NULL, NULL)::lifecycle.rfm_breaks)$$, '22023',
                 'ntile scores are not computed from breaks', 'ntile has no breaks (recency)');
SELECT throws_ok($$SELECT lifecycle.f_score(1, ROW('quantile', NULL, ARRAY[1, 2, 3], NULL)::lifecycle.rfm_breaks)$$,
                 '22023', 'invalid RFM breaks for f', 'three breaks');
SELECT throws_ok($$SELECT lifecycle.r_score(1, ROW('quantile', ARRAY[4, 3, 2, 1], NULL, NULL)::lifecycle.rfm_breaks)$$,
                 '22023', 'invalid RFM breaks for r', 'descending breaks');
SELECT throws_ok($$SELECT lifecycle.m_score(1, ROW('quantile', NULL, NULL, ARRAY[1, NULL, 3, 4])::lifecycle.rfm_breaks)$$,
                 '22023', 'invalid RFM breaks for m', 'a NULL break');
SELECT throws_ok($$SELECT lifecycle.m_score(1, ROW('quantile', NULL, NULL, ARRAY['NaN'::float8, 2, 3, 4])::lifecycle.rfm_breaks)$$,
                 '22023', 'invalid RFM breaks for m', 'a NaN break');
SELECT throws_ok($$SELECT lifecycle.m_score(1, ROW('quantile', NULL, NULL, '{{1,2},{3,4}}')::lifecycle.rfm_breaks)$$,
                 '22023', 'invalid RFM breaks for m', 'a two-dimensional array');
SELECT throws_ok($$SELECT lifecycle.m_score(1, ROW(NULL, NULL, NULL, ARRAY[1, 2, 3, 4])::lifecycle.rfm_breaks)$$,
                 '22004', 'RFM breaks have no method', 'no method');
SELECT throws_ok($$SELECT lifecycle.m_score('NaN', ROW('quantile', NULL, NULL, ARRAY[1, 2, 3, 4])::lifecycle.rfm_breaks)$$,
                 '22023', 'monetary must be a finite number', 'scoring NaN');

-- Segments.
SELECT throws_ok($$SELECT lifecycle.segment(5, 5, 5, 'nope')$$, '22023',
                 'segment rule set "nope" does not exist', 'unknown rule set');
SELECT throws_ok($$SELECT * FROM lifecycle.segment_map('nope')$$, '22023',
                 'segment rule set "nope" does not exist', 'unknown rule set (map)');
SELECT throws_ok($$SELECT lifecycle.segment(5, 5, 5, NULL)$$, '22004', 'rule set must not be NULL', 'NULL rule set');
SELECT throws_ok($$SELECT lifecycle.segment(6, 5, 5)$$, '22023', 'RFM scores must be between 1 and 5', 'score 6');
SELECT throws_ok($$UPDATE lifecycle.segment_rules SET r_min = 4 WHERE rule_set = 'default'$$, '0A000',
                 'shipped segment rule sets are read-only', 'shipped rows cannot change');
SELECT throws_ok($$DELETE FROM lifecycle.segment_rules WHERE rule_set = 'classic'$$, '0A000',
                 'shipped segment rule sets are read-only', 'shipped rows cannot go');
SELECT throws_ok($$INSERT INTO lifecycle.segment_rules (rule_set, position, segment, shipped) VALUES ('x', 1, 'X', true)$$,
                 '0A000', 'shipped segment rule sets are read-only', 'user rows cannot claim to be shipped');
SELECT throws_ok($$INSERT INTO lifecycle.segment_rules (rule_set, position, segment, r_min, r_max) VALUES ('x', 1, 'X', 4, 2)$$,
                 '23514', NULL, 'min above max');
SELECT throws_ok($$INSERT INTO lifecycle.segment_rules (rule_set, position, segment, m_max) VALUES ('x', 1, 'X', 0)$$,
                 '23514', NULL, 'score outside 1..5');
SELECT throws_ok($$INSERT INTO lifecycle.segment_rules (rule_set, position, segment) VALUES ('', 1, 'X')$$,
                 '23514', NULL, 'empty rule set name');

-- Metrics over an orders relation.
CREATE TEMP TABLE o (customer int, at timestamptz, day date, amount numeric, note text);
SELECT throws_ok($$SELECT lifecycle.retention_metrics('no_such_table', 'customer', 'day', 'amount', '2024-01-01', '2024-02-01')$$,
                 '42P01', NULL, 'unknown relation');
SELECT throws_ok($$SELECT lifecycle.retention_metrics('o', 'client', 'day', 'amount', '2024-01-01', '2024-02-01')$$,
                 '42703', NULL, 'unknown column');
SELECT throws_ok($$SELECT lifecycle.retention_metrics('o', 'customer', 'note', 'amount', '2024-01-01', '2024-02-01')$$,
                 '42804', NULL, 'order time of a wrong type');
SELECT throws_ok($$SELECT lifecycle.retention_metrics('o', 'customer', 'day', 'note', '2024-01-01', '2024-02-01')$$,
                 '42804', NULL, 'amount of a wrong type');
SELECT throws_ok($$SELECT lifecycle.retention_metrics('o', 'customer', 'day', 'amount', '2024-02-01', '2024-01-01')$$,
                 '22023', NULL, 'reversed period');
SELECT throws_ok($$SELECT lifecycle.retention_metrics('o', 'customer', 'day', 'amount', NULL, '2024-01-01')$$,
                 '22004', NULL, 'NULL period bound');
SELECT throws_ok($$SELECT lifecycle.retention_metrics('o', 'customer', 'day', 'amount', '2024-01-01', 'infinity')$$,
                 '22008', NULL, 'infinite period bound');
SELECT throws_ok($$SELECT lifecycle.retention_metrics('o', 'customer', 'at', 'amount', '2024-01-01', '2024-02-01', 'Mars/Olympus')$$,
                 '22023', NULL, 'unknown time zone');
SELECT throws_ok($$SELECT lifecycle.retention_metrics('o', 'customer', 'at', 'amount', '2024-01-01', '2024-02-01', NULL)$$,
                 '22004', NULL, 'NULL time zone');
SELECT throws_ok($$SELECT * FROM lifecycle.segment_metrics('o', 'customer', 'day', 'amount', '2024-01-01', frequency => 'visits')$$,
                 '22023', NULL, 'unknown frequency');
SELECT throws_ok($$SELECT * FROM lifecycle.transition_rates('o', 'customer', 'day', 'amount', '2024-01-01', '2024-02-01', cadence_factor => 0)$$,
                 '22023', NULL, 'a bad threshold, with no customer to check it');

-- Declared properties.
SELECT is((SELECT string_agg(p.proname || ':' || p.provolatile::text || p.proparallel::text || p.proisstrict::text, ' '
                         ORDER BY p.proname, p.provolatile)
             FROM pg_proc p WHERE p.pronamespace = 'lifecycle'::regnamespace
              AND p.proname IN ('r_score', 'f_score', 'm_score', 'segment', 'segment_map', 'rules')),
          'f_score:istrue m_score:istrue r_score:istrue rules:ssfalse segment:isfalse segment:ssfalse segment_map:ssfalse',
          'scores IMMUTABLE STRICT PARALLEL SAFE; segment by value IMMUTABLE PARALLEL SAFE; lookups by rule set name STABLE PARALLEL SAFE');

SELECT * FROM finish();
ROLLBACK;
