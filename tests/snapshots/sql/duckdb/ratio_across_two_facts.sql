-- fact discharge: discharge_count
SELECT
  CAST(DATE_TRUNC('MONTH', _day) AS DATE) AS _bucket,
  department,
  COUNT(*) AS discharge_count
FROM (
  SELECT
    *
  FROM (
    SELECT
      f.*,
      GREATEST(DATE_DIFF('DAY', CAST(f.admit_ts AS DATE), CAST(f.discharge_ts AS DATE)), 1) AS los_days,
      CAST(f.discharge_ts AS TIMESTAMP) AS _ts,
      CAST(f.discharge_ts AS DATE) AS _day,
      f.discharge_dept_id AS department,
      _dept.campus_id AS campus,
      _dept.discipline AS discipline,
      f.attending_doctor_id AS doctor,
      f.team_id AS team
    FROM fact_inpatient AS f
    LEFT JOIN dim_department AS _dept
      ON _dept.dept_id = f.discharge_dept_id
  ) AS r
  WHERE
    NOT discharge_ts IS NULL
    AND _day >= CAST('2026-01-01' AS DATE)
    AND _day <= CAST('2026-01-31' AS DATE)
) AS s
GROUP BY
  CAST(DATE_TRUNC('MONTH', _day) AS DATE),
  department;
-- fact visit: opd_visit_count
SELECT
  CAST(DATE_TRUNC('MONTH', _day) AS DATE) AS _bucket,
  department,
  COUNT(CASE WHEN visit_type = 'outpatient' THEN 1 END) AS opd_visit_count
FROM (
  SELECT
    *
  FROM (
    SELECT
      f.*,
      CAST(visit_ts AS TIMESTAMP) AS _ts,
      CAST(visit_ts AS DATE) AS _day,
      f.dept_id AS department,
      _dept.campus_id AS campus,
      _dept.discipline AS discipline,
      f.doctor_id AS doctor,
      _doc.team_id AS team
    FROM fact_visit AS f
    LEFT JOIN dim_department AS _dept
      ON _dept.dept_id = f.dept_id
    LEFT JOIN dim_doctor AS _doc
      ON _doc.doctor_id = f.doctor_id
  ) AS r
  WHERE
    _day >= CAST('2026-01-01' AS DATE) AND _day <= CAST('2026-01-31' AS DATE)
) AS s
GROUP BY
  CAST(DATE_TRUNC('MONTH', _day) AS DATE),
  department;
