-- fact ward_census: occupied_beds_avg, open_beds_avg
-- flat query on the base tables: StarRocks's SPJG rewrite can answer it from an MV
SELECT
  DATE_TRUNC('month', f._part_date) AS _bucket,
  f.dept_id AS department,
  SUM(f.occupied_beds) AS occupied_beds_avg,
  SUM(f.open_beds) AS open_beds_avg
FROM fact_ward_census AS f
LEFT JOIN dim_department AS _dept
  ON _dept.dept_id = f.dept_id
WHERE
  f._part_date >= CAST('2026-01-01' AS DATE)
  AND f._part_date <= CAST('2026-01-31' AS DATE)
GROUP BY
  DATE_TRUNC('month', f._part_date),
  f.dept_id;
