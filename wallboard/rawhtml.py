"""A block of the wallboard as one Dash component: the html.* tree serialised to HTML and
shown by one `dcc.Markdown(dangerously_allow_html=True)`.

Why: Dash's renderer wraps every html.* element in a component of its own and, on every
callback, re-runs a selector in each of them. A screen of rankings, tiles and cards is a
thousand or more such components: at one refresh a minute that kept a modest box's browser
busy for many seconds at a time (benchmarks/REPORT_wallboard.md). As HTML inside one
component the same screen is a few dozen components; React still patches the HTML in place.

Every text and attribute value is escaped (department and campus names come from the
hospital's dimension tables). Graphs stay Dash components (`dcc.Graph` cannot be HTML).

>>> from dash import html
>>> to_html(html.Div([html.Span("<b>", className="x", style={"paddingLeft": "2px"}), "a&b"],
...                  id="k", **{"data-value": "1.5"}))
'<div id="k" data-value="1.5"><span class="x" style="padding-left: 2px">&lt;b&gt;</span>a&amp;b</div>'
"""
from __future__ import annotations

import html as _html
import re

from dash import dcc

_ATTRS = ("id", "className", "style", "title")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _style(style: dict) -> str:
    return "; ".join(f"{_CAMEL.sub('-', k).lower()}: {v}" for k, v in style.items())


def to_html(node) -> str:
    """HTML of an html.* tree (strings and numbers as escaped text, None as nothing)."""
    if node is None:
        return ""
    if isinstance(node, (str, int, float)):
        return _html.escape(str(node), quote=False)
    if isinstance(node, (list, tuple)):
        return "".join(to_html(n) for n in node)
    if getattr(node, "_namespace", None) != "dash_html_components":
        raise TypeError(f"{type(node).__name__} cannot be shown as HTML; keep it a component")
    tag = type(node).__name__.lower()
    attrs = []
    for name in _ATTRS:
        value = getattr(node, name, None)
        if value is None or value == "":
            continue
        if not isinstance(value, (str, int, float)) and name != "style":
            raise TypeError(f"{tag} {name}={value!r}: only text ids can be shown as HTML")
        text = _style(value) if name == "style" else str(value)
        attrs.append(f'{"class" if name == "className" else name}="{_html.escape(text)}"')
    for name, value in sorted(vars(node).items()):
        if name.startswith(("data-", "aria-")) and value is not None:
            attrs.append(f'{name}="{_html.escape(str(value))}"')
    inner = to_html(getattr(node, "children", None))
    return f"<{tag}{''.join(' ' + a for a in attrs)}>{inner}</{tag}>"


def raw(node, className: str = "wb-raw") -> dcc.Markdown:
    """`node` (an html.* tree or a list of them) as one component; `.wb-raw` is
    `display: contents`, so the HTML's own elements lay out as if they were the children."""
    return dcc.Markdown(to_html(node), dangerously_allow_html=True, className=className,
                        dedent=False)


def _has_component(node) -> bool:
    """Whether the tree holds something HTML cannot show (a graph, any non-html component)."""
    if node is None or isinstance(node, (str, int, float)):
        return False
    if isinstance(node, (list, tuple)):
        return any(_has_component(n) for n in node)
    if getattr(node, "_namespace", None) != "dash_html_components":
        return True
    return _has_component(getattr(node, "children", None))


def compact(node):
    """`node` with every subtree that holds no graph (nor other non-html component) turned
    into one HTML component (`raw`); the graphs and their ancestors stay components."""
    if node is None or isinstance(node, (str, int, float)):
        return node
    if not _has_component(node):
        return raw(node)
    if isinstance(node, (list, tuple)):
        return [compact(n) for n in node]
    if getattr(node, "_namespace", None) != "dash_html_components":
        return node  # a graph
    node.children = compact(node.children)
    return node


def count(node) -> int:
    """Dash components in a tree (what the renderer wraps one by one)."""
    if node is None or isinstance(node, (str, int, float)):
        return 0
    if isinstance(node, (list, tuple)):
        return sum(count(n) for n in node)
    return 1 + count(getattr(node, "children", None))
