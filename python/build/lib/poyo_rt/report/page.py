"""A self-contained HTML page (inline CSS and SVG, nothing fetched) from sections and tables."""

from __future__ import annotations

from html import escape
from typing import Sequence

STYLE = """
body { font-family: sans-serif; margin: 24px auto; max-width: 1040px; color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
p.meta { color: #555; margin-top: 0; font-size: 13px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 10px; text-align: right; } th { background: #f3f3f3; }
td:first-child, th:first-child, table.list td { text-align: left; }
p.note { font-size: 13px; color: #444; max-width: 980px; }
svg { display: block; margin: 6px 0 14px; }
"""


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """An HTML table; cells are escaped (floats as given: format them first). Without headers
    it is a two-column list of (what, value), left-aligned."""
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    if not headers:
        return f'<table class="list"><tbody>{body}</tbody></table>'
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def section(title: str, *parts: str) -> str:
    """A heading and its parts (HTML strings: tables, SVGs, ``note(...)``)."""
    return f"<h2>{escape(title)}</h2>" + "".join(parts)


def note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def page(title: str, subtitle: str, sections: Sequence[str]) -> str:
    """The whole document."""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1><p class=\"meta\">{escape(subtitle)}</p>"
            + "".join(sections) + "</body></html>\n")
