"""The lessons' figures, checked by code where code can judge them: every axes says what it
shows (axis labels where an axis has tick labels, a title on a picture), no text runs into
another text, a text put in a box stays inside it, and every bar chart starts at zero.

Each part's lesson code (the English cells: the Chinese cells are the same code) runs once,
in-process, with the solutions filled in, and every figure a cell shows is drawn and checked;
one test per part, so that xdist can spread the parts over its workers.
tests/test_notebooks_run.py executes the notebooks themselves.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from itertools import combinations

import matplotlib
import pytest

from grader import rubric as rubric_module
from grader.assign import notebooks
from tests.helpers import SOLUTIONS

PARTS = list(rubric_module.load().parts)
OVERLAP = 2.0  # pixels: two texts whose boxes share more than this in both directions collide


def lesson_cells(part: str) -> list[str]:
    """The code cells of a part's source notebook that a student runs: not the file cell, the
    graded check cells or the report cell."""
    return [cell.source for cell in notebooks.source_notebook(part).cells
            if cell.cell_type == "code" and not cell.source.startswith("%%")
            and not cell.metadata.get("nbgrader", {}).get("grade") and "show_report(" not in cell.source]


def run_figures(part: str) -> list:
    """(cell number, figure) for every figure the lesson's cells show, drawn on Agg."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    shown = []

    def show(*args, **kwargs):
        figures = [plt.figure(number) for number in plt.get_fignums()]
        plt.close("all")
        for figure in figures:
            FigureCanvasAgg(figure)  # pyplot's canvas goes with close(): a canvas of its own
            draw(figure)
            shown.append((cell, figure))

    namespace = {"__name__": f"lesson_{part}"}
    original, plt.show = plt.show, show
    try:
        for cell, source in enumerate(lesson_cells(part)):
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(source, f"<{part} cell {cell}>", "exec"), namespace)
            show()  # a figure left open without plt.show() is still one the student sees
    finally:
        plt.show = original
    return shown


def lesson_figures(part: str, folder) -> list:
    """The part's figures, its lesson run in ``folder`` beside copies of the solutions."""
    matplotlib.use("Agg")
    for path in SOLUTIONS.glob("*.py"):
        shutil.copyfile(path, folder / path.name)
    before = os.getcwd()
    os.chdir(folder)
    try:
        return run_figures(part)
    finally:
        os.chdir(before)


# -- what the checks look at ---------------------------------------------------------------------
def draw(figure) -> None:
    """Draws the figure and keeps the texts matplotlib actually drew (a tick label outside the
    view or on a hidden axis exists but is not drawn) in ``figure.drawn_texts``."""
    drawn, original = [], matplotlib.text.Text.draw

    def recording(text, renderer):
        if text.get_visible() and text.get_text().strip():
            drawn.append(text)
        return original(text, renderer)

    matplotlib.text.Text.draw = recording
    try:
        figure.canvas.draw()
    finally:
        matplotlib.text.Text.draw = original
    figure.drawn_texts = drawn


def is_colorbar(ax) -> bool:
    return ax.get_label() == "<colorbar>" or hasattr(ax, "_colorbar")


def has_tick_labels(axis) -> bool:
    return axis.get_visible() and any(label.get_visible() and label.get_text().strip()
                                      for label in axis.get_ticklabels())


def unlabelled(figure) -> list[str]:
    """The axes that do not say what they show."""
    problems = []
    suptitle = figure._suptitle is not None and figure._suptitle.get_text().strip()
    for number, ax in enumerate(figure.axes):
        if is_colorbar(ax):
            continue
        if not ax.axison or not (has_tick_labels(ax.xaxis) or has_tick_labels(ax.yaxis)):
            if not (ax.get_title().strip() or suptitle):
                problems.append(f"axes {number}: a picture without a title")
            continue
        if has_tick_labels(ax.xaxis) and not ax.get_xlabel().strip():
            problems.append(f"axes {number} ({ax.get_title()!r}): no x-axis label")
        if has_tick_labels(ax.yaxis) and not ax.get_ylabel().strip():
            problems.append(f"axes {number} ({ax.get_title()!r}): no y-axis label")
    return problems


def collisions(figure) -> list[str]:
    """Pairs of texts whose drawn boxes overlap (by more than OVERLAP pixels both ways)."""
    renderer = figure.canvas.get_renderer()
    boxes = []
    for text in figure.drawn_texts:
        box = text.get_window_extent(renderer)
        if box.width > 0 and box.height > 0:
            boxes.append((text, box))
    found = []
    for (a, box_a), (b, box_b) in combinations(boxes, 2):
        width = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        height = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        if width > OVERLAP and height > OVERLAP:
            found.append(f"{a.get_text()!r} overlaps {b.get_text()!r}")
    return found


def spilling(figure) -> list[str]:
    """Texts placed inside a drawn box (a FancyBboxPatch) that run out of it."""
    from matplotlib.patches import FancyBboxPatch

    renderer = figure.canvas.get_renderer()
    found = []
    for ax in figure.axes:
        boxes = [patch for patch in ax.patches if isinstance(patch, FancyBboxPatch)]
        for text in ax.texts:
            if not text.get_text().strip():
                continue
            anchor = ax.transData.transform(text.get_position())
            for patch in boxes:
                outline = patch.get_window_extent(renderer)
                if outline.contains(*anchor):
                    inside = text.get_window_extent(renderer)
                    if not (outline.x0 <= inside.x0 and inside.x1 <= outline.x1
                            and outline.y0 <= inside.y0 and inside.y1 <= outline.y1):
                        found.append(f"{text.get_text()!r} spills out of its box")
    return found


def bars_not_from_zero(figure) -> list[str]:
    from matplotlib.container import BarContainer

    found = []
    for ax in figure.axes:
        for container in ax.containers:
            if not isinstance(container, BarContainer) or not container.patches:
                continue
            vertical = container.orientation == "vertical"
            scale = ax.get_yscale() if vertical else ax.get_xscale()
            low, high = ax.get_ylim() if vertical else ax.get_xlim()
            if scale == "linear" and min(low, high) > 0:
                found.append(f"{ax.get_title()!r}: the bars' axis starts at {min(low, high):g}, not 0")
    return found


CHECKS = {"labels": unlabelled, "overlaps": collisions, "boxes": spilling, "bars": bars_not_from_zero}


# -- the checks have teeth ------------------------------------------------------------------------
def test_the_checks_find_what_they_look_for():
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    matplotlib.use("Agg")
    bad, (chart, boxes) = plt.subplots(1, 2)
    chart.bar(["a", "b"], [0.92, 0.96])
    chart.set_ylim(0.8, 1.0)
    chart.set_title("a title")
    chart.text(0.5, 0.999, "a title", transform=chart.transAxes, ha="center", va="bottom")
    boxes.add_patch(FancyBboxPatch((0.4, 0.4), 0.2, 0.1))
    boxes.text(0.5, 0.45, "a text far too long for its box", ha="center", va="center")
    draw(bad)
    assert unlabelled(bad) and collisions(bad) and spilling(bad) and bars_not_from_zero(bad)

    good, chart = plt.subplots()
    chart.bar(["a", "b"], [0.92, 0.96])
    chart.set_xlabel("kind")
    chart.set_ylabel("accuracy")
    chart.set_title("a title")
    draw(good)
    assert not any(check(good) for check in CHECKS.values())
    plt.close("all")


# -- the lessons' figures -----------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("part", PARTS)
def test_the_lessons_figures(part, tmp_path):
    figures = lesson_figures(part, tmp_path)
    assert figures, f"{part}: the lesson shows no figure"
    problems = [f"cell {cell}, {check}: {problem}" for cell, figure in figures
                for check, find in CHECKS.items() for problem in find(figure)]
    assert not problems, f"{part}:\n" + "\n".join(problems)
