"""A grading's plan: what grade() works out from its arguments, before any process starts."""

import pytest

from grader import rubric as rubric_module
from grader.runner import Plan
from tests.helpers import SOLUTIONS


def test_a_plan_holds_what_the_grading_does():
    plan = Plan.make(SOLUTIONS, parts=["modules"], call_timeout=7, references=None, language="zh",
                     hide=("/class",))
    assert plan.chosen == ("modules",)
    assert plan.needed == ("conv", "pooling", "batchnorm", "layers", "modules")  # its files are checked first
    assert plan.settings.call_timeout == 7 and plan.language == "zh" and plan.references is None
    assert plan.limits.settings is plan.settings and plan.limits.hide == ("/class",)
    assert plan.worker().files == rubric_module.load().parts


def test_a_plan_refuses_an_unknown_part():
    with pytest.raises(rubric_module.UnknownPart):
        Plan.make(SOLUTIONS, parts=["convv"])
