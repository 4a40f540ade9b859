"""The per-student grading process: ``python -m grader.batch.one FOLDER RESULT [...]``.

Grades a clean folder with the public and hidden checks and writes the report as JSON.
SIGTERM (the batch stopped) closes the worker before the process ends, and the process
ends when its parent does.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import sys
import threading

from grader import atomic
from grader.config import DEFAULTS

STOP_GRACE_SECONDS = 2.0  # after SIGTERM, before the process ends without cleaning up


class Stopped(KeyboardInterrupt):
    """SIGTERM (the batch stopped, or its time is up): a ``KeyboardInterrupt``, not a
    ``SystemExit``, because hypothesis takes a ``SystemExit`` inside a check for a failing
    example and shrinks it, calling the student's (perhaps hanging) function again and again,
    while it lets a ``KeyboardInterrupt`` through at once; either way the worker is stopped on
    the way out."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="grader.batch.one")
    parser.add_argument("folder")
    parser.add_argument("result")
    parser.add_argument("--part", action="append", dest="parts")
    parser.add_argument("--hide", action="append", default=[])
    parser.add_argument("--settings", default="{}")
    parser.add_argument("--lang", default=None)
    args = parser.parse_args(argv)

    def stop(signum, frame):
        # Whatever catches the exception on its way up (a check's cleanup waiting on the
        # student's call, a library's handler), the process ends within the grace period;
        # its worker dies with it.
        hard_stop = threading.Timer(STOP_GRACE_SECONDS, os._exit, args=(128 + signum,))
        hard_stop.daemon = True
        hard_stop.start()
        raise Stopped(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    from grader.worker.sandbox import die_with_parent

    die_with_parent(signal.SIGTERM)
    from grader.runner import grade

    try:
        report = grade(args.folder, parts=args.parts, include_hidden=True,
                       settings=DEFAULTS.replace(**json.loads(args.settings)), hide=tuple(args.hide),
                       language=args.lang, named_by_name=True)  # a staged copy: its folder means nothing
    except Stopped as stopped:
        return stopped.code
    artifacts = {name: base64.b64encode(blob).decode() for name, blob in report.artifacts().items()}
    atomic.write_json(args.result, {"report": report.to_dict(), "artifacts": artifacts})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
