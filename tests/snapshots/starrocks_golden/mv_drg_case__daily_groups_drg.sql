CREATE MATERIALIZED VIEW IF NOT EXISTS mv_drg_case__daily_groups_drg
COMMENT "DRG结算病例: daily_groups_drg (day)"
DISTRIBUTED BY HASH(drg)
REFRESH ASYNC EVERY (INTERVAL 1 MINUTE)
PROPERTIES (
  "replication_num" = "1"
)
-- DRG结算病例: daily_groups_drg (day); fact drg_case on fact_drg_settlement
-- unpartitioned: fact drg_case counts by stay.discharge_ts, but fact_drg_settlement is partitioned by date_trunc('month', _part_date) with _part_date = first non-null of (settle_date); an async MV's partition column must map to a base-table partition column, so this MV is unpartitioned (each refresh recomputes it whole)
-- drg_distinct_group_count: distinct count as a bitmap of the integer surrogate key (re-aggregates across grains and dimensions)
AS
SELECT
  CAST(stay.discharge_ts AS DATE) AS _bucket,
  f.drg_code AS drg,
  BITMAP_UNION(TO_BITMAP(CASE WHEN (
    NOT f.drg_code IS NULL
  ) THEN _drg.drg_sk END)) AS drg_distinct_group_count
FROM fact_drg_settlement AS f
INNER JOIN fact_inpatient AS stay
  ON stay.admission_id = f.admission_id
LEFT JOIN dim_department AS _dept
  ON _dept.dept_id = stay.discharge_dept_id
LEFT JOIN dim_drg AS _drg
  ON _drg.drg_code = f.drg_code
WHERE
  (
    NOT stay.discharge_ts IS NULL
  )
GROUP BY
  CAST(stay.discharge_ts AS DATE),
  f.drg_code;
