CREATE MATERIALIZED VIEW IF NOT EXISTS mv_bed_wait__daily_org
COMMENT "候床: daily_org (day)"
DISTRIBUTED BY HASH(department)
REFRESH ASYNC EVERY (INTERVAL 1 MINUTE)
PROPERTIES (
  "replication_num" = "1"
)
-- 候床: daily_org (day); fact bed_wait on fact_admission_booking
-- unpartitioned: fact bed_wait counts by f.admitted_ts, but fact_admission_booking is partitioned by date_trunc('month', _part_date) with _part_date = first non-null of (request_ts); an async MV's partition column must map to a base-table partition column, so this MV is unpartitioned (each refresh recomputes it whole)
AS
SELECT
  CAST(f.admitted_ts AS DATE) AS _bucket,
  _dept.campus_id AS campus,
  f.dept_id AS department,
  _dept.discipline AS discipline,
  f.source AS source,
  COUNT(*) AS booked_admission_count,
  SUM(DATEDIFF(CAST(f.admitted_ts AS DATE), CAST(f.request_ts AS DATE))) AS bed_wait_day_sum
FROM fact_admission_booking AS f
LEFT JOIN dim_department AS _dept
  ON _dept.dept_id = f.dept_id
WHERE
  NOT f.admitted_ts IS NULL
GROUP BY
  CAST(f.admitted_ts AS DATE),
  _dept.campus_id,
  f.dept_id,
  _dept.discipline,
  f.source;
