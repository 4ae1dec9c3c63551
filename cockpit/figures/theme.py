"""Colours, fonts, layout and `dcc.Graph` config shared by every figure (light: the laptop
cockpit; dark: the wallboard and the cockpit's dark mode, high contrast).

System fonts only (air-gapped: no web fonts).

>>> theme_layout("dark")["paper_bgcolor"] != theme_layout("light")["paper_bgcolor"]
True
"""
from __future__ import annotations

from copy import deepcopy

FONT_FAMILY = ('"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", '
               '"WenQuanYi Micro Hei", sans-serif')

PALETTES: dict[str, dict] = {
    "light": {
        "paper": "#ffffff", "plot": "#ffffff", "text": "#1f2329", "muted": "#8a919f",
        "grid": "#eceef2", "axis": "#c9cdd4", "card": "#ffffff", "card_border": "#e5e6eb",
        "good": "#00a870", "bad": "#e34d59", "neutral": "#8a919f", "warn": "#ed7b2f",
        "primary": "#1664ff", "highlight": "#ff7d00", "compare": "#8a919f",
        "band": "rgba(0,168,112,0.10)", "hover_bg": "#ffffff", "stale": "#e34d59",
        "series": ["#1664ff", "#14c9c9", "#ff7d00", "#722ed1", "#f5319d", "#00a870",
                   "#fadc19", "#3491fa", "#a9aeb8", "#9fdb1d"],
        "sequential": [[0, "#e8f3ff"], [0.5, "#6aa1ff"], [1, "#0e42d2"]],
    },
    "dark": {
        "paper": "#0b1426", "plot": "#0b1426", "text": "#f2f5fa", "muted": "#9aa7bd",
        "grid": "#1f2d47", "axis": "#3a4a66", "card": "#111d35", "card_border": "#24365a",
        "good": "#2ee59d", "bad": "#ff5a5f", "neutral": "#9aa7bd", "warn": "#ffb547",
        "primary": "#3ea6ff", "highlight": "#ffb547", "compare": "#9aa7bd",
        "band": "rgba(46,229,157,0.14)", "hover_bg": "#17233d", "stale": "#ff5a5f",
        "series": ["#3ea6ff", "#2ee5d3", "#ffb547", "#b18cff", "#ff7ac6", "#2ee59d",
                   "#ffe45c", "#7cc4ff", "#c3cad6", "#c6f26b"],
        "sequential": [[0, "#10223f"], [0.5, "#1f6fd1"], [1, "#7fe0ff"]],
    },
}


def palette(theme: str = "light") -> dict:
    """The colour set of ``theme`` (unknown names fall back to light)."""
    return PALETTES.get(theme, PALETTES["light"])


def tone_color(tone: str, theme: str = "light") -> str:
    """Colour of a semantic tone (good / bad / neutral / warn)."""
    p = palette(theme)
    return p.get(tone, p["neutral"])


def theme_layout(theme: str = "light", scale: float = 1.0) -> dict:
    """Layout for ``fig.update_layout(**theme_layout(theme))``; ``scale`` multiplies the font
    sizes (the wallboard at 1920×1080 uses ~1.5).

    >>> theme_layout("light")["font"]["family"].startswith('"Noto Sans CJK SC"')
    True
    """
    p = palette(theme)
    base = 12 if theme != "dark" else 13
    size = round(base * scale)
    axis = {"gridcolor": p["grid"], "linecolor": p["axis"], "zerolinecolor": p["axis"],
            "tickfont": {"color": p["muted"], "size": size}, "automargin": True,
            "title": {"font": {"color": p["muted"], "size": size}}}
    return {
        "font": {"family": FONT_FAMILY, "color": p["text"], "size": size},
        "paper_bgcolor": p["paper"], "plot_bgcolor": p["plot"],
        "colorway": list(p["series"]),
        "margin": {"l": 8, "r": 24, "t": 36, "b": 8},
        "hoverlabel": {"bgcolor": p["hover_bg"], "bordercolor": p["axis"],
                       "font": {"family": FONT_FAMILY, "color": p["text"], "size": size}},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left",
                   "x": 0, "font": {"color": p["text"], "size": size},
                   "bgcolor": "rgba(0,0,0,0)"},
        "title": {"font": {"size": round(size * 1.15), "color": p["text"]}, "x": 0,
                  "xanchor": "left"},
        "xaxis": deepcopy(axis), "yaxis": deepcopy(axis),
        "hovermode": "closest",
        "separators": ".,",
    }


# The modebar strings of plotly.js's zh-CN locale, given inline through `config.locales`
# because the installed plotly / dash ship only the `en` and `en-US` locales and the air-gapped
# browser cannot fetch `plotly-locale-zh-cn.js` from a CDN.
ZH_CN_LOCALE = {
    "dictionary": {
        "Autoscale": "自动缩放", "Box Select": "矩形框选", "Lasso Select": "套索选择",
        "Compare data on hover": "悬停时比较数据",
        "Show closest data on hover": "悬停时显示最近的数据",
        "Toggle show closest data on hover": "切换悬停时显示最近的数据点",
        "Toggle Spike Lines": "切换显示数据点辅助线",
        "Double-click on legend to isolate one trace": "双击图例来突显对应轨迹",
        "Double-click to zoom back out": "双击返回缩小显示",
        "Download plot as a png": "下载图表为PNG格式", "Download plot": "下载图表",
        "Download plot as a PNG": "下载图表为PNG格式",  # plotly.js ≥ 3 spells it this way
        "Pan": "平移", "Reset": "重置", "Reset axes": "重置轴", "Reset view": "重置视图",
        "Reset views": "重置视图", "Zoom": "缩放", "Zoom in": "放大", "Zoom out": "缩小",
        "Snapshot succeeded": "生成快照成功",
        "Sorry, there was a problem downloading your snapshot!": "抱歉，下载快照出现问题！",
        "Taking snapshot - this may take a few seconds": "正在生成快照 - 可能需要几秒钟",
        "Produced with Plotly.js": "由Plotly.js生成",
    },
    "format": {
        "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
        "shortDays": ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
        "months": ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月",
                   "十月", "十一月", "十二月"],
        "shortMonths": ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月",
                        "10月", "11月", "12月"],
        "date": "%Y-%m-%d",
        "decimal": ".", "thousands": ",",
    },
}


def graph_config(lang: str = "zh", filename: str = "chart", *, static: bool = False) -> dict:
    """The ``config`` of every ``dcc.Graph``: no Plotly logo, no cloud link, PNG export, and
    for Chinese the zh-CN locale passed inline (works offline, nothing loaded from a CDN).
    ``static=True`` (wallboard) hides the modebar.

    >>> cfg = graph_config("zh"); cfg["displaylogo"], cfg["locale"]
    (False, 'zh-CN')
    """
    cfg = {
        "displaylogo": False,
        "showSendToCloud": False,
        "showTips": False,
        "responsive": True,
        "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d", "toggleSpikelines"],
        "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2},
    }
    if static:
        cfg["displayModeBar"] = False
    if not (lang or "zh").lower().startswith("en"):
        cfg["locale"] = "zh-CN"
        cfg["locales"] = {"zh-CN": deepcopy(ZH_CN_LOCALE)}
    return cfg
