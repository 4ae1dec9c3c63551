CREATE MATERIALIZED VIEW IF NOT EXISTS mv_clinic_session__monthly_doctors_dept
COMMENT "出诊单元: monthly_doctors_dept (month)"
PARTITION BY date_trunc('month', _bucket)
DISTRIBUTED BY HASH(department)
REFRESH ASYNC EVERY (INTERVAL 1 MINUTE)
PROPERTIES (
  "replication_num" = "1",
  "partition_refresh_number" = "1"
)
-- 出诊单元: monthly_doctors_dept (month); fact clinic_session on fact_clinic_session
-- partitioned by month on _part_date (the base table's partition date): a refresh rebuilds only the months whose base partitions changed
-- clinic_doctor_count: distinct count as a bitmap of the integer surrogate key (re-aggregates across grains and dimensions)
AS
SELECT
  DATE_TRUNC('month', f._part_date) AS _bucket,
  f.dept_id AS department,
  BITMAP_UNION(TO_BITMAP(CASE WHEN f.session_status = 'held' THEN _doc.doctor_sk END)) AS clinic_doctor_count
FROM fact_clinic_session AS f
LEFT JOIN dim_department AS _dept
  ON _dept.dept_id = f.dept_id
LEFT JOIN dim_doctor AS _doc
  ON _doc.doctor_id = f.doctor_id
GROUP BY
  DATE_TRUNC('month', f._part_date),
  f.dept_id;
