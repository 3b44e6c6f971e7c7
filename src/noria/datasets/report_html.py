"""A drift report as one self-contained HTML page: inline CSS and SVG, no script, no CDN.

Charts are drawn from the two profiles, never from rows. A category's label is shown
only when it occurs at least ``MIN_LABEL_COUNT`` times on one side; rarer values (ids,
free text, anything that could single out a row) are pooled, unnamed, into "other".
Numeric axes are labelled with percentiles rather than the minimum and maximum.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from noria.datasets.profile_sides import side_of_profile

if TYPE_CHECKING:
    from noria.datasets.drift import ColumnDrift, DriftReport
    from noria.datasets.profiles import ColumnProfile, DatasetProfile

MIN_LABEL_COUNT = 5
MAX_LABELS = 10
CHART_BINS = 20
WIDTH, HEIGHT = 360, 90
REFERENCE_COLOUR, CURRENT_COLOUR = "#4c78a8", "#f58518"

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em;margin:0 0 .3em}
.verdict{font-size:1.1em;margin:.2em 0 1.2em}
.bad{color:#b00020;font-weight:600}.good{color:#1b5e20;font-weight:600}.muted{color:#777}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.4em .6em;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
.legend span{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 1em}
svg text{font-size:9px;fill:#555}
"""


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}"


def _bars(reference: list[float], current: list[float], labels: list[str] | None) -> str:
    """Paired bars of two share vectors; labels under them when given."""
    slots = max(len(reference), 1)
    top = max([*reference, *current, 1e-12])
    plot_height = HEIGHT - (24 if labels else 4)
    slot = WIDTH / slots
    parts = [
        f'<svg width="{WIDTH}" height="{HEIGHT}" role="img" xmlns="http://www.w3.org/2000/svg">'
    ]
    for index, (ref, cur) in enumerate(zip(reference, current, strict=True)):
        for offset, (share, colour) in enumerate(((ref, REFERENCE_COLOUR), (cur, CURRENT_COLOUR))):
            height = plot_height * share / top
            x = index * slot + offset * slot / 2 + 0.5
            parts.append(
                f'<rect x="{x:.1f}" y="{plot_height - height:.1f}" width="{slot / 2 - 1:.1f}" '
                f'height="{height:.1f}" fill="{colour}"><title>{share:.1%}</title></rect>'
            )
        if labels:
            label = escape(labels[index][:12])
            parts.append(
                f'<text x="{index * slot + slot / 2:.1f}" y="{HEIGHT - 12}" '
                f'text-anchor="middle">{label}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _numeric_chart(reference: ColumnProfile, current: ColumnProfile) -> str:
    import numpy as np

    from noria.datasets.drift_tests import bin_shares

    ref, cur = side_of_profile(reference), side_of_profile(current)
    if ref.model is None or cur.model is None:
        return ""
    low = min(ref.model.knots[0], cur.model.knots[0])
    high = max(ref.model.knots[-1], cur.model.knots[-1])
    if high <= low:
        return _bars([1.0], [1.0], ["constant"])
    inner = np.linspace(low, high, CHART_BINS + 1)[1:-1]
    # Percentiles, not the minimum and maximum: an extreme value is one row's value.
    spread = reference.quantiles or {}
    axis = (
        f'<div class="muted">reference p01 {_fmt(spread.get("p01"))}, '
        f"p50 {_fmt(spread.get('p50'))}, p99 {_fmt(spread.get('p99'))}</div>"
    )
    return (
        _bars(bin_shares(ref.model, inner).tolist(), bin_shares(cur.model, inner).tolist(), None)
        + axis
    )


def _category_chart(reference: ColumnProfile, current: ColumnProfile) -> str:
    ref = dict(reference.categories.values) if reference.categories else {}
    cur = dict(current.categories.values) if current.categories else {}
    ref_total, cur_total = max(reference.count, 1), max(current.count, 1)
    common = [
        label
        for label in set(ref) | set(cur)
        if max(ref.get(label, 0), cur.get(label, 0)) >= MIN_LABEL_COUNT
    ]
    common.sort(
        key=lambda label: (-(ref.get(label, 0) / ref_total + cur.get(label, 0) / cur_total), label)
    )
    shown = common[:MAX_LABELS]
    ref_shares = [ref.get(label, 0) / ref_total for label in shown]
    cur_shares = [cur.get(label, 0) / cur_total for label in shown]
    ref_rest, cur_rest = 1 - sum(ref_shares), 1 - sum(cur_shares)
    if ref_rest > 1e-9 or cur_rest > 1e-9:
        shown, ref_shares, cur_shares = (
            [*shown, "other"],
            [*ref_shares, max(ref_rest, 0.0)],
            [*cur_shares, max(cur_rest, 0.0)],
        )
    return _bars(ref_shares, cur_shares, shown)


def _chart(name: str, reference: DatasetProfile, current: DatasetProfile) -> str:
    if name not in reference.column_names or name not in current.column_names:
        return ""
    ref, cur = reference.column(name), current.column(name)
    if ref.kind == "numeric" and cur.kind == "numeric":
        return _numeric_chart(ref, cur)
    if ref.categories is not None and cur.categories is not None:
        return _category_chart(ref, cur)
    return ""


def _row(result: ColumnDrift, reference: DatasetProfile, current: DatasetProfile) -> str:
    if result.status != "tested":
        verdict = f'<span class="muted">{escape(result.status.replace("_", " "))}</span>'
    elif result.drifted:
        verdict = '<span class="bad">drifted</span>'
    else:
        verdict = '<span class="good">stable</span>'
    note = f'<div class="muted">{escape(result.message)}</div>' if result.message else ""
    approx = ' <span class="muted">(approx.)</span>' if result.approximate else ""
    return (
        f"<tr><td><b>{escape(result.column)}</b><div class='muted'>{escape(result.kind)}</div>"
        f"{note}</td><td>{verdict}</td><td>{escape(result.test)}{approx}</td>"
        f'<td class="num">{_fmt(result.statistic)}</td><td class="num">{_fmt(result.p_value)}</td>'
        f'<td class="num">{_fmt(result.threshold)}</td>'
        f'<td class="num">{result.reference_count} / {result.current_count}</td>'
        f"<td>{_chart(result.column, reference, current)}</td></tr>"
    )


def render_drift_html(
    report: DriftReport,
    *,
    reference: DatasetProfile,
    current: DatasetProfile,
    title: str = "Noria drift report",
) -> str:
    """The whole report as one HTML document (opens offline; embeds no row)."""
    verdict_class = "bad" if report.drifted else "good"
    verdict = "Dataset drift detected" if report.drifted else "No dataset drift"
    rows = "".join(_row(result, reference, current) for result in report.by_severity())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{STYLE}</style></head>
<body><h1>{escape(title)}</h1>
<p class="verdict"><span class="{verdict_class}">{verdict}</span>:
{report.drifted_columns} of {report.tested_columns} tested columns drifted
(share {report.drift_share:.1%}, threshold {report.share_threshold:.0%});
reference {reference.row_count} rows, current {current.row_count} rows.</p>
<p class="legend">Distributions:<span style="background:{REFERENCE_COLOUR}"></span>reference
<span style="background:{CURRENT_COLOUR}"></span>current</p>
<table><thead><tr><th>column</th><th>result</th><th>test</th><th>statistic</th>
<th>p-value</th><th>threshold</th><th>values (ref / cur)</th><th>distribution</th></tr></thead>
<tbody>{rows}</tbody></table>
<p class="muted">Charts are drawn from statistics profiles; category labels seen fewer than
{MIN_LABEL_COUNT} times are pooled into "other". Made by Noria.</p>
</body></html>
"""
