"""The one marker scanner: regions found and replaced, and every malformed marker an error
that names the file and the line."""

import pytest

from grader.assign import markers
from grader.assign.markers import HIDDEN_TESTS, SOLUTION, MarkerError, Markers

SOURCE = ("import numpy as np\n"
          "### BEGIN SOLUTION\n"
          "def _helper():\n"
          "    return 1\n"
          "### END SOLUTION\n"
          "def f(x):\n"
          "    ### BEGIN SOLUTION\n"
          "    return _helper()\n"
          "    ### END SOLUTION\n")


def test_regions_are_found_with_lines_indent_and_body():
    found = markers.regions(SOURCE, "f.py")
    assert [(r.begin_line, r.end_line, r.indent) for r in found] == [(2, 5, ""), (7, 9, "    ")]
    assert found[0].body == ("def _helper():\n", "    return 1\n")
    assert found[1].body == ("    return _helper()\n",)


def test_replace_keeps_text_and_regions_it_is_not_asked_to_replace():
    out = markers.replace_regions(SOURCE, lambda r: None if r.indent else "", "f.py")
    assert out == ("import numpy as np\ndef f(x):\n    ### BEGIN SOLUTION\n    return _helper()\n"
                   "    ### END SOLUTION\n")
    assert markers.replace_regions(SOURCE, lambda r: None) == SOURCE


def test_a_line_end_is_not_added_where_the_source_had_none():
    cell = "# a hidden test\n### BEGIN HIDDEN TESTS\nassert_check('x')\n### END HIDDEN TESTS"
    assert markers.replace_regions(cell, lambda r: "", markers=HIDDEN_TESTS) == "# a hidden test"
    assert markers.replace_regions(cell + "\n", lambda r: "", markers=HIDDEN_TESTS) == "# a hidden test\n"


def test_markers_are_configurable():
    custom = Markers("# <solution>", "# </solution>")
    text = "a\n# <solution>\nb\n# </solution>\nc\n"
    assert markers.replace_regions(text, lambda r: "X\n", markers=custom) == "a\nX\nc\n"
    assert markers.regions(text) == [], "the default markers are nbgrader's"
    assert markers.regions("### BEGIN SOLUTION\n", markers=custom) == [], "another kind of marker is text"


@pytest.mark.parametrize("text, line, words", [
    ("x = 1\n### BEGIN SOLUTION\ny = 2\n", 2, "never closed"),
    ("### BEGIN SOLUTION\na\n    ### BEGIN SOLUTION\nb\n### END SOLUTION\n", 3, "do not nest"),
    ("x = 1\ny = 2\n    ### END SOLUTION\n", 3, "without"),
    ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n### END SOLUTION\n", 4, "without"),
    ("x = 1  ### BEGIN SOLUTION\n", 1, "stand alone"),
    ("### BEGIN SOLUTION\nreturn 1 ### END SOLUTION\n", 2, "stand alone"),
])
def test_malformed_markers_are_errors_naming_file_and_line(text, line, words):
    with pytest.raises(MarkerError, match=rf"^conv\.py:{line}: .*{words}"):
        markers.regions(text, "conv.py")
    with pytest.raises(MarkerError, match=rf"^conv\.py:{line}: "):
        markers.replace_regions(text, lambda r: "", "conv.py")


def test_hidden_test_markers_are_checked_as_strictly():
    with pytest.raises(MarkerError, match=r"^cell:2: .*never closed"):
        markers.regions("# test\n### BEGIN HIDDEN TESTS\nassert_check('x')\n", "cell", HIDDEN_TESTS)


def test_every_user_of_markers_is_strict():
    """Each place that reads markers refuses an unclosed region, naming the file."""
    from grader.assign import leaks, nbgrader_course, notebooks, stubs

    unclosed = "def f():\n    ### BEGIN SOLUTION\n    return 1\n"
    for call in (lambda: stubs.strip_solutions(unclosed, "s.py"),
                 lambda: leaks.solution_lines(unclosed, "s.py"),
                 lambda: nbgrader_course.drop_module_level_solutions(unclosed, "s.py"),
                 lambda: notebooks.without_hidden_tests("### BEGIN HIDDEN TESTS\nx\n", "s.py")):
        with pytest.raises(MarkerError, match=r"^s\.py:\d+: "):
            call()


def test_even_blank_lines():
    assert markers.even_blank_lines("a\n\n\n\n\nb\n") == "a\n\n\nb\n"
    assert markers.even_blank_lines("a\n\nb\n") == "a\n\nb\n"
    assert SOLUTION.begin == "### BEGIN SOLUTION"
