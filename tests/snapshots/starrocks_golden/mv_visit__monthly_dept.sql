CREATE MATERIALIZED VIEW IF NOT EXISTS mv_visit__monthly_dept
COMMENT "门急诊就诊: monthly_dept (month)"
PARTITION BY date_trunc('month', _bucket)
DISTRIBUTED BY HASH(department)
REFRESH ASYNC EVERY (INTERVAL 1 MINUTE)
PROPERTIES (
  "replication_num" = "1",
  "partition_refresh_number" = "1"
)
-- 门急诊就诊: monthly_dept (month); fact visit on fact_visit
-- partitioned by month on _part_date (the base table's partition date): a refresh rebuilds only the months whose base partitions changed
AS
SELECT
  DATE_TRUNC('month', f._part_date) AS _bucket,
  _dept.campus_id AS campus,
  f.dept_id AS department,
  _dept.discipline AS discipline,
  f.visit_type AS visit_type,
  f.registration_class AS registration_class,
  f.booking_channel AS booking_channel,
  COUNT(*) AS opd_ed_visit_count,
  COUNT(CASE WHEN f.visit_type = 'outpatient' THEN 1 END) AS opd_visit_count,
  COUNT(CASE WHEN f.visit_type = 'emergency' THEN 1 END) AS ed_visit_count,
  COUNT(CASE WHEN f.visit_type = 'outpatient' AND f.is_appointment THEN 1 END) AS opd_appointment_count,
  COUNT(
    CASE
      WHEN f.visit_type = 'outpatient'
      AND f.is_appointment
      AND (
        NOT f.checkin_ts IS NULL AND NOT f.slot_start_ts IS NULL AND NOT f.seen_ts IS NULL
      )
      THEN 1
    END
  ) AS opd_booked_seen_count,
  SUM(
    CASE
      WHEN f.visit_type = 'outpatient'
      AND f.is_appointment
      AND (
        NOT f.checkin_ts IS NULL AND NOT f.slot_start_ts IS NULL AND NOT f.seen_ts IS NULL
      )
      THEN (
        GREATEST(DATE_DIFF('SECOND', f.seen_ts, GREATEST(f.checkin_ts, f.slot_start_ts)), 0) / 60.0
      )
    END
  ) AS opd_booked_wait_min,
  COUNT(CASE WHEN f.referred_down THEN 1 END) AS referred_down_visit_count,
  COUNT(
    CASE
      WHEN f.visit_type = 'outpatient' AND f.registration_class = 'special_needs'
      THEN 1
    END
  ) AS special_needs_visit_count,
  COUNT(CASE WHEN f.is_appointment AND f.booking_channel IN ('app', 'wechat') THEN 1 END) AS online_booked_visit_count
FROM fact_visit AS f
LEFT JOIN dim_department AS _dept
  ON _dept.dept_id = f.dept_id
LEFT JOIN dim_doctor AS _doc
  ON _doc.doctor_id = f.doctor_id
GROUP BY
  DATE_TRUNC('month', f._part_date),
  _dept.campus_id,
  f.dept_id,
  _dept.discipline,
  f.visit_type,
  f.registration_class,
  f.booking_channel;
