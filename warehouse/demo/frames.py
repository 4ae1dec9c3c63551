"""Give a generated frame the contract's columns, order and dtypes.

The contract (`warehouse.contract.TABLES`) is the only place column names, types and enums are
spelled; generator modules build frames with those names and `conform` checks and casts them:
str/enum → pandas string, int → int64, float/money → float64 (money rounded to cents),
bool → bool (nullable → boolean), timestamp → datetime64[us], date → Arrow date32.

>>> import pandas as pd
>>> conform("dim_or_room", pd.DataFrame({"or_room": ["R1"], "campus_id": ["C01"],
...     "open_minutes_weekday": [720], "open_minutes_weekend": [480]})).dtypes["or_room"]
<StringDtype(na_value=nan)>
"""
from __future__ import annotations

import pandas as pd
import pyarrow as pa

from ..contract import TABLES, Column

DATE = pd.ArrowDtype(pa.date32())


def dtype_for(col: Column):
    """The pandas dtype the demo uses for a contract column."""
    return {"str": "str", "enum": "str", "int": "int64", "float": "float64", "money": "float64",
            "bool": "boolean" if col.nullable else "bool", "timestamp": "datetime64[us]",
            "date": DATE}[col.type]


def _cast(s: pd.Series, col: Column) -> pd.Series:
    if col.type == "date":
        if isinstance(s.dtype, pd.ArrowDtype):
            return s
        return pd.Series(pa.array(pd.to_datetime(s).dt.date, type=pa.date32()), dtype=DATE,
                         index=s.index)
    if col.type == "timestamp":
        return pd.to_datetime(s).astype("datetime64[us]")
    if col.type == "money":
        return s.astype("float64").round(2)
    if col.type in ("str", "enum"):
        return s.astype("str").where(s.notna())
    return s.astype(dtype_for(col))


def conform(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Select the contract's columns of `table` from `df` in order, with the contract's dtypes."""
    t = TABLES[table]
    missing = [c for c in t.column_names if c not in df.columns]
    if missing:
        raise ValueError(f"{table}: generator produced no column(s) {missing}")
    out = pd.DataFrame({c.name: _cast(df[c.name].reset_index(drop=True), c) for c in t.columns})
    return out


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate conformed chunks keeping dtypes (date32 survives pd.concat)."""
    frames = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def partition_dates(table: str, df: pd.DataFrame) -> pd.Series:
    """The manifest date of each row: the first non-null of the table's partition_by columns."""
    t = TABLES[table]
    out = pd.Series(pd.NaT, index=df.index, dtype="datetime64[us]")
    for c in t.partition_by:
        col = df[c]
        if isinstance(col.dtype, pd.ArrowDtype):
            col = pd.to_datetime(col.astype("datetime64[us]"))
        out = out.fillna(pd.to_datetime(col).dt.floor("D"))
    return out.dt.normalize()


def nulls_ok(table: str, df: pd.DataFrame) -> list[str]:
    """Required columns holding nulls (for tests and the dirty-mode report)."""
    return [c.name for c in TABLES[table].columns if not c.nullable and df[c.name].isna().any()]


