"""Exceptions that cross the grader's rooms.

A :class:`GraderFault` is a fault of the grader, never of the student: missing data, a
reference that crashed, a check with a bug. The runner records it as a grader error (not
as lost points), the run exits with :data:`EXIT_GRADER_ERROR`, and a batch grades that
student again on its next run.
"""

EXIT_OK = 0            # every check passed
EXIT_POINTS_LOST = 1   # the submission lost points
EXIT_USAGE = 2         # bad arguments or input: nothing was graded
EXIT_GRADER_ERROR = 3  # the grader itself failed on some check
EXIT_INTERRUPTED = 130  # Ctrl-C


class GraderFault(Exception):
    """The grader could not judge a check (its own fault); the message is for the staff."""


class UsageError(Exception):
    """Bad input from the person at the terminal: one line, exit 2, nothing written."""
