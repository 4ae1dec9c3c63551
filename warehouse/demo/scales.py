"""Scale presets: how big the demo hospital is and how long a history it has.

A preset fixes the volume at `as_of` (discharges per year) and the span; beds, teams, doctors and
OR rooms follow from the volume with the ratios of the catalogue (§14.1: occupancy ≈ 98 %,
ALOS ≈ 5.6 d). Volumes grow ≈ 5 %/yr, so earlier years are smaller.

>>> from datetime import datetime
>>> s = SCALES["tiny"]
>>> s.span(datetime(2026, 3, 10, 9, 30))[0]
datetime.date(2025, 12, 10)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta


@dataclass(frozen=True)
class Scale:
    name: str
    #: discharges per year at the as_of level (growth shrinks earlier years)
    discharges_per_year: float
    #: main + branch outpatient and emergency visits per discharge (国考#1 ≈ 20 plus ED)
    visits_per_discharge: float
    #: extra visits at alliance members, as a share of all visits
    alliance_visit_share: float
    n_alliance: int
    #: days of history up to as_of; or a fixed first day
    days: int | None = None
    start: date | None = None
    #: the branch campus's share of a discipline it shares with the main campus
    branch_share: float = 0.25
    #: patients in the master index, per visit (repeat visits share a patient id)
    patients_per_visit: float = 0.45
    #: big facts are generated in chunks of this many months
    chunk_months: int = 1

    def span(self, as_of: datetime) -> tuple[date, date]:
        """First and last day of the history (the last day is as_of's date, partly filled)."""
        end = as_of.date()
        if self.start is not None:
            return self.start, end
        return end - timedelta(days=self.days - 1), end


SCALES: dict[str, Scale] = {
    # a small hospital over ~3 months: ~1 k discharges, ~20 k visits
    "tiny": Scale("tiny", discharges_per_year=4_300, visits_per_discharge=19,
                  alliance_visit_share=0.05, n_alliance=2, days=91),
    # ~14 months so this month's YoY exists: ~30 k discharges, ~1 M visits
    "small": Scale("small", discharges_per_year=26_500, visits_per_discharge=25,
                   alliance_visit_share=0.22, n_alliance=4, days=425),
    # the full 4,300-bed hospital over ~2 years: ~500 k discharges, ~20 M visits
    "large": Scale("large", discharges_per_year=280_000, visits_per_discharge=28,
                   alliance_visit_share=0.30, n_alliance=8, days=660),
    # 2009 to as_of with growth: ~2.6 M discharges, ~120 M visits
    "west-china": Scale("west-china", discharges_per_year=215_000, visits_per_discharge=28,
                        alliance_visit_share=0.40, n_alliance=12, start=date(2009, 1, 1)),
}
