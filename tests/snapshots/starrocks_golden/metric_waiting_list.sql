-- fact waiting_list_day: waiting_list_count
-- last-day snapshot: evaluated on the base rows, not from an MV
SELECT
  CAST(DATE_TRUNC('MONTH', _day) AS DATE) AS _bucket,
  department,
  SUM(1) AS waiting_list_count
FROM (
  SELECT
    *
  FROM (
    SELECT
      f.*,
      CAST(c.date AS DATETIME) AS _ts,
      CAST(c.date AS DATE) AS _day,
      f.dept_id AS department,
      _dept.campus_id AS campus,
      _dept.discipline AS discipline
    FROM fact_admission_booking AS f
    INNER JOIN dim_calendar AS c
      ON f.request_ts < c.date + INTERVAL '1' DAY
      AND (
        f.admitted_ts IS NULL OR f.admitted_ts >= c.date + INTERVAL '1' DAY
      )
      AND (
        f.cancelled_ts IS NULL OR f.cancelled_ts >= c.date + INTERVAL '1' DAY
      )
      AND (
        f.booking_status = 'waiting'
        OR NOT f.admitted_ts IS NULL
        OR NOT f.cancelled_ts IS NULL
      )
    LEFT JOIN dim_department AS _dept
      ON _dept.dept_id = f.dept_id
  ) AS r
  WHERE
    _day IN (CAST('2026-01-31' AS DATE))
) AS s
GROUP BY
  CAST(DATE_TRUNC('MONTH', _day) AS DATE),
  department;
