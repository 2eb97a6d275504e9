"""The timeline as inline SVG: one row per step, initial and delta as two sections under one axis
of dates and times (UTC). A person's step is a bar from when it began waiting to its
confirmation, in the colour of who was waited on; a machine step is a mark of at least
MIN_MARK pixels, so seconds of work stay visible in weeks of migration, labelled with its
duration, after a pale bar while it waited (for IBM's delivery, or for a retry). Failed and
interrupted runs are red crosses, revocations orange rings; every mark has a tooltip."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta
from html import escape

from offboard.report.formats import duration, when
from offboard.report.model import ReportFacts, Span
from offboard.runbook.workflow import WORKFLOWS

ACTOR_COLOURS = {"customer": "#d9822b", "customer-admin": "#c7a22e", "ch-msp": "#2b7bd9", "hcl-l2": "#7b4fc9",
                 "hcl-support": "#9c5fb5", "ibm": "#3a8f5c"}
SECTION_TITLES = {"initial": "Initial delivery", "delta": "Delta delivery (after the org is read-only)"}
WIDTH, LABEL_WIDTH, RIGHT_MARGIN = 1180, 230, 90
ROW, SECTION, AXIS = 16, 26, 40
MIN_MARK = 3  # pixels
LABEL_SPACING, GRID_SPACING = 90, 6  # pixels between labelled ticks, between grid lines, at least
MINUTE, HOUR, DAY = 60, 3600, 86400
TICK_STEPS = (1, 5, 10, 30, MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR,
              12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY)
MONDAY = datetime(1970, 1, 5, tzinfo=UTC)  # ticks of a week fall on Mondays


class Scale:
    """Times of the migration onto the chart's x pixels."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.start = start
        self.seconds = max((end - start).total_seconds(), 10.0)
        self.left, self.width = LABEL_WIDTH, WIDTH - LABEL_WIDTH - RIGHT_MARGIN

    def x(self, moment: datetime) -> float:
        return self.left + (moment - self.start).total_seconds() / self.seconds * self.width

    @property
    def right(self) -> float:
        return self.left + self.width


def tick_step(scale: Scale, spacing: float) -> int:
    """The shortest tick step that leaves `spacing` pixels between ticks."""
    return next((step for step in TICK_STEPS if step / scale.seconds * scale.width >= spacing), TICK_STEPS[-1])


def moments(scale: Scale, step: int) -> list[datetime]:
    """Every multiple of `step` (counted from a Monday midnight, UTC) within the chart."""
    first = math.ceil((scale.start - MONDAY).total_seconds() / step)
    last = math.floor((scale.start - MONDAY).total_seconds() + scale.seconds) // step
    return [MONDAY + timedelta(seconds=index * step) for index in range(first, int(last) + 1)]


def tick_label(moment: datetime, step: int, previous: datetime | None) -> str:
    """Days for a long migration ('Mon 12 Oct'), times for a short one, the date where it changes."""
    if step >= DAY:
        return f"{moment:%a %d %b}"
    clock = f"{moment:%H:%M:%S}" if step < MINUTE else f"{moment:%H:%M}"
    return clock if previous and previous.date() == moment.date() else f"{moment:%d %b} {clock}"


def axis(scale: Scale, height: float) -> list[str]:
    labelled = tick_step(scale, LABEL_SPACING)
    grid = next((step for step in TICK_STEPS if step / scale.seconds * scale.width >= GRID_SPACING and labelled % step == 0),
                labelled)
    parts = [f'<line x1="{scale.x(moment):.1f}" y1="{AXIS - 6}" x2="{scale.x(moment):.1f}" y2="{height}" class="grid"/>'
             for moment in moments(scale, grid)]
    previous = None
    for moment in moments(scale, labelled):
        x = scale.x(moment)
        parts.append(f'<line x1="{x:.1f}" y1="{AXIS - 10}" x2="{x:.1f}" y2="{height}" class="major"/>'
                     f'<text x="{x:.1f}" y="{AXIS - 14}" class="tick" text-anchor="middle">{tick_label(moment, labelled, previous)}</text>')
        previous = moment
    parts.append(f'<text x="4" y="{AXIS - 14}" class="unit">UTC, {scale.start:%Y}</text>')
    return parts


def cross(x: float, y: float, tip: str) -> str:
    return (f'<g class="failed"><title>{escape(tip)}</title><path d="M{x - 4:.1f},{y - 4} l8,8 m0,-8 l-8,8"/>'
            f'<rect x="{x - 5:.1f}" y="{y - 5}" width="10" height="10" fill="transparent"/></g>')


def step_row(span: Span, scale: Scale, y: float, last: datetime) -> list[str]:
    colour = ACTOR_COLOURS.get(span.actor, "#888")
    middle, open_ = y + ROW / 2, span.end is None
    end = span.end or last
    parts = [f'<text x="4" y="{middle + 4}" class="step">{escape(span.step)}<title>{escape(span.title)}</title></text>']
    if span.automated and not open_:
        waited_until, label = span.start or end, duration(span.seconds)
        tip = f"{span.step} ({span.actor}, machine): worked {duration(span.seconds)} from {when(span.start)} to {when(span.end)} UTC"
        if (waited_until - span.first).total_seconds() >= 1:
            tip += f", after waiting {duration((waited_until - span.first).total_seconds())} since {when(span.first)} UTC"
            parts.append(bar(scale.x(span.first), scale.x(waited_until), y, colour, "waited", tip))
        parts.append(bar(scale.x(waited_until), scale.x(end), y, colour, "work", tip))
    else:
        seconds = (end - span.first).total_seconds()
        label = duration(seconds) if not open_ else f"{span.status} for {duration(seconds)}"
        who = f"confirmed by {span.confirmed_by} at {when(span.end)} UTC" if span.confirmed_by else span.status
        tip = f"{span.step} ({span.actor}): {label} from {when(span.first)} UTC; {who}"
        parts.append(bar(scale.x(span.first), scale.x(end), y, colour, "open" if open_ else "wait", tip))
    parts.append(duration_label(scale, scale.x(span.first), scale.x(end), middle, label))
    for attempt in span.attempts:
        said = f"{span.step} {attempt.status} at {when(attempt.at)} UTC" + (f": {attempt.error}" if attempt.error else "")
        parts.append(cross(scale.x(attempt.at), middle, said))
    for moment in span.revoked:
        parts.append(f'<circle cx="{scale.x(moment):.1f}" cy="{middle}" r="4" class="revoked">'
                     f'<title>{escape(f"confirmation of {span.step} revoked at {when(moment)} UTC")}</title></circle>')
    return parts


def bar(left: float, right: float, y: float, colour: str, kind: str, tip: str) -> str:
    width = max(right - left, MIN_MARK)
    return (f'<rect x="{left:.1f}" y="{y + 3}" width="{width:.1f}" height="{ROW - 6}" fill="{colour}" class="{kind}">'
            f'<title>{escape(tip)}</title></rect>')


def duration_label(scale: Scale, left: float, right: float, middle: float, text: str) -> str:
    """Beside the mark where there is room, else inside it."""
    if right + MIN_MARK + 4 + 7 * len(text) <= scale.right + RIGHT_MARGIN:
        return f'<text x="{max(right, left + MIN_MARK) + 4:.1f}" y="{middle + 4}" class="dur">{escape(text)}</text>'
    if left - 4 - 7 * len(text) >= scale.left:
        return f'<text x="{left - 4:.1f}" y="{middle + 4}" class="dur" text-anchor="end">{escape(text)}</text>'
    return f'<text x="{right - 4:.1f}" y="{middle + 4}" class="dur inside" text-anchor="end">{escape(text)}</text>'


def timeline_svg(facts: ReportFacts) -> str:
    """The whole timeline; empty when the journal holds no step yet."""
    if not facts.steps or facts.first is None or facts.last is None:
        return ""
    scale = Scale(facts.first, facts.last)
    rows, y = [], AXIS
    for workflow in WORKFLOWS:
        steps = facts.workflow_steps(workflow)
        if not steps:
            continue
        rows.append(f'<rect x="0" y="{y}" width="{WIDTH}" height="{SECTION - 4}" class="section"/>'
                    f'<text x="4" y="{y + 16}" class="section">{escape(SECTION_TITLES.get(workflow, workflow))}</text>')
        y += SECTION
        for index, span in enumerate(steps):
            if index % 2:
                rows.append(f'<rect x="0" y="{y}" width="{WIDTH}" height="{ROW}" class="zebra"/>')
            rows += step_row(span, scale, y, facts.last)
            y += ROW
        y += 6
    if facts.records.cutover:
        cutover = datetime.combine(facts.records.cutover.value, time(), UTC)
        if scale.start <= cutover <= facts.last:
            x = scale.x(cutover)
            rows.append(f'<line x1="{x:.1f}" y1="{AXIS}" x2="{x:.1f}" y2="{y}" class="cutover"/>'
                        f'<text x="{x + 3:.1f}" y="{AXIS + 10}" class="cutover">agreed cut-over</text>')
    height = y + 4
    style = ("text{font-family:sans-serif;font-size:11px;fill:#222} .tick{font-size:11px} .unit{fill:#666}"
             " .dur{font-size:10px;fill:#555} .dur.inside{fill:#fff} .section{font-weight:bold;font-size:12px}"
             " rect.section{fill:#2b7bd9;opacity:.09} .zebra{fill:#000;opacity:.03} .grid{stroke:#eee} .major{stroke:#ccc}"
             " .waited{opacity:.3} .open{opacity:.35;stroke:#444;stroke-dasharray:3 2} .work{stroke:#111;stroke-width:.6}"
             " .failed path{stroke:#c62828;stroke-width:2.2} .revoked{fill:none;stroke:#e65100;stroke-width:2}"
             " line.cutover{stroke:#c62828;stroke-dasharray:5 3} text.cutover{fill:#c62828;font-size:10px}")
    body = "".join([*axis(scale, height), *rows])
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
            f'role="img" aria-label="timeline of the migration"><style>{style}</style>{body}</svg>')
