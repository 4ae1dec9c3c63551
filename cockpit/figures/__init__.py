"""Pure figure functions shared by the cockpit pages and the wallboard (STYLE habit 8).

Input: DataFrames from `metrics.query`, metric metadata, ``lang`` ("zh" | "en") and ``theme``
("light" | "dark"). Output: a `plotly.graph_objects.Figure` (or a Dash component tree for KPI
cards). No I/O, no querying, no plotly.express (≈190 ms per figure against ≈13 ms here).

Values on screen are pre-formatted by `cockpit.formatting` (万/亿, %, ¥) into ``text`` /
``hovertext`` and tick labels; clickable marks carry their dimension id in ``customdata``.

>>> import pandas as pd
>>> f = pd.DataFrame({"department": ["D1", "D2"], "discharges": [5, 9]})
>>> bar_ranking(f, "department", "discharges").data[0].customdata.tolist()
['D2', 'D1']
"""
from ._common import empty_figure, nice_ticks, value_axis
from .bars import bar_ranking, breakdown_bar, donut, stacked_bar
from .dist import distribution_histogram, heatmap
from .drg import cost_structure, pareto, quadrant, waterfall
from .kpi import kpi_card
from .theme import (FONT_FAMILY, PALETTES, ZH_CN_LOCALE, graph_config, palette, theme_layout,
                    tone_color)
from .trend import hourly_today_vs_baseline, trend_figure

__all__ = [
    "FONT_FAMILY", "PALETTES", "ZH_CN_LOCALE", "bar_ranking", "breakdown_bar", "cost_structure",
    "distribution_histogram", "donut", "empty_figure", "graph_config", "heatmap",
    "hourly_today_vs_baseline", "kpi_card", "nice_ticks", "palette", "pareto", "quadrant",
    "stacked_bar", "theme_layout", "tone_color", "trend_figure", "value_axis", "waterfall",
]
