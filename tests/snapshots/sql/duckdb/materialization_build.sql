SELECT
  _day AS _bucket,
  campus,
  department,
  discipline,
  team,
  doctor,
  visit_type,
  COUNT(*) AS opd_ed_visit_count,
  COUNT(CASE WHEN visit_type = 'outpatient' THEN 1 END) AS opd_visit_count,
  COUNT(CASE WHEN visit_type = 'outpatient' AND is_appointment THEN 1 END) AS opd_appointment_count,
  COUNT(CASE WHEN referred_down THEN 1 END) AS referred_down_visit_count
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
) AS s
GROUP BY
  _day,
  campus,
  department,
  discipline,
  team,
  doctor,
  visit_type
