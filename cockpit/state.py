"""The whole view state lives in the URL's query string, so a link reproduces the view.

    ?period=month&date=2026-11-25&campus=C01&compare=yoy&lang=zh&theme=light&dept=D0103

`period` is day | week | month | quarter | year | custom (with `from` and `to`); `date` anchors
the period (default today in the hospital); the range is cut at today.

>>> v = from_search("?period=month&date=2026-03-15&campus=C01")
>>> v.range(today=dt.date(2026, 11, 25))
(datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
>>> to_search(v)  # defaults (period=month) are left out
'?date=2026-03-15&campus=C01'
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, urlencode

PERIODS = ("day", "week", "month", "quarter", "year", "custom")
DEFAULTS = {"period": "month", "compare": "yoy", "lang": "zh", "theme": "light"}
_CORE = ("period", "date", "from", "to", "campus", "compare", "lang", "theme")


@dataclass(frozen=True)
class View:
    period: str = "month"
    date: dt.date | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    campus: str | None = None
    compare: str = "yoy"
    lang: str = "zh"
    theme: str = "light"
    extra: dict = field(default_factory=dict)

    def anchor(self, today: dt.date | None = None) -> dt.date:
        return self.date or today or _today()

    def range(self, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
        """First and last day of the period (cut at today)."""
        from metrics.fetch import bucket_end, bucket_start

        today = today or _today()
        if self.period == "custom" and self.start and self.end:
            lo, hi = sorted((self.start, self.end))
            lo = min(lo, today)
            return lo, min(hi, today)
        grain = self.period if self.period in PERIODS[:5] else "month"
        a = min(self.anchor(today), today)  # a future anchor means today
        s = bucket_start(a, grain)
        return s, min(bucket_end(s, grain), max(today, s))

    @property
    def grain(self) -> str:
        """The natural trend grain for the period."""
        return {"day": "hour", "week": "day", "month": "day", "quarter": "week",
                "year": "month"}.get(self.period, "day")

    def where(self) -> dict:
        return {"campus": [self.campus]} if self.campus else {}

    def with_(self, **changes) -> "View":
        extra = dict(self.extra)
        for k in list(changes):
            if k not in View.__dataclass_fields__:
                extra[k] = changes.pop(k)
        return replace(self, extra=extra, **changes)


def _today() -> dt.date:
    from warehouse.settings import hospital_now

    return hospital_now().date()


def _date(v: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(v) if v else None
    except ValueError:
        return None


def from_search(search: str | None) -> View:
    """Parse a query string (bad values fall back to defaults rather than failing)."""
    params = dict(parse_qsl((search or "").lstrip("?")))
    period = params.get("period", "month")
    return View(
        period=period if period in PERIODS else "month",
        date=_date(params.get("date")),
        start=_date(params.get("from")), end=_date(params.get("to")),
        campus=params.get("campus") or None,
        compare=params.get("compare") if params.get("compare") in ("yoy", "pop") else "yoy",
        lang=params.get("lang") if params.get("lang") in ("zh", "en") else "zh",
        theme=params.get("theme") if params.get("theme") in ("light", "dark") else "light",
        extra={k: v for k, v in params.items() if k not in _CORE})


def to_search(view: View) -> str:
    """The canonical query string (defaults omitted)."""
    items = []
    pairs = [("period", view.period), ("date", view.date), ("from", view.start),
             ("to", view.end), ("campus", view.campus), ("compare", view.compare),
             ("lang", view.lang), ("theme", view.theme)]
    for k, v in pairs:
        if v is None or DEFAULTS.get(k) == v:
            continue
        items.append((k, v.isoformat() if isinstance(v, dt.date) else str(v)))
    items += sorted((k, str(v)) for k, v in view.extra.items() if v not in (None, ""))
    return "?" + urlencode(items) if items else ""
