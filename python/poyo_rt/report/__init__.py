"""Reports: inline-SVG plots (``svg``), self-contained HTML pages (``page``), the replay
report (``replay_report``) and the profile report (``profile_report``)."""

from . import page, svg

__all__ = ["page", "svg"]
