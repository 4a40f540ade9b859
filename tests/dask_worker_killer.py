"""A ``dask worker --preload`` for the tests: the worker kills itself (SIGKILL) whenever it
starts grading the student called ``killer``.

A student cannot do this: its code runs two processes below the Dask worker, sandboxed and
unprivileged. What kills a worker in a real cluster is the node (the kernel's OOM killer, a
lost machine); this plugin stands in for that, the same way on every try.
"""

import os
import signal

from distributed import WorkerPlugin


class KillOnKiller(WorkerPlugin):
    def transition(self, key, start, finish, **kwargs):
        if finish == "executing" and str(key).startswith("grade-killer-"):
            os.kill(os.getpid(), signal.SIGKILL)


async def dask_setup(worker):
    await worker.plugin_add(KillOnKiller(), name="kill-on-killer")
