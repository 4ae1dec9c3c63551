CREATE TABLE mv_discharge__monthly_dept AS
SELECT
  CAST(DATE_TRUNC('MONTH', _day) AS DATE) AS _bucket,
  campus,
  department,
  discipline,
  COUNT(*) AS discharge_count,
  COUNT(CASE WHEN discharge_disposition = 'transfer_primary' THEN 1 END) AS transfer_primary_discharge_count,
  SUM(los_days) AS discharged_bed_days
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
) AS s
GROUP BY
  CAST(DATE_TRUNC('MONTH', _day) AS DATE),
  campus,
  department,
  discipline;
