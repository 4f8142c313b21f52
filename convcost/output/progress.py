"""A progress bar on stderr for work that takes a while — only on a terminal, only when it lasts.

The bar appears after :data:`DELAY` seconds, so quick runs never show (or import) Rich's
progress machinery, and disappears when the work ends. It is never shown when stderr is
not a terminal, when the output goes to a pipe (a pager would get it mixed in), with
``--json``, or with ``TERM=dumb``.
"""

from __future__ import annotations

import os
import sys
import threading
from types import TracebackType
from typing import Any

#: Seconds of work before a bar appears.
DELAY = 0.5


def wanted(fmt: str, to_stdout: bool) -> bool:
    """A bar is shown on a terminal's stderr, when the output is not piped and not JSON."""
    if fmt == "json" or os.environ.get("TERM") == "dumb":
        return False
    try:
        if sys.stderr is None or not sys.stderr.isatty():
            return False
        return not to_stdout or bool(sys.stdout is not None and sys.stdout.isatty())
    except (OSError, ValueError):
        return False


class Progress:
    """``with Progress("Costing", total=n, enabled=...) as bar: … bar.advance()``.

    Without a total the bar pulses (shape inference, a big spec) and shows the time spent.
    """

    def __init__(self, label: str, total: int | None = None, enabled: bool = True, delay: float = DELAY):
        self.label = label
        self.total = total
        self.enabled = enabled
        self.delay = delay
        self.done = 0
        self._lock = threading.Lock()
        self._closed = False
        self._timer: threading.Timer | None = None
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._timer = threading.Timer(self.delay, self._start)
            self._timer.daemon = True
            self._timer.start()
        return self

    def _start(self) -> None:
        with self._lock:
            if self._closed:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

            columns: list[Any] = [TextColumn("{task.description}"), BarColumn()]
            if self.total is not None:
                columns.append(MofNCompleteColumn())
            columns.append(TimeElapsedColumn())
            from rich.progress import Progress as Bar

            bar = Bar(*columns, console=Console(file=sys.stderr), transient=True)
            self._task = bar.add_task(self.label, total=self.total, completed=self.done)
            bar.start()
            self._bar = bar  # last: advance() uses the bar only once it has its task

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        bar = self._bar
        if bar is not None:
            bar.update(self._task, completed=self.done)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            if self._bar is not None:
                self._bar.stop()
