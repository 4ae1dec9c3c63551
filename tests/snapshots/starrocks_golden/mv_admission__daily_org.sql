CREATE MATERIALIZED VIEW IF NOT EXISTS mv_admission__daily_org
COMMENT "入院: daily_org (day)"
PARTITION BY date_trunc('month', _bucket)
DISTRIBUTED BY HASH(department)
REFRESH ASYNC EVERY (INTERVAL 1 MINUTE)
PROPERTIES (
  "replication_num" = "1",
  "partition_refresh_number" = "1"
)
-- 入院: daily_org (day); fact admission on fact_inpatient
-- partitioned by month on _part_date (the base table's partition date): a refresh rebuilds only the months whose base partitions changed
AS
SELECT
  f._part_date AS _bucket,
  _dept.campus_id AS campus,
  f.admit_dept_id AS department,
  _dept.discipline AS discipline,
  COUNT(*) AS admission_count,
  COUNT(CASE WHEN f.admission_source = 'emergency' THEN 1 END) AS emergency_admission_count
FROM fact_inpatient AS f
LEFT JOIN dim_department AS _dept
  ON _dept.dept_id = f.admit_dept_id
GROUP BY
  f._part_date,
  _dept.campus_id,
  f.admit_dept_id,
  _dept.discipline;
