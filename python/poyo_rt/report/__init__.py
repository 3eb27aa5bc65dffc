"""Reports: inline-SVG plots (``svg``), self-contained HTML pages (``page``), and the replay
report (``replay_report``)."""

from . import page, svg

__all__ = ["page", "svg"]
