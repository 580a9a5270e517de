-- CET, EET, MET and WET are IANA zones with summer time, and that is what
-- they mean in lifecycle, never PostgreSQL's fixed-offset abbreviations of
-- the same names (which AT TIME ZONE would use).  Newer zone databases keep
-- them only as legacy links (Debian 13 moves them to tzdata-legacy): where
-- they are missing, every function refuses them with the same clear error.
-- The expected output has two forms: calendar_legacy_zones.out (present)
-- and calendar_legacy_zones_1.out (missing).
SET timezone = 'UTC';
CREATE TABLE legacy_zoned (customer int, at timestamptz, amount numeric);
INSERT INTO legacy_zoned VALUES (1, '2024-06-01 22:30Z', 10);
\set VERBOSITY terse
-- 22:30Z: June 2 in CET, EET and MET (summer time), June 1 in WET (+01).
SELECT lifecycle.local_day('2024-06-01 22:30Z', 'CET');
SELECT lifecycle.local_day('2024-06-01 22:30Z', 'EET');
SELECT lifecycle.local_day('2024-06-01 22:30Z', 'MET');
SELECT lifecycle.local_day('2024-06-01 22:30Z', 'WET');
SELECT (lifecycle.rfm_agg(at, amount, 'CET')).last_purchase FROM legacy_zoned;
SELECT orders FROM lifecycle.retention_metrics('legacy_zoned', 'customer', 'at', 'amount', '2024-06-02', '2024-06-03', 'CET');
SELECT lifecycle.create_segment_view('legacy_cet', 'legacy_zoned', 'customer', 'at', 'amount',
                                     time_zone => 'CET', as_of => '2024-06-02') IS NOT NULL AS made;
SELECT last_purchase FROM lifecycle.segment_views s, LATERAL (SELECT max(last_purchase) AS last_purchase FROM legacy_cet) v
 WHERE s.view_name = 'public.legacy_cet';
\set VERBOSITY default
SELECT lifecycle.drop_segment_view(to_regclass('legacy_cet')) WHERE to_regclass('legacy_cet') IS NOT NULL;
DROP TABLE legacy_zoned;
