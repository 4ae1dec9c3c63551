-- fact admission: admission_count, emergency_admission_count
-- flat query on the base tables: StarRocks's SPJG rewrite can answer it from an MV
SELECT
  DATE_TRUNC('month', f._part_date) AS _bucket,
  f.admit_dept_id AS department,
  COUNT(*) AS admission_count,
  COUNT(CASE WHEN f.admission_source = 'emergency' THEN 1 END) AS emergency_admission_count
FROM fact_inpatient AS f
LEFT JOIN dim_department AS _dept
  ON _dept.dept_id = f.admit_dept_id
WHERE
  f._part_date >= CAST('2026-01-01' AS DATE)
  AND f._part_date <= CAST('2026-01-31' AS DATE)
GROUP BY
  DATE_TRUNC('month', f._part_date),
  f.admit_dept_id;
