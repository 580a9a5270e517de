-- CDNOW (Fader, Hardie & Lee 2005): rfm_agg and lifecycle.btyd reproduce the
-- published calibration summary of all 2,357 sample customers, in weeks, with
-- the calibration period ending 1997-09-30.
SET client_min_messages = warning;

CREATE TABLE cdnow_lines (line text);
\copy cdnow_lines FROM 'test/fixtures/CDNOW_sample.txt'
CREATE TABLE cdnow AS
SELECT f[2]::int AS customer, to_date(f[3], 'YYYYMMDD') AS day, f[5]::numeric AS dollars
  FROM (SELECT regexp_split_to_array(btrim(line), '\s+') AS f FROM cdnow_lines) s;

CREATE TABLE published (id int, frequency int, recency numeric, t numeric);
\copy published FROM 'test/fixtures/cdnow_customers_summary.csv' WITH (FORMAT csv, HEADER)
CREATE TABLE published_zbar (id int, x int, t_x numeric, t numeric, zbar numeric);
\copy published_zbar FROM 'test/fixtures/cdnow_customers_summary_with_transactions.csv' WITH (FORMAT csv, HEADER)

SELECT count(*) AS rows, count(DISTINCT customer) AS customers FROM cdnow;

CREATE TABLE ours AS
SELECT customer, (lifecycle.btyd(lifecycle.rfm_agg(day, dollars), '1997-09-30', 'week')).*
  FROM cdnow WHERE day <= '1997-09-30' GROUP BY customer;

-- Every customer, every column, to the published two decimals.
SELECT count(*) AS customers,
       count(*) FILTER (WHERE o.frequency = p.frequency) AS frequency_equal,
       count(*) FILTER (WHERE round(o.recency::numeric, 2) = p.recency) AS recency_equal,
       count(*) FILTER (WHERE round(o.t::numeric, 2) = p.t) AS t_equal,
       count(*) FILTER (WHERE round(o.monetary_value, 2) = z.zbar) AS zbar_equal
  FROM published p
  JOIN published_zbar z ON z.id = p.id
  LEFT JOIN ours o ON o.customer = p.id;

-- The paper's customer 1: x = 2, t_x = 30.43, T = 38.86, zbar = 22.35.
SELECT frequency, round(recency::numeric, 2) AS recency, round(t::numeric, 2) AS t,
       round(monetary_value, 2) AS monetary_value
  FROM ours WHERE customer = 1;

-- Repeat buyers (the Gamma-Gamma sample) and one-time buyers.
SELECT count(*) FILTER (WHERE frequency > 0) AS repeat_buyers,
       count(*) FILTER (WHERE frequency = 0) AS one_time_buyers
  FROM ours;
