"""The demo hospital generator: every table of the contract, chunk by chunk.

`generate_chunks` yields `(table, DataFrame)` pairs: the six dimensions, then the stay-based
facts (inpatient, census, surgery, settlement, booking), then inpatient charges in blocks of
stays, then per month the clinic sessions, visits, their charges and the online consults. A
table may come in several chunks; concatenated they are the table. Memory stays bounded by
one month of visits, so the large presets stream straight into `write_delivery`.

>>> from datetime import datetime
>>> names = {t for t, _ in generate_chunks("tiny", as_of=datetime(2026, 3, 10, 9, 30))}
>>> len(names)
15
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Iterator

import numpy as np
import pandas as pd

from .. import settings
from ..contract import LOAD_ORDER
from . import charges, hospital, inpatient, online, outpatient, settlement, stays, surgery
from . import dirty as inject_faults
from .frames import concat, conform
from .rand import rng_for

STAY_CHUNK = 40_000


def _months(first: date, last: date, step: int) -> Iterator[tuple[date, date, str]]:
    """(first day, last day, key) of each block of `step` calendar months in first..last."""
    cur = pd.Timestamp(first)
    while cur.date() <= last:
        nxt = (cur + pd.offsets.MonthBegin(step)).normalize()
        end = min((nxt - pd.Timedelta(days=1)).date(), last)
        yield cur.date(), end, cur.strftime("%y%m")
        cur = nxt


def _dimensions(h: hospital.Hospital) -> Iterator[tuple[str, pd.DataFrame]]:
    yield "dim_campus", h.campus
    yield "dim_department", h.dept
    yield "dim_team", h.team
    yield "dim_doctor", h.doctor
    yield "dim_drg", h.groups.assign(scheme="CHS-DRG 1.1")
    yield "dim_or_room", h.or_room


def _stay_facts(h: hospital.Hospital):
    """Stay-based facts, then the inpatient charges in blocks of stays."""
    s = stays.generate(h)
    split = charges.category_split(rng_for(h.seed, "cost-split"), s.total_cost.to_numpy(),
                                   s.cost_type.to_numpy())
    for i, cat in enumerate(charges.STAY_CATEGORIES):
        s[f"cat_{cat}"] = split[:, i]
    v = inpatient.visible(h, s).reset_index(drop=True)
    ip = inpatient.fact_inpatient(h, v)
    yield "fact_inpatient", ip
    yield "fact_ward_census", inpatient.census(h, s)
    yield "fact_surgery", surgery.fact_surgery(h, v, ip)
    yield "fact_drg_settlement", settlement.fact_drg_settlement(h, v)
    yield "fact_admission_booking", settlement.fact_admission_booking(h, s, v)
    campus_of = h.dept.set_index("dept_id").campus_id
    today = np.datetime64(h.as_of.date())
    for k, lo in enumerate(range(0, len(v), STAY_CHUNK)):
        block = v.iloc[lo:lo + STAY_CHUNK]
        yield "fact_charge", charges.inpatient_charges(rng_for(h.seed, "ip-charges", k), block,
                                                       today, campus_of, id_offset=lo * 100)


def _monthly_facts(h: hospital.Hospital):
    today = np.datetime64(h.as_of.date())
    alliance = h.campus.campus_id[h.campus.campus_type == "alliance"].tolist()
    for first, last, key in _months(h.start, h.end, h.scale.chunk_months):
        sessions, visits = outpatient.generate(h, first, last, key)
        yield "fact_clinic_session", sessions
        yield "fact_visit", visits
        yield "fact_charge", charges.outpatient_charges(rng_for(h.seed, "op-charges", key),
                                                        visits, today, "CO" + key, "V" + key,
                                                        alliance)
        yield "fact_online_consult", online.generate(h, first, last, key)


def generate_chunks(scale: str, seed: int = 42, as_of: datetime | None = None,
                    dirty: bool = False,
                    faults: dict | None = None) -> Iterator[tuple[str, pd.DataFrame]]:
    """Yield (table, conformed chunk) for every table; see the module docstring.

    With `dirty`, faults are injected per chunk and counted into `faults`
    ({table: {fault: rows}}) when a dict is passed.

    >>> chunks = generate_chunks("tiny", seed=7, as_of=datetime(2026, 3, 10, 9, 30))
    >>> next(chunks)[0]
    'dim_campus'
    """
    as_of = _local_naive(as_of)
    h = hospital.build(scale, seed, as_of)
    for n, (table, df) in enumerate(_all(h)):
        out = conform(table, df)
        if dirty and table.startswith("fact_"):
            out, counts = inject_faults.inject(rng_for(seed, "dirty", table, n), table, out, h.start)
            if faults is not None:
                for k, c in counts.items():
                    faults.setdefault(table, {}).setdefault(k, 0)
                    faults[table][k] += c
        yield table, out


def _local_naive(as_of: datetime | None) -> datetime:
    """as_of as a naive timestamp in the hospital's time zone (the contract's convention)."""
    if as_of is None:
        return settings.hospital_now()
    if as_of.tzinfo is not None:
        as_of = as_of.astimezone(settings.hospital_tz()).replace(tzinfo=None)
    return as_of.replace(microsecond=0)


def _all(h):
    yield from _dimensions(h)
    yield from _stay_facts(h)
    yield from _monthly_facts(h)


def generate(scale: str, seed: int = 42, as_of: datetime | None = None,
             dirty: bool = False) -> dict[str, pd.DataFrame]:
    """All 15 contract tables of the demo hospital, as pandas DataFrames in LOAD_ORDER.

    Deterministic for (scale, seed, as_of); as_of defaults to now in the hospital's time zone.
    With dirty=True, `tables[name].attrs["demo_faults"]` counts the injected faults.

    >>> t = generate("tiny", as_of=datetime(2026, 3, 10, 9, 30))
    >>> list(t) == list(LOAD_ORDER)
    True
    """
    parts: dict[str, list[pd.DataFrame]] = defaultdict(list)
    faults: dict = {}
    for table, chunk in generate_chunks(scale, seed, as_of, dirty, faults):
        parts[table].append(chunk)
    out = {t: concat(parts[t]) for t in LOAD_ORDER}
    for t, df in out.items():
        df.attrs["demo_faults"] = dict(faults.get(t, {}))
    return out
