"""Start N copies of a worker command, keep them running, drain them, reload them.

The supervisor knows nothing of what a worker runs.  It tells each worker two things through
its environment: its index (:data:`INDEX_VARIABLE`) and a pipe (:data:`NOTIFY_VARIABLE`, a file
descriptor) on which the worker writes :data:`READY` once it accepts connections.  Workers run
in their own session, so a terminal's Ctrl-C reaches only the supervisor, which then drains
them in order; and they get SIGTERM should the supervisor itself die.

- A worker that exits unasked is started again after a delay that doubles with each exit in a
  row of workers that lived less than :attr:`Settings.stable_after` (up to
  :attr:`Settings.backoff_max`); a worker that lived longer restarts after the first delay.
- A worker that fails before it is ready while none has ever been ready, or too many times in a
  row, makes the supervisor stop everything and exit 1: retrying cannot fix a broken start.
- SIGTERM or SIGINT: every worker gets SIGTERM and drains; those still running after
  :attr:`Settings.stop_timeout` are killed.
- SIGHUP: one worker at a time, a fresh one is started and, once it is ready, the old one
  gets :attr:`Settings.retire_signal` (it may finish its long-lived connections first; it is
  stopped with the rest should the supervisor stop); a fresh one that fails leaves the old
  ones serving.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from aro.supervisor.relay import Relay

INDEX_VARIABLE = "ARO_WORKER_ID"
NOTIFY_VARIABLE = "ARO_NOTIFY_FD"
READY = b"ready\n"
_PR_SET_PDEATHSIG = 1


@dataclass
class Settings:
    argv: list[str]
    workers: int
    environment: dict[str, str] = field(default_factory=dict)
    start_timeout: float = 30.0
    stop_timeout: float = 10.0
    max_failures: int = 5
    backoff_first: float = 0.5
    backoff_max: float = 10.0
    stable_after: float = 10.0  # a worker that lived this long did not crash at start
    retire_signal: int = signal.SIGTERM  # what a worker replaced by a reload gets
    relay: str | None = None  # path of the relay's Unix socket, when the workers want one
    on_exit: Callable[[int], None] | None = None  # called with each ended worker's pid


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the kernel send the child SIGTERM when the supervisor dies
    (Linux; elsewhere None, and workers outlive a killed supervisor).  ctypes is loaded here,
    in the supervisor, not by every worker that imports this module for :data:`READY`."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    return lambda: prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Worker:
    """One worker process and whether it has said it is ready."""

    def __init__(
        self, index: int, process: asyncio.subprocess.Process, notify: int, adopted: bool
    ) -> None:
        self.index = index
        self.process = process
        # a reload's candidate is adopted once ready; until then its exit is the reload's
        # business, not a crash to restart
        self.adopted = adopted
        self.retired = False  # asked to stop: its exit is not a failure
        self.started = asyncio.get_running_loop().time()
        self.ready: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.watcher: asyncio.Future | None = None  # the supervisor's task following it
        self._watch_ready(notify)

    def _watch_ready(self, notify: int) -> None:
        """The pipe says READY, or ends (the worker exited, or will never say it)."""
        loop = asyncio.get_running_loop()
        received = bytearray()

        def readable() -> None:
            chunk = os.read(notify, 64)
            received.extend(chunk)
            if READY in received or not chunk:
                loop.remove_reader(notify)
                os.close(notify)
                self.ready.set_result(READY in received)

        loop.add_reader(notify, readable)

    @property
    def pid(self) -> int:
        return self.process.pid

    def signal(self, signum: int) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signum)


class Supervisor:
    def __init__(self, settings: Settings, log: Callable[[str], None]) -> None:
        self.settings = settings
        self.log = log
        self.workers: dict[int, Worker] = {}  # the serving worker of each index
        self.alive: set[Worker] = set()  # every process not yet exited, reloads included
        self.exit_code = 0
        self._ever_ready = False
        self._failures = 0  # workers in a row that ended before they were ready
        self._quick_exits = 0  # workers in a row that ended before stable_after
        self._stopping = asyncio.Event()
        self._reloading: asyncio.Task | None = None
        self._preexec = _die_with_parent()

    async def run(self) -> int:
        """Serve until a signal asks to stop or the workers cannot start; the exit status."""
        self._install_signals()
        relay = None
        if self.settings.relay is not None:
            relay = Relay(self.settings.relay)
            await relay.start()
        for index in range(self.settings.workers):
            await self._start(index)
        await self._stopping.wait()
        await self._stop_all()
        if relay is not None:
            await relay.stop()
        return self.exit_code

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stop, signum.name)
        loop.add_signal_handler(signal.SIGHUP, self.reload)

    def stop(self, reason: str = "stop", exit_code: int = 0) -> None:
        if not self._stopping.is_set():
            self.log(f"{reason}: stopping {len(self.alive)} worker(s)")
            self.exit_code = exit_code
            self._stopping.set()

    async def _start(self, index: int, adopted: bool = True) -> Worker:
        read_end, write_end = os.pipe()
        environment = {
            **os.environ,
            **self.settings.environment,
            INDEX_VARIABLE: str(index),
            NOTIFY_VARIABLE: str(write_end),
        }
        try:
            process = await asyncio.create_subprocess_exec(
                *self.settings.argv,
                env=environment,
                pass_fds=(write_end,),
                start_new_session=True,
                preexec_fn=self._preexec,
            )
        finally:
            os.close(write_end)
        worker = Worker(index, process, read_end, adopted)
        if adopted:
            self.workers[index] = worker
        self.alive.add(worker)
        worker.watcher = asyncio.ensure_future(self._watch(worker))
        return worker

    async def _watch(self, worker: Worker) -> None:
        """Follow one worker to its end; replace it when it ended unasked."""
        if await worker.ready:
            self._ever_ready = True
            self._failures = 0
        exit_code = await worker.process.wait()
        self.alive.discard(worker)
        if self.settings.on_exit is not None:
            self.settings.on_exit(worker.pid)
        if worker.retired and not self._stopping.is_set():
            self.log(f"retired worker {worker.index} (pid {worker.pid}) exited")
        if worker.retired or not worker.adopted or self._stopping.is_set():
            return
        self.log(f"worker {worker.index} (pid {worker.pid}) exited with status {exit_code}")
        if not worker.ready.result():
            self._failures += 1
        if not self._ever_ready or self._failures >= self.settings.max_failures:
            self.log(f"worker {worker.index} keeps failing at start: giving up")
            self.stop("failure", exit_code or 1)
            return
        lived = asyncio.get_running_loop().time() - worker.started
        self._quick_exits = self._quick_exits + 1 if lived < self.settings.stable_after else 0
        doubling = 2 ** max(0, self._quick_exits - 1)
        delay = min(self.settings.backoff_max, self.settings.backoff_first * doubling)
        self.log(f"restarting worker {worker.index} in {delay:g}s")
        try:
            await asyncio.wait_for(self._stopping.wait(), delay)
        except TimeoutError:
            await self._start(worker.index)

    def reload(self) -> None:
        if self._reloading is not None and not self._reloading.done():
            self.log("SIGHUP: a reload is already under way")
            return
        self._reloading = asyncio.ensure_future(self._reload())

    async def _reload(self) -> None:
        """Replace the workers one at a time; the old one stops only once its successor
        accepts, so the port is always served."""
        self.log("SIGHUP: replacing the workers one by one")
        for index in sorted(self.workers):
            fresh = await self._start(index, adopted=False)
            if not await self._ready_in_time(fresh):
                self.log(f"reload: the new worker {index} did not start; the old ones serve on")
                fresh.signal(signal.SIGKILL)
                return
            old = self.workers[index]
            fresh.adopted = True
            self.workers[index] = fresh
            old.retired = True
            old.signal(self.settings.retire_signal)
        self.log("reload done: every worker is new")

    async def _ready_in_time(self, worker: Worker) -> bool:
        try:
            return await asyncio.wait_for(asyncio.shield(worker.ready), self.settings.start_timeout)
        except TimeoutError:
            return False

    async def _wait_exit(self, worker: Worker) -> None:
        try:
            await asyncio.wait_for(worker.process.wait(), self.settings.stop_timeout)
        except TimeoutError:
            self.log(f"worker {worker.index} (pid {worker.pid}) did not stop in time: killed")
            worker.signal(signal.SIGKILL)
            await worker.process.wait()

    async def _stop_all(self) -> None:
        if self._reloading is not None:
            self._reloading.cancel()
        workers = list(self.alive)
        for worker in workers:
            worker.retired = True
            worker.signal(signal.SIGTERM)
        await asyncio.gather(*(self._wait_exit(worker) for worker in workers))
