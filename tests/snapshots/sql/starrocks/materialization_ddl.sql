CREATE MATERIALIZED VIEW IF NOT EXISTS mv_discharge__monthly_dept
COMMENT "出院: monthly_dept (month)"
DISTRIBUTED BY HASH(department)
REFRESH ASYNC EVERY (INTERVAL 1 MINUTE)
PROPERTIES (
  "replication_num" = "1"
)
-- 出院: monthly_dept (month); fact discharge on fact_inpatient
-- unpartitioned: fact discharge counts by f.discharge_ts, but fact_inpatient is partitioned by date_trunc('month', _part_date) with _part_date = first non-null of (admit_ts); an async MV's partition column must map to a base-table partition column, so this MV is unpartitioned (each refresh recomputes it whole)
AS
SELECT
  DATE_TRUNC('month', CAST(f.discharge_ts AS DATE)) AS _bucket,
  _dept.campus_id AS campus,
  f.discharge_dept_id AS department,
  _dept.discipline AS discipline,
  COUNT(*) AS discharge_count,
  COUNT(CASE WHEN f.discharge_disposition = 'transfer_primary' THEN 1 END) AS transfer_primary_discharge_count,
  SUM(GREATEST(DATEDIFF(CAST(f.discharge_ts AS DATE), CAST(f.admit_ts AS DATE)), 1)) AS discharged_bed_days
FROM fact_inpatient AS f
LEFT JOIN dim_department AS _dept
  ON _dept.dept_id = f.discharge_dept_id
WHERE
  NOT f.discharge_ts IS NULL
GROUP BY
  DATE_TRUNC('month', CAST(f.discharge_ts AS DATE)),
  _dept.campus_id,
  f.discharge_dept_id,
  _dept.discipline;
