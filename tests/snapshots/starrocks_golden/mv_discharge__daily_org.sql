CREATE MATERIALIZED VIEW IF NOT EXISTS mv_discharge__daily_org
COMMENT "出院: daily_org (day)"
DISTRIBUTED BY HASH(department)
REFRESH ASYNC EVERY (INTERVAL 1 MINUTE)
PROPERTIES (
  "replication_num" = "1"
)
-- 出院: daily_org (day); fact discharge on fact_inpatient
-- unpartitioned: fact discharge counts by f.discharge_ts, but fact_inpatient is partitioned by date_trunc('month', _part_date) with _part_date = first non-null of (admit_ts); an async MV's partition column must map to a base-table partition column, so this MV is unpartitioned (each refresh recomputes it whole)
-- not flattened: the fact's columns use window functions, which must see every row before filtering; SPJG rewrite does not apply, the metric queries wrap this body for StarRocks's text-based rewrite (v3.3+)
AS
SELECT
  _day AS _bucket,
  campus,
  department,
  discipline,
  team,
  doctor,
  COUNT(*) AS discharge_count,
  COUNT(CASE WHEN discharge_disposition = 'death' THEN 1 END) AS death_count,
  COUNT(CASE WHEN discharge_disposition = 'transfer_primary' THEN 1 END) AS transfer_primary_discharge_count,
  SUM(los_days) AS discharged_bed_days,
  SUM(COALESCE(total_cost, 0)) AS discharged_total_cost,
  SUM(COALESCE(drug_cost, 0)) AS discharged_drug_cost,
  COUNT(CASE WHEN discharged_alive THEN 1 END) AS alive_discharge_count,
  COUNT(CASE WHEN COALESCE(unplanned_readmitted, FALSE) THEN 1 END) AS unplanned_readmit_count,
  COUNT(CASE WHEN discharge_disposition = 'against_advice' THEN 1 END) AS against_advice_discharge_count
FROM (
  SELECT
    f.*,
    GREATEST(DATEDIFF(CAST(f.discharge_ts AS DATE), CAST(f.admit_ts AS DATE)), 1) AS los_days,
    LEAD(f.admit_ts) OVER (
      PARTITION BY f.patient_id
      ORDER BY CASE WHEN f.admit_ts IS NULL THEN 1 ELSE 0 END, f.admit_ts, CASE WHEN f.admission_id IS NULL THEN 1 ELSE 0 END, f.admission_id
    ) AS next_admit_ts,
    COALESCE(f.discharge_disposition, 'other') <> 'death' AS discharged_alive,
    COALESCE(f.discharge_disposition, 'other') <> 'death'
    AND COALESCE(f.readmission_planned, FALSE) = FALSE
    AND DATEDIFF(
      CAST(LEAD(f.admit_ts) OVER (
        PARTITION BY f.patient_id
        ORDER BY CASE WHEN f.admit_ts IS NULL THEN 1 ELSE 0 END, f.admit_ts, CASE WHEN f.admission_id IS NULL THEN 1 ELSE 0 END, f.admission_id
      ) AS DATE),
      CAST(f.discharge_ts AS DATE)
    ) BETWEEN 0 AND 31
    AND (
      FALSE = FALSE
      OR LEFT(f.principal_dx, 3) = LEFT(
        LEAD(f.principal_dx) OVER (
          PARTITION BY f.patient_id
          ORDER BY CASE WHEN f.admit_ts IS NULL THEN 1 ELSE 0 END, f.admit_ts, CASE WHEN f.admission_id IS NULL THEN 1 ELSE 0 END, f.admission_id
        ),
        3
      )
    ) AS unplanned_readmitted,
    CAST(f.discharge_ts AS DATETIME) AS _ts,
    CAST(f.discharge_ts AS DATE) AS _day,
    f.discharge_dept_id AS department,
    _dept.campus_id AS campus,
    _dept.discipline AS discipline,
    f.attending_doctor_id AS doctor,
    f.team_id AS team
  FROM fact_inpatient AS f
  LEFT JOIN dim_department AS _dept
    ON _dept.dept_id = f.discharge_dept_id
) AS r
WHERE
  NOT discharge_ts IS NULL
GROUP BY
  _day,
  campus,
  department,
  discipline,
  team,
  doctor;
