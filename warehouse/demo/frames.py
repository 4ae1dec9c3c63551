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
import pyarrow.compute as pc

from ..contract import TABLES, Column

DATE = pd.ArrowDtype(pa.date32())


def dtype_for(col: Column):
    """The pandas dtype the demo uses for a contract column."""
    return {"str": "str", "enum": "str", "int": "int64", "float": "float64", "money": "float64",
            "bool": "boolean" if col.nullable else "bool", "timestamp": "datetime64[us]",
            "date": DATE}[col.type]


def _strings(s: pd.Series) -> pd.Series:
    """To the pandas string dtype through Arrow: much faster than astype for millions of rows."""
    if s.dtype == "str":
        return s
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = pa.array(s.cat.categories.astype(object).to_numpy(), pa.large_string())
        arr = pa.DictionaryArray.from_arrays(pa.array(s.cat.codes.to_numpy(), mask=s.isna()
                                                      .to_numpy()), cats).cast(pa.large_string())
    else:
        values = s.to_numpy(dtype=object)
        arr = pa.array(values, type=pa.large_string(), from_pandas=True)
    return pd.Series(pd.array(arr, dtype="str"), index=s.index)


def _dates(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.ArrowDtype):
        return s
    days = pd.to_datetime(s).to_numpy().astype("datetime64[D]")
    return pd.Series(pd.array(pa.array(days, type=pa.date32()), dtype=DATE), index=s.index)


def _cast(s: pd.Series, col: Column) -> pd.Series:
    if col.type == "date":
        return _dates(s)
    if col.type == "timestamp":
        return pd.to_datetime(s).astype("datetime64[us]")
    if col.type == "money":
        return s.astype("float64").round(2)
    if col.type in ("str", "enum"):
        return _strings(s)
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


def partition_days(table: str, df: pd.DataFrame) -> pa.Array:
    """Arrow date32 of each row's partition date: the first non-null of the table's
    partition_by columns (null when all are null)."""
    days = None
    for c in TABLES[table].partition_by:
        col = df[c]
        arr = (col.array._pa_array.combine_chunks() if isinstance(col.dtype, pd.ArrowDtype)
               else pa.array(col.to_numpy().astype("datetime64[D]"), type=pa.date32()))
        arr = arr.cast(pa.date32())
        days = arr if days is None else pc.coalesce(days, arr)
    return days


def partition_dates(table: str, df: pd.DataFrame) -> pd.Series:
    """The manifest date of each row as an ISO string, "" when all its partition columns are null."""
    text = pc.fill_null(partition_days(table, df).cast(pa.string()), "")
    return pd.Series(text.to_numpy(zero_copy_only=False), index=df.index)


def nulls_ok(table: str, df: pd.DataFrame) -> list[str]:
    """Required columns holding nulls (for tests and the dirty-mode report)."""
    return [c.name for c in TABLES[table].columns if not c.nullable and df[c.name].isna().any()]


