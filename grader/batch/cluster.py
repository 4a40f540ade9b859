"""Grades the class on an existing Dask cluster (``grader batch --scheduler tcp://HOST:PORT``).

One task per student runs :func:`grader.batch.grading.grade_files` on a worker, exactly as the
local pool does on this machine, so every node needs the same install of the kit (its hidden
checks and data included). A worker that dies mid-task costs nothing: the scheduler hands the
task to another worker. A student whose grading keeps killing its workers ends, after the
scheduler's ``allowed-failures``, with an error row instead of a hung batch.
"""

from __future__ import annotations

import hashlib
import json
import socket
import sys
import time
from concurrent.futures import CancelledError

from grader.batch.grading import GradingFailed
from grader.errors import UsageError
from grader.i18n import _

INSTALL = "pip install 'dask[distributed]'"

# The task: Python's own eval of this expression. The scheduler and the workers unpickle it
# without the kit, so a node without the kit fails the task with ModuleNotFoundError (reported
# in one line) instead of dying while it reads the task, as it does for a function of the kit.
TASK = "__import__('grader.batch.grading', fromlist=['grade_files']).grade_files(files, **task)"


class DaskExecutor:
    def __init__(self, address: str):
        try:
            import dask
            import distributed
        except ImportError:
            raise UsageError(_("--scheduler needs Dask on this machine and on every worker: {install}").format(
                install=INSTALL)) from None
        self.distributed = distributed
        self.address = address
        self.timeout = dask.utils.parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"))
        self.futures: dict = {}
        self.client = None

    def __enter__(self):
        _wait_for_scheduler(self.address, self.timeout)
        try:
            self.client = self.distributed.Client(self.address, timeout=self.timeout, set_as_default=False)
        except (OSError, ValueError) as error:
            raise UsageError(_("cannot connect to the Dask scheduler at {address}: {error}").format(
                address=self.address, error=error)) from None
        if not self.client.scheduler_info().get("workers"):
            print(_("the scheduler at {address} has no workers yet: the students wait until one joins").format(
                address=self.address), file=sys.stderr)
        return self

    def __exit__(self, kind, error, trace):
        try:
            if kind is not None and self.futures:  # Ctrl-C or a crash: stop our gradings on the workers
                self.client.cancel(list(self.futures))
                import cloudpickle

                keys = [future.key for future in self.futures]
                cloudpickle.register_pickle_by_value(sys.modules[__name__])  # as TASK, for the same reason
                try:
                    self.client.run(_stop_tasks, keys, wait=True, on_error="ignore")
                except Exception:  # a worker that is gone has nothing left to stop
                    pass
        finally:
            self.futures = {}
            self.client.close()

    def run(self, jobs: dict, task: dict):
        """Yields ``(key, outcome)`` as students finish; an outcome is a result dict or a
        :class:`GradingFailed`."""
        KilledWorker = self.distributed.KilledWorker
        self.futures = {self.client.submit(eval, TASK, {"files": files, "task": task},
                                           key=_task_key(slug, files, task), pure=False): slug
                        for slug, files in jobs.items()}
        for future in self.distributed.as_completed(list(self.futures), loop=self.client.loop):
            slug = self.futures[future]
            try:
                outcome = future.result()
            except GradingFailed as failed:
                outcome = failed
            except KilledWorker as killed:
                outcome = GradingFailed(_killed_message(killed))
            except CancelledError as error:  # the scheduler was lost, or restarted
                raise UsageError(_("the Dask scheduler at {address} dropped the grading of {student} ({error}): "
                                   "the students graded so far are saved; run the same command again for the "
                                   "rest").format(address=self.address, student=slug,
                                                  error=str(error).splitlines()[0])) from None
            except ModuleNotFoundError as error:
                raise UsageError(_("a Dask worker cannot import the grader ({error}): install the same kit, at "
                                   "the same version, on every node of the cluster").format(error=error)) from None
            del self.futures[future]
            future.release()
            yield slug, outcome


def _task_key(slug: str, files: dict, task: dict) -> str:
    """One key per student and input: two batches sharing a cluster never take each other's
    results, and the same input graded twice is the same task."""
    digest = hashlib.sha256(json.dumps(task, sort_keys=True).encode())
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name] + b"\0")
    return f"grade-{slug}-{digest.hexdigest()[:16]}"


def _killed_message(killed) -> str:
    return _("grading this student killed its Dask worker {count} times (last on {worker}; the scheduler's "
             "allowed-failures is {allowed}): not graded; look for the node running out of memory").format(
                 count=killed.allowed_failures + 1, worker=killed.last_worker.address,
                 allowed=killed.allowed_failures)


def _stop_tasks(keys, dask_worker=None) -> None:
    """Runs on each worker: stops the grading processes of our tasks (the worker's threads run on)."""
    from grader.batch.grading import stop_all

    wanted = set(keys)
    threads = {ident for ident, key in dict(dask_worker.active_threads).items() if key in wanted}
    if threads:
        stop_all(threads)


def _wait_for_scheduler(address: str, timeout: float) -> None:
    """A one-line :class:`UsageError` unless something answers at ``address`` within ``timeout``."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        host, port = parse_host_port(location) if scheme in ("tcp", "tls") else (None, None)
    except (ValueError, TypeError) as error:
        raise UsageError(_("--scheduler {address}: {error} (expected tcp://HOST:PORT)").format(
            address=address, error=error)) from None
    if host is None:
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, port), timeout=max(0.1, deadline - time.monotonic())).close()
            return
        except OSError as error:
            if time.monotonic() >= deadline:
                raise UsageError(_("cannot reach the Dask scheduler at {address} within {timeout:g} s ({error}): "
                                   "is `dask scheduler` running there?").format(
                                       address=address, timeout=timeout, error=error.strerror or error)) from None
            time.sleep(0.5)
