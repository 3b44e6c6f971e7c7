"""The HTML drift report: self-contained, escaped, sorted by severity, and free of raw rows."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from noria.datasets.drift import detect_drift
from noria.datasets.profiles import profile_table
from noria.datasets.report_html import render_drift_html

SENTINEL = "SENTINEL-4f1c9a"


def _render(reference: pd.DataFrame, current: pd.DataFrame, title: str = "Drift") -> str:
    report = detect_drift(current, reference)
    return render_drift_html(
        report, reference=profile_table(reference), current=profile_table(current), title=title
    )


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(1)
    rows = 400
    reference = pd.DataFrame(
        {
            "stable": rng.normal(size=rows),
            "moved": rng.normal(size=rows),
            "city": rng.choice(["paris", "lima"], rows),
            "customer": [f"customer-{i}" for i in range(rows)],
        }
    )
    current = reference.copy()
    current["moved"] = current["moved"] + 3
    # A value seen once, in a category column and in an id column: a row, not a statistic.
    current.loc[7, "city"] = SENTINEL
    current.loc[8, "customer"] = SENTINEL
    return reference, current


def test_report_is_self_contained_and_embeds_no_row() -> None:
    reference, current = _frames()
    html = _render(reference, current)
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "<script" not in html and "<link" not in html and "src=" not in html
    assert "@import" not in html and "url(" not in html
    assert SENTINEL not in html
    assert "customer-1" not in html  # rare labels are pooled into "other"
    assert ">paris<" in html  # frequent categories keep their label
    assert html.count("<svg") == 4


def test_columns_are_sorted_by_severity() -> None:
    reference, current = _frames()
    html = _render(reference, current)
    names = re.findall(r"<tr><td><b>([^<]+)</b>", html)
    assert names[0] == "moved"
    assert set(names) == {"moved", "stable", "city", "customer"}
    assert html.index('class="bad">drifted') < html.index('class="good">stable')


def test_user_strings_are_escaped() -> None:
    hostile = "<img src=x onerror=alert(1)>"
    reference = pd.DataFrame({hostile: ["<b>x</b>"] * 10 + ["y"] * 10})
    current = pd.DataFrame({hostile: ["<b>x</b>"] * 12 + ["y"] * 8})
    html = _render(reference, current, title="<title>&co")
    assert hostile not in html and "<b>x</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;title&gt;&amp;co" in html


def test_untested_columns_are_listed_with_their_reason() -> None:
    reference = pd.DataFrame({"a": [1.0, 2.0, 3.0], "gone": [1.0, 2.0, 3.0]})
    current = pd.DataFrame({"a": [1.0, 2.0, 3.5]})
    html = _render(reference, current)
    assert "missing in current" in html
    assert "column &#x27;gone&#x27; is missing from the current data" in html


def test_numeric_extremes_are_not_printed() -> None:
    rng = np.random.default_rng(2)
    reference = pd.DataFrame({"amount": rng.normal(100, 10, 500)})
    current = pd.DataFrame({"amount": rng.normal(100, 10, 500)})
    current.loc[3, "amount"] = 987654.321  # one row's value, e.g. one customer's balance
    html = _render(reference, current)
    assert "987654" not in html and "9.877e+05" not in html
    assert "reference p01" in html
