"""Hidden checks: graded by `grader batch`, never shipped in the student release.

One module per part, registering checks exactly as ``grader/checks/`` does; their
rubric entries say ``hidden = true``.
"""
