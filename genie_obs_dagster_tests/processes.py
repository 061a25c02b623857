"""Processes the tests start, watch and kill: a run in its own OS process, a holder of a pool slot.

Every wait is on an event: an output line (a thread reads them and notifies a condition per line and at the end of
the output) or the process exiting. ``SAFETY_S`` bounds each wait only so that a hung process fails its test
instead of hanging CI; it is never what a test measures.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAFETY_S = 300  # outer limit of any wait on a thread or a process: a safety net on a busy 2-core CI machine


class WatchedProcess:
    """A process whose output lines (stdout and stderr together) are collected in ``lines`` as they come.

    Started in a new session (``new_session``), ``kill`` sends SIGKILL to its whole process group."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path = REPO,
                 new_session: bool = True):
        self.new_session = new_session
        self.proc = subprocess.Popen(list(argv), cwd=cwd, env={**os.environ, **(env or {})}, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=new_session)
        self.lines: list[str] = []
        self.ended = False  # the output is closed: the process has ended (or closed it)
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @classmethod
    def python(cls, script: str, *args: str, env: Mapping[str, str] | None = None,
               new_session: bool = True) -> WatchedProcess:
        """``python -c script args...`` with this interpreter."""
        return cls([sys.executable, "-c", script, *args], env=env, new_session=new_session)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip())
                self._changed.notify_all()
        with self._changed:
            self.ended = True
            self._changed.notify_all()

    def wait_until(self, done: Callable[[list[str]], bool], what: str) -> None:
        """Block until ``done(lines)`` holds; fail with the last lines if the output ends first or the safety
        limit passes."""
        with self._changed:
            self._changed.wait_for(lambda: done(self.lines) or self.ended, SAFETY_S)
            if not done(self.lines):
                why = "process ended" if self.ended else "safety limit passed"
                pytest.fail(f"never saw {what} ({why}):\n" + self.tail())

    def wait_for(self, text: str, at_start: bool = False) -> str:
        """Wait for a line containing ``text`` (starting with it if ``at_start``) and return the first such line."""

        def match(line: str) -> bool:
            return line.startswith(text) if at_start else text in line

        self.wait_until(lambda lines: any(map(match, lines)), repr(text))
        return next(line for line in list(self.lines) if match(line))

    def saw(self, text: str) -> bool:
        return any(text in line for line in list(self.lines))

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.lines[-n:])

    def kill(self) -> int:
        """SIGKILL (of the process group if it has its own session), then wait for the end; the exit code.
        Harmless once the process has ended."""
        if self.proc.returncode is None:  # not reaped yet: its pid (and group id) cannot be another's
            if self.new_session:
                os.killpg(self.proc.pid, signal.SIGKILL)
            else:
                self.proc.kill()
        code = self.proc.wait(SAFETY_S)
        self._reader.join(SAFETY_S)
        return code

    def finish(self) -> int:
        """Wait for the process to exit and return its exit code; past the safety limit, kill it and fail."""
        try:
            code: int | None = self.proc.wait(SAFETY_S)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            if self.proc.poll() is None:
                self.kill()
        self._reader.join(SAFETY_S)
        if code is None:
            pytest.fail(f"still running after the safety limit of {SAFETY_S}s, killed:\n" + self.tail())
        return code
