"""The semantic model: facts, measures, dimensions, metrics and materializations, parsed from
`themes/*.yaml` with unknown keys forbidden.

Expressions in the YAML (`time`, `columns`, `filter`, `expr`, join `on`) are SQL in DuckDB's
dialect, written by the data engineer; the compiler parses them with sqlglot and renders them
per dialect. Values from users never enter here.

A fact is a view of one warehouse table (alias `f`), optionally joined to others, with the
date its metrics count by (`time`, catalogue rule 0.5-1) and the organisation columns that
attribute it (`org`, rule 0.5-2). Campus and discipline always follow from the department;
team from the fact's own team column, else from the doctor's team.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

GRAINS = ("hour", "day", "week", "month", "quarter", "year")
ORG_DIMENSIONS = ("campus", "department", "team", "doctor", "discipline")
DRG_DIMENSIONS = ("mdc", "adrg", "drg")
TRANSFORMS = ("mtd", "qtd", "ytd", "yoy", "yoy_diff", "yoy_growth", "pop", "pop_diff",
              "pop_growth", "share", "target", "target_to_date", "attainment", "gap")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Join(Strict):
    table: str
    alias: str
    on: str
    how: Literal["left", "inner"] = "left"


class Measure(Strict):
    """An aggregation over a fact's rows.

    `agg`: sum, count, count_distinct, min, max; `snapshot` (a daily stock such as the midnight
    census: summed across the organisation, and across days either averaged over the calendar
    days of the bucket or taken on its last day, `over_days`); `open_count` (a waiting list:
    rows whose `start` ≤ day < `end`, evaluated at the end of a day).
    """

    name: str
    agg: Literal["sum", "count", "count_distinct", "min", "max", "snapshot", "open_count"]
    expr: str | None = None
    filter: str | None = None
    over_days: Literal["avg", "last"] | None = None
    start: str | None = None
    end: str | None = None
    zh: str | None = None
    description: str | None = None


class Materialization(Strict):
    """An aggregate table kept by the refresher (DuckDB) or an async MV (StarRocks)."""

    name: str
    grain: Literal["day", "month"]
    dimensions: list[str] = Field(default_factory=list)
    measures: list[str]
    refresh_every: str = "1 MINUTE"


class Org(Strict):
    """Organisation attribution. Campus and discipline follow from the department; a fact
    with no department (operating rooms belong to a campus) names its `campus` instead."""

    department: str | None = None
    campus: str | None = None
    team: str | None = None
    doctor: str | None = None


class Fact(Strict):
    name: str
    table: str
    zh: str | None = None
    description: str | None = None
    time: str
    time_is_date: bool = False
    where: str | None = None
    joins: list[Join] = Field(default_factory=list)
    columns: dict[str, str] = Field(default_factory=dict)
    org: Org
    drg: str | None = None
    enums: list[str] = Field(default_factory=list)
    lookback_days: int = 0
    #: a row counts on every day between its dates (a waiting list built from booking
    #: intervals): a change rebuilds every month between its old and new dates
    span_changes: bool = False
    measures: list[Measure]
    materializations: list[Materialization] = Field(default_factory=list)


class Metric(Strict):
    """A number the hospital reports. Kinds:

    - `simple`: one measure;
    - `ratio`: numerator ÷ denominator, both recomputed at every grain (never an average of
      ratios); each side is a measure or an expression over measures;
    - `derived`: an expression over measures and other metrics;
    - `cumulative`: `of` a metric, `window` mtd/qtd/ytd or `rolling` with `days`;
    - `transform`: `of` a metric under a query-time `transform` (growth indicators such as
      `opd_cost_growth` are `opd_cost_per_visit` under `yoy_growth`).
    """

    id: str
    zh: str
    en: str
    kind: Literal["simple", "ratio", "derived", "cumulative", "transform"]
    measure: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    expr: str | None = None
    of: str | None = None
    window: Literal["mtd", "qtd", "ytd", "rolling"] | None = None
    days: int | None = None
    transform: str | None = None  # a growth metric is another metric under a transform
    unit: str
    format: Literal["integer", "decimal1", "decimal2", "percent", "yuan", "minutes", "days",
                    "ratio"]
    direction: Literal["up", "down", "band"]
    #: how attainment against a target is scored when it differs from `direction`: a volume
    #: monitored within a band is still "↑ vs target" (catalogue §0.2, e.g. 出院人次 ◇ (↑ vs target))
    target_direction: Literal["up", "down", "band"] | None = None
    band: list[float] | None = None
    standard: str
    panel: str
    description: str
    formula: str | None = None
    owner: str = "运营管理部"
    data: Literal["Y", "P"] = "Y"
    label_scope: str | None = None  # e.g. 院内口径

    @property
    def scoring_direction(self) -> str:
        """The direction attainment against a target is scored by (catalogue §0.2)."""
        return self.target_direction or self.direction


class EnumDimension(Strict):
    name: str
    zh: str
    en: str
    values: dict[str, str]  # value -> Chinese label


class Setting(Strict):
    name: str
    default: str | int | float | bool
    description: str


class Theme(Strict):
    theme: str
    zh: str
    en: str
    facts: list[Fact] = Field(default_factory=list)
    metrics: list[Metric] = Field(default_factory=list)


class DimensionsFile(Strict):
    enums: list[EnumDimension] = Field(default_factory=list)
    settings: list[Setting] = Field(default_factory=list)
