"""Report columns line up in both languages (CJK characters take two columns), and no space
sits beside full-width punctuation in an assembled message."""

from __future__ import annotations

import re

import numpy as np
import pytest

from grader import textwidth
from grader.checks.harness import metric
from grader.i18n import speaking
from grader.results import FAILED, GRADER_ERROR, PASSED, CheckResult, check_lines


def test_width_counts_cjk_as_two_columns():
    assert textwidth.width("abc") == 3
    assert textwidth.width("未通过") == 6
    assert textwidth.ljust("通过", 6) == "通过  " and textwidth.rjust("ab", 4) == "  ab"


def test_tidy_removes_spaces_beside_full_width_punctuation_only():
    assert textwidth.tidy("dx（输入的梯度） 与参考实现不符 ：见下") == "dx（输入的梯度）与参考实现不符：见下"
    assert textwidth.tidy("    （缩进保留）") == "    （缩进保留）"
    assert textwidth.tidy("out (eval, pass 1) differs") == "out (eval, pass 1) differs"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_status_marks_line_up(language):
    checks = [CheckResult(id=f"p.{status}", part="p", name="f", title="t", status=status, score=0, max_score=1)
              for status in (PASSED, FAILED, GRADER_ERROR)]
    with speaking(language):
        firsts = [check_lines(check)[0] for check in checks]
    columns = {textwidth.width(line[:line.index("/")]) for line in firsts}
    assert len(columns) == 1, firsts


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_index_expected_actual_table_lines_up_with_long_values(language):
    expected = np.array([[1.0, 2.0], [3.0, 123456.789012345678]])
    actual = np.array([[1.0, -2.5e-300], [3.0, 1.0]])
    with speaking(language), pytest.raises(metric.Mismatch) as raised:
        metric.compare("out", actual, expected)
    table = raised.value.lines
    assert len(table) >= 3
    def column_ends(line):
        return [textwidth.width(line[:cell.end()]) for cell in re.finditer(r"\S+(?: \S+)*", line)]

    assert len({tuple(column_ends(line)[1:]) for line in table}) == 1, "\n".join(table)


def test_a_check_message_has_no_space_beside_full_width_punctuation():
    check = CheckResult(id="p.c", part="p", name="f", title="t", max_score=1,
                        summary="dx（输入的梯度） 与参考实现不符", lines=["    （缩进） 保留"])
    assert check.message() == "dx（输入的梯度）与参考实现不符\n    （缩进）保留"
