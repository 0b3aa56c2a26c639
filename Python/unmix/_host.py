"""The link to the host: one `unmix serve` process per Python process, spoken to in JSON lines.

Plugin code never runs in this interpreter. `unmix serve` runs each request in a worker process
of its own (the same workers as the command line), so a plugin that crashes, hangs past its
timeout or returns garbage costs an exception here, never the interpreter. Arrays travel as
`.npy` files in shared memory (`/dev/shm`), which the worker maps without copying.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np


class UnmixError(Exception):
    """A request the host refused or a plugin run that failed; the message is the host's line."""


class UnmixValueError(UnmixError, ValueError):
    """The request was wrong: an unknown parameter or value, an R out of range, a bad cube."""


class PluginError(UnmixError, RuntimeError):
    """The plugin failed: it refused the data, crashed, timed out or returned invalid results."""


def find_executable() -> str:
    """The `unmix` executable: $UNMIX_EXECUTABLE, else `unmix` on PATH, else the build folder of
    the repository this package lies in (an editable install or a source checkout)."""
    given = os.environ.get("UNMIX_EXECUTABLE")
    if given:
        if not os.access(given, os.X_OK):
            raise UnmixError(f"UNMIX_EXECUTABLE={given} is not an executable")
        return given
    on_path = shutil.which("unmix")
    if on_path:
        return on_path
    root = Path(__file__).resolve().parents[2]
    for config in ("release", "debug"):
        candidate = root / ".build" / config / "unmix"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    raise UnmixError(
        "cannot find the unmix executable: build it (swift build -c release), put it on PATH "
        "or set UNMIX_EXECUTABLE"
    )


def scratch_root() -> str:
    """Where arrays are handed to the host: $UNMIX_SCRATCH, else /dev/shm (memory), else the
    temporary folder."""
    for candidate in (os.environ.get("UNMIX_SCRATCH"), "/dev/shm"):
        if candidate and os.path.isdir(candidate) and os.access(candidate, os.W_OK):
            return candidate
    return tempfile.gettempdir()


class Host:
    """One `unmix serve` process, started on first use and again after it ends."""

    def __init__(self, executable: str | None = None):
        self._executable = executable
        self._process: subprocess.Popen | None = None
        self._buffer = b""
        self._lock = threading.RLock()
        self._next_id = 0
        self._kept: str | None = None
        # The largest peak resident memory (MiB) the runs so far reported, of the host process
        # and of a plugin worker (run.json's host_peak_memory_mib, worker_peak_memory_mib).
        self.peak_memory_mib = {"host": 0.0, "worker": 0.0}

    @property
    def executable(self) -> str:
        if self._executable is None:
            self._executable = find_executable()
        return self._executable

    def _start(self):
        if self._process is not None and self._process.poll() is None:
            return
        # Its own session: a Ctrl-C at the terminal reaches Python, which decides what to stop.
        self._process = subprocess.Popen(
            [self.executable, "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        self._buffer = b""

    def keep_file(self, name: str, data: bytes) -> str:
        """Writes `data` to a file in this host's scratch folder (removed at exit); its path."""
        with self._lock:
            if self._kept is None:
                self._kept = tempfile.mkdtemp(prefix="unmix-kept-", dir=scratch_root())
                atexit.register(shutil.rmtree, self._kept, True)
            path = os.path.join(self._kept, name)
            with open(path + ".part", "wb") as f:
                f.write(data)
            os.replace(path + ".part", path)
            return path

    def apply_model(self, model_path: str, cube: np.ndarray, limits=(), progress=None) -> np.ndarray:
        """The abundances (rows × cols × R, float32) of `cube` by the model file at `model_path`;
        `limits` are words such as `--timeout 60`."""
        with Scratch() as scratch:
            words = [model_path, scratch.cube(cube), "--out", scratch.file("out"), *limits]
            self.request("apply", words, progress=progress)
            return np.load(scratch.file("out/abundances.npy"))

    def close(self):
        with self._lock:
            process, self._process = self._process, None
            if process is None:
                return
            try:
                process.stdin.close()
                process.wait(timeout=5)
            except Exception:
                process.kill()
                process.wait()

    def _read_line(self, timeout: float | None = None) -> bytes | None:
        """The next line from the host; None at its end, or when `timeout` passes."""
        fd = self._process.stdout.fileno()
        while b"\n" not in self._buffer:
            if timeout is not None and not select.select([fd], [], [], timeout)[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def request(self, command: str, args: list[str] | None = None, progress=None):
        """The result of one request, or the host's error raised as an exception. `progress` is
        called with (fraction, message) while a plugin runs. A KeyboardInterrupt stops the
        request (the host kills its worker) and is raised again once the host has answered."""
        with self._lock:
            self._start()
            self._next_id += 1
            ident = self._next_id
            line = json.dumps({"id": ident, "command": command, "args": [str(a) for a in (args or [])]})
            try:
                self._process.stdin.write(line.encode() + b"\n")
                self._process.stdin.flush()
            except BrokenPipeError:
                raise self._ended() from None
            try:
                while True:
                    raw = self._read_line()
                    if raw is None:
                        raise self._ended()
                    answer = json.loads(raw)
                    if answer.get("id") != ident:
                        continue
                    if "progress" in answer:
                        if progress is not None:
                            progress(answer["progress"]["fraction"], answer["progress"]["message"])
                        continue
                    result = _result(answer)
                    if isinstance(result, dict):
                        for key, field in (("host", "host_peak_memory_mib"), ("worker", "worker_peak_memory_mib")):
                            if isinstance(result.get(field), (int, float)):
                                self.peak_memory_mib[key] = max(self.peak_memory_mib[key], result[field])
                    return result
            except KeyboardInterrupt:
                self._stop(ident)
                raise

    def _stop(self, ident: int):
        """Stops request `ident`: SIGINT to the host, which kills the worker and answers."""
        try:
            os.kill(self._process.pid, signal.SIGINT)
        except ProcessLookupError:
            return
        while True:
            raw = self._read_line(timeout=10)
            if raw is None:
                # No answer in time, or the host ended: start afresh next time.
                self._process.kill()
                self._process.wait()
                self._process = None
                return
            if json.loads(raw).get("id") == ident and "progress" not in json.loads(raw):
                return

    def _ended(self) -> UnmixError:
        status = self._process.wait()
        self._process = None
        return UnmixError(f"the unmix host ({self.executable} serve) ended unexpectedly (status {status})")


def _result(answer: dict):
    if answer.get("ok"):
        return answer["result"]
    message = answer.get("error", "unknown error")
    status = answer.get("status", 1)
    if status == 130:
        raise KeyboardInterrupt(message)
    if answer.get("stage") == "plugin":
        raise PluginError(message)
    raise UnmixValueError(message)


_host = Host()
_host_pid = os.getpid()


def host() -> Host:
    """This process's host (a fork, such as a multiprocessing or Dask worker, gets its own)."""
    global _host, _host_pid
    if os.getpid() != _host_pid:
        _host, _host_pid = Host(), os.getpid()
    return _host


class Scratch:
    """A folder in shared memory for one request's arrays, removed afterwards."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="unmix-", dir=scratch_root())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)

    def cube(self, X: np.ndarray, name: str = "cube.npy") -> str:
        """Writes `X` (rows × cols × bands) as native float32 .npy, which the worker maps."""
        path = self.file(name)
        np.save(path, np.ascontiguousarray(X, dtype=np.float32))
        return path
