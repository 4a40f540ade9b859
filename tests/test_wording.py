"""No verdict hangs on a message's wording: reword or translate a sentence and the verdicts stay."""

import pytest

from grader import i18n, runner
from grader import rubric as rubric_module
from grader.checks.harness import base
from grader.results import CheckResult
from grader.worker import protocol
from grader.worker.client import (StudentException, StudentImportError, StudentViolation, Worker,
                                  WorkerCrashed)
from grader.worker.protocol import ErrorKind

ENTRY = next(e for e in rubric_module.load().entries if e.id == "conv.conv2d_forward")
IMPORT_CONV = {"op": "import", "module": "conv"}


@pytest.mark.parametrize("wording", [lambda m: "REWORDED " + m, lambda m: "« " + m + " »"])
def test_a_stub_s_sentence_is_kept_under_any_wording(monkeypatch, wording):
    """Beside the reference files a failing check shows no values, but a stub's own sentence stays."""
    monkeypatch.setattr(base, "_", wording)
    stub = runner._failed(ENTRY, base.as_failed(StudentException("NotImplementedError", "", "")), 0.0)
    runner._withhold(stub)
    assert stub.summary == wording("not implemented yet (the function raises NotImplementedError)")
    wrong = runner._failed(ENTRY, base.as_failed(StudentException("IndexError", "3", "trace")), 0.0)
    runner._withhold(wrong)
    assert "IndexError" not in wrong.summary and not wrong.lines


def test_a_stub_s_sentence_is_kept_when_it_was_said_in_another_language():
    with i18n.speaking("zh"):
        stub = runner._failed(ENTRY, base.as_failed(StudentException("NotImplementedError", "", "")), 0.0)
    with i18n.speaking("en"):
        runner._withhold(stub)
    assert stub.unwritten and "NotImplementedError" in stub.summary
    assert CheckResult.from_dict(stub.to_dict()).unwritten   # the fact crosses between processes


def _raised(error: dict, request: dict = IMPORT_CONV, tmp_path=None) -> Exception:
    worker = Worker(str(tmp_path or "."), files={"conv": "convolution.py"})
    with pytest.raises(Exception) as raised:
        worker._raise_for(error, request)
    return raised.value


@pytest.mark.parametrize("message", ["your code tried to import torch", "Ihr Code importierte torch", ""])
def test_a_violation_is_the_error_s_kind_and_module_whatever_its_message(message):
    error = protocol.error_answer(ErrorKind.VIOLATION, "ForbiddenImport", message, module="torch")["error"]
    violation = _raised(error)
    assert isinstance(violation, StudentViolation)
    assert str(violation) == "your code tried to import torch (a violation: this file scores zero)"
    with i18n.speaking("zh"):
        assert isinstance(_raised(error), StudentViolation)


@pytest.mark.parametrize("module, message", [("torch.leak_4f2a9c", "your code tried to import torch.leak_4f2a9c"),
                                             (None, "x[0] = 0.1257302210933933")])
def test_a_violation_names_the_forbidden_package_alone(module, message):
    """A module's name or a message the student's code made up can carry a hidden check's
    inputs out (importlib.import_module("torch." + encoded_x)): a violation says the package."""
    error = protocol.error_answer(ErrorKind.VIOLATION, "ForbiddenImport", message, module=module)["error"]
    said = str(_raised(error))
    assert "leak" not in said and "0.125" not in said and "(a violation: this file scores zero)" in said


def test_a_missing_file_is_the_error_s_kind_not_its_type_name():
    missing = _raised(protocol.error_answer(ErrorKind.NO_FILE, "FileNotFoundError", "whatever")["error"])
    assert isinstance(missing, StudentImportError) and str(missing) == "convolution.py is missing from the submission"
    # the student's file exists and itself opened a missing file while importing: not "missing"
    own = _raised(protocol.error_answer(ErrorKind.IMPORT, "FileNotFoundError", "data.csv", "trace")["error"])
    assert isinstance(own, StudentImportError) and "is missing" not in str(own) and "data.csv" in str(own)


@pytest.mark.parametrize("error", [{"kind": "violation, probably"}, {"kind": None}, "violation"])
def test_an_error_of_no_known_kind_is_the_worker_s_fault(error):
    assert isinstance(_raised(error), WorkerCrashed)


@pytest.mark.slow
def test_the_student_s_output_holds_only_what_their_code_printed(tmp_path):
    (tmp_path / "talk.py").write_text("def hello():\n    print('sandbox steps skipped: none, honest')\n")
    with Worker(str(tmp_path)) as worker:
        worker.call("talk.hello")
        assert worker.output_since(0) == "sandbox steps skipped: none, honest\n"
        assert isinstance(worker.skipped, list)
    assert runner._printed("sandbox steps skipped: none, honest\n")[-1].endswith("none, honest")
