"""Which dimensions a fact carries (the contract's table of organisation levels).

Campus and discipline always follow from the department; team from the fact's own team
column, else from the doctor's team; MDC and ADRG from the DRG group (`dim_drg`), never from
the code's characters.
"""
from __future__ import annotations

from .model import Fact

#: dimension -> (lookup table, key column, label column, parent dimension)
ORG_LOOKUPS = {
    "campus": ("dim_campus", "campus_id", "campus_name", None),
    "department": ("dim_department", "dept_id", "dept_name", "campus"),
    "team": ("dim_team", "team_id", "team_name", "department"),
    "doctor": ("dim_doctor", "doctor_id", "doctor_name", "team"),
    "drg": ("dim_drg", "drg_code", "drg_name", "adrg"),
}


def fact_dimensions(fact: Fact) -> set[str]:
    """Dimension names a fact can be grouped and filtered by.

    >>> from metrics.model import Fact, Org, Measure
    >>> f = Fact(name="x", table="fact_charge", time="charge_date", org=Org(department="dept_id"),
    ...          enums=["category"], measures=[Measure(name="n", agg="count")])
    >>> sorted(fact_dimensions(f))
    ['campus', 'category', 'department', 'discipline']
    """
    dims = ({"campus", "department", "discipline"} if fact.org.department else {"campus"}) \
        | set(fact.enums)
    if fact.org.team or fact.org.doctor:
        dims.add("team")
    if fact.org.doctor:
        dims.add("doctor")
    if fact.drg:
        dims |= {"drg", "adrg", "mdc"}
    return dims
