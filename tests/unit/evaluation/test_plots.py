"""Plots are valid, self-contained SVG holding their curves."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import numpy as np

from noria.evaluation import plots
from noria.evaluation.plots import classification_plots, regression_plots
from noria.evaluation.predictions import classification_rows, regression_rows

SVG = "{http://www.w3.org/2000/svg}"


def _curves(svg: str) -> dict[str, list[tuple[float, ...]]]:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("viewBox")
    assert root.find(f"{SVG}title") is not None
    return {
        line.get("data-name", ""): [
            tuple(map(float, point.split(","))) for point in line.get("points", "").split()
        ]
        for line in root.iter(f"{SVG}polyline")
        if line.get("class") == "curve"
    }


def test_binary_plots_draw_roc_pr_and_reliability_curves() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 2000)
    score = np.clip(0.3 * truth + 0.7 * rng.random(2000), 0, 1)
    names = np.array(["no", "yes"])
    rows = classification_rows(names[truth], names[(score > 0.5).astype(int)], score, names)
    drawn = classification_plots(rows)
    assert set(drawn) == {"roc", "pr", "calibration"}
    roc = _curves(drawn["roc"])
    (name,) = [key for key in roc if key != "chance"]
    assert name.startswith("yes (AUC 0.")
    assert 2 < len(roc[name]) <= plots.MAX_POINTS
    # The ROC curve runs from the bottom-left corner to the top-right one, never falling.
    xs, ys = zip(*roc[name], strict=True)
    assert xs[0] == min(xs) and ys[0] == max(ys) and xs[-1] == max(xs) and ys[-1] == min(ys)
    assert all(later <= earlier for earlier, later in itertools.pairwise(ys))
    assert any(key.startswith("yes (AP ") for key in _curves(drawn["pr"]))
    assert any(key.startswith("model (ECE ") for key in _curves(drawn["calibration"]))


def test_multiclass_plots_draw_one_curve_per_class_and_escape_names() -> None:
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 3, 300)
    proba = rng.dirichlet(np.ones(3), 300) + np.eye(3)[truth]
    proba /= proba.sum(axis=1, keepdims=True)
    labels = np.array(["a<b", "c&d", "e"])
    rows = classification_rows(labels[truth], labels[proba.argmax(axis=1)], proba, labels)
    drawn = classification_plots(rows)
    names = {key.split(" (")[0] for key in _curves(drawn["roc"])} - {"chance"}
    assert names == set(labels)


def test_no_probabilities_means_no_classification_plots() -> None:
    assert classification_plots(classification_rows([0, 1], [0, 1], None, [0, 1])) == {}


def test_regression_residuals_are_a_sample_of_points() -> None:
    truth = np.linspace(0, 10, 2000)
    drawn = regression_plots(regression_rows(truth, truth + np.sin(truth)), random_state=0)
    root = ET.fromstring(drawn["residuals"])
    dots = [group for group in root.iter(f"{SVG}g") if group.get("class") == "points"]
    assert len(dots) == 1
    assert len(list(dots[0])) == plots.MAX_SCATTER
    assert dots[0].get("data-name") == f"{plots.MAX_SCATTER} of 2000 rows"
