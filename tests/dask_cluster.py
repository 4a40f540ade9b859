"""A Dask cluster on loopback for the tests and the benchmarks: a scheduler and workers started
with `dask scheduler` / `dask worker`, each in a process group of its own, all killed by
:meth:`Cluster.close`."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from distributed import Client

ROOT = Path(__file__).resolve().parent.parent


class Cluster:
    """A scheduler and workers, each in a process group of its own, all killed by :meth:`close`."""

    def __init__(self, folder):
        self.folder, self.processes, self.workers, self.address = folder, [], [], None
        folder.mkdir(parents=True, exist_ok=True)

    def start(self, workers=2, preload=None, worker_env=None):
        folder = self.folder
        scheduler_file = folder / "scheduler.json"
        self._start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                    "--scheduler-file", str(scheduler_file))
        deadline = time.monotonic() + 120
        while not scheduler_file.exists():
            assert time.monotonic() < deadline, (folder / "scheduler.log").read_text()
            time.sleep(0.2)
        for index in range(workers):
            extra = ["--preload", str(preload)] if preload else []
            self.workers.append(self._start(
                "worker", "--scheduler-file", str(scheduler_file), "--nworkers", "1", "--nthreads", "1",
                "--host", "127.0.0.1", "--no-dashboard", "--local-directory", str(folder / f"w{index}"),
                *extra, log=f"worker{index}.log", env=worker_env))
        time.sleep(0.5)  # the file is written before it is complete
        self.address = json.loads(scheduler_file.read_text())["address"]
        with Client(self.address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=180)

    def _start(self, command, *args, log=None, env=None):
        stream = open(self.folder / (log or f"{command}.log"), "wb")
        process = subprocess.Popen([sys.executable, "-m", "dask", command, *args], stdout=stream,
                                   stderr=subprocess.STDOUT, start_new_session=True, cwd=self.folder,
                                   env=env or dict(os.environ, PYTHONPATH=str(ROOT)))
        stream.close()
        self.processes.append(process)
        return process

    def kill(self, process):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()

    def close(self):
        for process in reversed(self.processes):
            self.kill(process)
