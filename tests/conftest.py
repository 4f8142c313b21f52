"""Shared fixtures: golden files with an update switch, the optional extras that CI requires,
the clock that times work only under ``pytest -m perf``, and the tallies printed at the end."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

#: Hypothesis's own clocks are off: its default 200 ms deadline per example and its too-slow
#: health check are wall-clock bounds that a loaded machine fails. Timing is `-m perf`'s job.
#: Under CI the examples are derandomized (the same every run), so that a commit's verdict is its
#: own, not the luck of the draw; local runs draw new examples and keep what fails in .hypothesis.
settings.register_profile(
    "convcost",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("convcost")

#: tests/torch_nets holds the torch models and exporters the cross-checks import, not tests:
#: --doctest-modules would import them, and fail at collection where torch is not installed.
collect_ignore = ["torch_nets"]

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_WIDTH = 120


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite tests/golden/*.txt from the current output instead of comparing.",
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    """Compare text against tests/golden/<name>.txt (or rewrite it with --update-golden)."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / f"{name}.txt"
        if request.config.getoption("--update-golden"):
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"no golden file {path}; run pytest --update-golden"
        assert text == path.read_text(encoding="utf-8")

    return check


def render_plain(renderable: object, width: int = GOLDEN_WIDTH) -> str:
    """Render a rich object (every view block is one, see text_table.Block.__rich_console__) as the
    plain text a pipe would get, at a fixed width."""
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, highlight=False, markup=False, emoji=False, color_system=None)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


@pytest.fixture(name="render_plain")
def render_plain_fixture():
    """The :func:`render_plain` helper, for tests that render rich objects."""
    return render_plain


#: The onnx-free CI step (.ci/run): the plain install and the test tools, without the extras, so
#: that ONNX is shown to cost without onnx or numpy. There the extras' tests skip, even under CI.
PLAIN = bool(os.environ.get("CONVCOST_WITHOUT_ONNX"))


def optional_module(name: str, extra: str) -> ModuleType:
    """An optional extra's module: the test is skipped locally without it, and fails in CI (but in
    the onnx-free step, :data:`PLAIN`).

    Called at a module's top, it skips (or fails) the whole module.
    """
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        if os.environ.get("CI") and not PLAIN:
            pytest.fail(f"{name} is required in CI (pip install '.[{extra}]'); these checks must run")
        pytest.skip(f"{name} is not installed (pip install '.[{extra}]')", allow_module_level=True)


@pytest.fixture(scope="session")
def torch() -> ModuleType:
    """PyTorch for cross-checks."""
    module = optional_module("torch", "torch")
    module.set_num_threads(1)
    return module


@pytest.fixture(scope="session")
def onnx() -> ModuleType:
    """The onnx package, for reading models."""
    return optional_module("onnx", "onnx")


@pytest.fixture(scope="session")
def matplotlib() -> ModuleType:
    """matplotlib, for the charts."""
    return optional_module("matplotlib", "plot")


# ------------------------------------------------------------------ perf: timed only when asked

#: A hang guard, never a speed target: work that has not ended by then never will.
HANG_SECONDS = 60
#: Timed runs (`pytest -m perf`) allow this many times the budget the README states, in CPU
#: seconds: a loaded machine inflates CPU time (shared caches, clock speed) far less than it
#: inflates wall-clock time, which also counts the waits for a core.
PERF_MARGIN = 2.0


class Hang(Exception):
    """Work ran past :data:`HANG_SECONDS`."""


@contextlib.contextmanager
def hang_guard(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Stop in-process work that runs past ``seconds`` (a failure, not a hung suite).

    SIGALRM, so the main thread only; elsewhere (and off POSIX) the work simply runs. An outer
    guard's timer is put back afterwards.
    """
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3))


class Clock:
    """Bounds the work of a module's tests: ``with CLOCK.bound(2.0, what): ...``.

    A module that holds work to a time budget keeps one ``CLOCK = Clock()`` and marks those tests
    ``@pytest.mark.usefixtures("clock")``: they then run twice. The correctness run (plain
    ``pytest``) never times: it only guards against a hang. The timed run is marked ``perf``
    (``pytest -m perf``, its own CI step) and holds each piece of work to its budget × PERF_MARGIN
    in CPU seconds, which a busy machine inflates far less than wall-clock seconds.
    """

    def __init__(self) -> None:
        self.timed = False

    @contextlib.contextmanager
    def bound(self, seconds: float, what: object = "") -> Iterator[None]:
        start = time.process_time()
        with hang_guard():
            yield
        self.check(time.process_time() - start, seconds, what)

    def check(self, cpu_seconds: float, seconds: float, what: object = "") -> None:
        """A measured CPU time against its budget (timed runs only)."""
        if self.timed:
            limit = seconds * PERF_MARGIN
            assert cpu_seconds < limit, (
                f"{cpu_seconds:.2f} CPU s > {seconds} s × {PERF_MARGIN}: {what!r:.300}"
            )


@pytest.fixture(scope="module", params=["untimed", pytest.param("timed", marks=pytest.mark.perf)])
def clock(request: pytest.FixtureRequest) -> Iterator[Clock]:
    """The requesting module's ``CLOCK``, untimed or (under ``-m perf``) timed."""
    module_clock: Clock = request.module.CLOCK
    module_clock.timed = request.param == "timed"
    yield module_clock
    module_clock.timed = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Timed tests run only when ``-m`` names ``perf``: plain ``pytest`` never times anything."""
    if "perf" in (config.getoption("markexpr") or ""):
        return
    timed = [item for item in items if item.get_closest_marker("perf")]
    if timed:
        config.hook.pytest_deselected(items=timed)
        items[:] = [item for item in items if not item.get_closest_marker("perf")]


# ------------------------------------------------------------------ tallies, printed last


#: The ``tally`` functions of the collected test modules that keep one.
TALLIES = pytest.StashKey[list]()


def pytest_collection_finish(session: pytest.Session) -> None:
    modules = {id(item.module): item.module for item in session.items if isinstance(item, pytest.Function)}
    tallies = [getattr(module, "tally", None) for module in modules.values()]
    session.config.stash[TALLIES] = [tally for tally in tallies if callable(tally)]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """A test module that keeps a tally (``tally()``: a line, or None) has it printed at the end."""
    for tally in config.stash.get(TALLIES, []):
        line = tally()
        if line:
            terminalreporter.write_sep("-", f"{tally.__module__} tally")
            terminalreporter.write_line(line)
