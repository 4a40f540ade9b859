"""The checks that tests/test_notebooks_run.py applies to every figure of every lesson
notebook (tests/lesson_figures.py) find what they look for, and pass a sound figure."""

from __future__ import annotations

import matplotlib

from tests.lesson_figures import CHECKS, bars_not_from_zero, collisions, draw, spilling, unlabelled


def test_the_checks_find_what_they_look_for():
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

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

    hidden, ax = plt.subplots()
    ax.imshow([[0, 1], [1, 0]])
    ax.axis("off")               # a picture: its tick labels are not drawn, a title is what it needs
    draw(hidden)
    assert unlabelled(hidden) == ["axes 0: a picture without a title"]
    ax.set_title("a picture")
    draw(hidden)
    assert not any(check(hidden) for check in CHECKS.values())
    plt.close("all")
