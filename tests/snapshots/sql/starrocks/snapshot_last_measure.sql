-- fact ward_census: open_beds_last
-- last-day snapshot: evaluated on the base rows, not from an MV
SELECT
  CAST(DATE_TRUNC('MONTH', _day) AS DATE) AS _bucket,
  department,
  SUM(open_beds) AS open_beds_last
FROM (
  SELECT
    *
  FROM (
    SELECT
      f.*,
      CAST(f.census_date AS DATETIME) AS _ts,
      CAST(f.census_date AS DATE) AS _day,
      f.dept_id AS department,
      _dept.campus_id AS campus,
      _dept.discipline AS discipline
    FROM fact_ward_census AS f
    LEFT JOIN dim_department AS _dept
      ON _dept.dept_id = f.dept_id
  ) AS r
  WHERE
    _day IN (CAST('2026-01-31' AS DATE))
) AS s
GROUP BY
  CAST(DATE_TRUNC('MONTH', _day) AS DATE),
  department;
