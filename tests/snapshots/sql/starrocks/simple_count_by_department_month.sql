-- fact visit: opd_visit_count
-- flat query on the base tables: StarRocks's SPJG rewrite can answer it from an MV
SELECT
  DATE_TRUNC('month', f._part_date) AS _bucket,
  f.dept_id AS department,
  COUNT(CASE WHEN f.visit_type = 'outpatient' THEN 1 END) AS opd_visit_count
FROM fact_visit AS f
LEFT JOIN dim_department AS _dept
  ON _dept.dept_id = f.dept_id
LEFT JOIN dim_doctor AS _doc
  ON _doc.doctor_id = f.doctor_id
WHERE
  f._part_date >= CAST('2026-01-01' AS DATE)
  AND f._part_date <= CAST('2026-01-31' AS DATE)
GROUP BY
  DATE_TRUNC('month', f._part_date),
  f.dept_id;
