"""The lessons' figures, judged by code where code can judge them (the checks of
tests/test_lesson_figures.py): every axes says what it shows (axis labels where an axis has tick
labels, a title on a picture), no text runs into another text, a text put in a box stays inside
it, and every bar chart starts at zero.

tests/test_notebooks_run.py executes every lesson notebook anyway; :func:`watch` makes that run
check each figure as the notebook shows it (in the kernel, before the inline backend closes it),
so that the lessons' code runs once, in both languages, for both purposes.
"""

from __future__ import annotations

import json
from itertools import combinations

import matplotlib
import matplotlib.text

OVERLAP = 2.0  # pixels: two texts whose boxes share more than this in both directions collide
REPORT = "lesson figure problems: "
_found: list = []


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



def problems(figure) -> list[str]:
    draw(figure)
    return [f"{check}: {problem}" for check, find in CHECKS.items() for problem in find(figure)]


def watch() -> None:
    """In a notebook's kernel: every ``plt.show()`` first checks the figures it is about to show."""
    import matplotlib.pyplot as plt

    original = plt.show

    def show(*args, **kwargs):
        for number in plt.get_fignums():
            figure = plt.figure(number)
            title = figure._suptitle.get_text() if figure._suptitle else next(
                (ax.get_title() for ax in figure.axes if ax.get_title()), "")
            _found.extend(f"figure {title[:50]!r}: {problem}" for problem in problems(figure))
        return original(*args, **kwargs)

    plt.show = show


def report() -> None:
    """Prints what :func:`watch` found, on one line the test reads back."""
    print(REPORT + json.dumps(_found, ensure_ascii=False))
