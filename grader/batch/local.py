"""Grades the class on this machine: ``--jobs`` students at a time, each in its own process."""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from grader.batch.grading import GradingFailed, grade_files, stop_all


class LocalExecutor:
    def __init__(self, jobs: int):
        self.jobs = jobs
        self.pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade")
        self.futures: dict = {}

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        if kind is not None:  # Ctrl-C or a crash of the coordinator: no grading process outlives it
            for future in self.futures:
                future.cancel()
            stop_all()
        self.pool.shutdown(wait=True, cancel_futures=True)

    def run(self, jobs: dict, task: dict):
        """Yields ``(key, outcome)`` as students finish; an outcome is a result dict or a
        :class:`GradingFailed`."""
        self.futures = {self.pool.submit(grade_files, files, **task): key for key, files in jobs.items()}
        pending = set(self.futures)
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: self.futures[f]):
                try:
                    yield self.futures[future], future.result()
                except GradingFailed as failed:
                    yield self.futures[future], failed
