"""Seeded randomness and small vectorised helpers shared by the generator modules.

Every table (and every chunk of a big table) gets its own generator derived from the seed and
a name, so generating one table or one month never shifts the random stream of another.

>>> a = rng_for(42, "visits", 3).integers(0, 1000, 3)
>>> b = rng_for(42, "visits", 3).integers(0, 1000, 3)
>>> bool((a == b).all())
True
"""
from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def rng_for(seed: int, *keys: object) -> np.random.Generator:
    """A generator for (seed, keys...): stable across runs and independent between keys."""
    words = [zlib.crc32(str(k).encode()) for k in keys]
    return np.random.default_rng(np.random.SeedSequence([seed, *words]))


def pick(rng: np.random.Generator, options, probs, n: int) -> np.ndarray:
    """n draws from `options` with probabilities `probs` (normalised here)."""
    p = np.asarray(probs, dtype=float)
    return np.asarray(options)[rng.choice(len(p), size=n, p=p / p.sum())]


def pick_dict(rng: np.random.Generator, mix: dict, n: int) -> np.ndarray:
    """n draws from a {value: probability} mix."""
    return pick(rng, list(mix), list(mix.values()), n)


def pick_cat(rng: np.random.Generator, mix: dict, n: int) -> pd.Categorical:
    """Like pick_dict, as a Categorical (no per-row strings: fast for millions of rows)."""
    p = np.asarray(list(mix.values()), dtype=float)
    codes = rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int16)
    return pd.Categorical.from_codes(codes, list(mix))


def times_in_day(rng: np.random.Generator, days: np.ndarray, hour_profile) -> np.ndarray:
    """Timestamps (datetime64[s]) on `days` with the hour drawn from a 24-value profile."""
    hours = pick(rng, np.arange(24), hour_profile, len(days))
    secs = hours * 3600 + rng.integers(0, 3600, len(days))
    return days.astype("datetime64[D]").astype("datetime64[s]") + secs.astype("timedelta64[s]")


def lognormal_mean(rng: np.random.Generator, mean, cv, z=None) -> np.ndarray:
    """Log-normal draws with the given mean and coefficient of variation (optionally from z)."""
    sigma = np.sqrt(np.log1p(np.asarray(cv, float) ** 2))
    mu = np.log(np.asarray(mean, float)) - sigma ** 2 / 2
    if z is None:
        z = rng.standard_normal(np.broadcast(mu, sigma).shape if np.ndim(mu) else 1)
    return np.exp(mu + sigma * z)


def ids(prefix: str, numbers: np.ndarray, width: int) -> pd.Series:
    """String ids like V000123 from integers, built in Arrow (fast for millions of rows)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()),
                          width, "0")
    joined = pc.binary_join_element_wise(pa.scalar(prefix, pa.string()), digits, "")
    return pd.Series(pd.array(joined, dtype="str"))


def split_cents(rng: np.random.Generator, totals: np.ndarray, counts: np.ndarray,
                weights: np.ndarray | None = None) -> np.ndarray:
    """Split each total (yuan) into `counts` parts that sum to it exactly in cents.

    Parts follow `weights` (one per part, flattened) or random weights; the rounding residue
    goes to each group's last part.
    """
    n = int(counts.sum())
    grp = np.repeat(np.arange(len(counts)), counts)
    w = rng.exponential(1.0, n) + 0.2 if weights is None else np.asarray(weights, float)
    wsum = np.bincount(grp, weights=w, minlength=len(counts))
    cents_total = np.round(np.asarray(totals) * 100).astype(np.int64)
    part = np.floor(w / np.where(wsum[grp] > 0, wsum[grp], 1) * cents_total[grp]).astype(np.int64)
    residue = cents_total - np.bincount(grp, weights=part, minlength=len(counts)).astype(np.int64)
    last = np.cumsum(counts) - 1
    has = counts > 0
    part[last[has]] += residue[has]
    return part / 100.0
