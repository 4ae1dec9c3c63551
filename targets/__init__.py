"""Annual targets (年度指标): hospital → campus → department → team.

- `store`: versioned, audited target records, scoped by user (set, lock, history, compare);
- `cascade`: top-down allocation (proportional to a reference, equal, by capacity, manual),
  with holds, a hospital reserve and an exact rounding remainder;
- `rollup`: Σ children against the parent, conflicts, implied parent ratios;
- `phasing`: annual → month → day by each node's seasonal profile (春节-aligned);
- `progress`: expected-to-date, completion by direction, gaps, landing, the off-track list;
- `io`: YAML / CSV / XLSX import and export.

The tables live in the warehouse; the semantic layer reads them (`metrics/targets_read.py`),
so `medical_revenue:attainment` is a query like any other.

>>> # from targets.store import set_target; from targets.cascade import cascade
>>> # set_target(wh, "medical_revenue", 2027, "hospital", 1.5e8, reserve=3e6)
>>> # cascade(wh, "medical_revenue", 2027, "hospital", "department", "proportional")
"""
