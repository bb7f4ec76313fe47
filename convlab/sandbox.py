"""Run a learner's function on a list of calls in a child process that a time limit really stops.

Used by every checker in :mod:`convlab.checks` (all chapters) and by graded hidden tests.

The learner's code runs in a **forked** child process: the function defined in the notebook is
inherited as it is (nothing is pickled on the way in), the child runs the calls one after the
other and sends one small report per call back through a pipe. Past ``time_limit`` seconds (for
all calls together) the parent kills the child's whole process group with ``SIGKILL`` — this
stops an endless loop and also a single C call that holds the GIL (``sum(range(10**10))``), and
leaves no thread or process behind. Everything the child prints (Python's ``print``, warnings,
C code writing to file descriptors 1 and 2) goes to a pipe that the parent reads and keeps up to
``output_limit`` bytes; a flood beyond it stops the child. Nothing the learner's code does in the
child — ``sys.exit``, ``os._exit``, patching modules, changing globals — reaches the caller's
process.

The API is small and stable::

    run = sandbox.run(fn, [sandbox.Call((5, 3)), sandbox.Call((7, 3), {"s": 2})],
                      time_limit=10.0)
    for outcome in run.outcomes:          # one Outcome per Call, in order
        outcome.status                    # "returned", "raised", "exited", "crashed",
                                          # "timed out", "output limit" or "not run"
        outcome.value                     # the return value (status "returned")
        outcome.error                     # ErrorInfo (status "raised" / "exited" / "crashed")
        outcome.changed_inputs            # names of arguments the call modified in place
        outcome.forbidden                 # names of forbidden calls it made (see Rule)
        outcome.observed                  # what ``observe(call, value)`` returned in the child
    run.output, run.output_bytes, run.output_truncated, run.stopped

Values travel back as plain data: tensors (detached copies), ``None``, ``bool``, ``int``,
``float``, ``complex``, ``str``, lists, tuples, dicts and sets of those, and NumPy arrays and
scalars (rebuilt as NumPy values). Anything else arrives as an :class:`Unsendable` that names its
type and shows its ``repr``. The parent decodes with ``torch.load(weights_only=True)``, so a child
cannot make the parent run code; the child reports only what it observed, and callers compute
expected values in the parent.

After ``fork`` the child sets ``torch.set_num_threads(1)``: OpenMP's thread pool does not survive
a fork, and a child using it would hang. The parent's own thread settings are not touched.
"""

from __future__ import annotations

import io
import math
import os
import select
import signal
import struct
import sys
import sysconfig
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

DEFAULT_OUTPUT_LIMIT = 200_000
"""Bytes of output (stdout and stderr together) a run may print before it is stopped."""

STATUSES = ("returned", "raised", "exited", "crashed", "timed out", "output limit", "not run")
"""Every value :attr:`Outcome.status` can take."""

_FRAME_LIMIT = 32 * 2**20  # bytes of one call's report; a larger value arrives as Unsendable
_MAX_ITEMS = 10_000  # items of a container sent back
_POLL = 0.05  # seconds between checks that the child is still alive


@dataclass(frozen=True)
class Call:
    """One call of the learner's function: ``fn(*args, **kwargs)``."""

    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """A call the learner's code must not make, recognised in the child however it is reached.

    ``name`` is shown to the learner (e.g. ``"F.conv2d"``). ``functions`` are Python functions
    recognised by their code object, so an alias, a lambda or a default argument that holds them
    is caught too. ``torch_ops`` are names of PyTorch functions and operators
    (``"conv2d"``, ``"convolution"``) seen by a ``TorchFunctionMode`` whichever way they are
    reached (``F.conv2d``, ``torch.conv2d``, ``nn.Conv2d``, ``torch.ops.aten.*``, an alias).
    ``allow(op, args, kwargs)``, if given, returns True for a call that is allowed after all
    (e.g. a single-channel convolution).
    """

    name: str
    functions: tuple[Callable[..., Any], ...] = ()
    torch_ops: frozenset[str] = frozenset()
    allow: Callable[[str, tuple, dict], bool] | None = None


@dataclass(frozen=True)
class ErrorInfo:
    """What went wrong in one call: an exception, an exit or a crash, as plain text."""

    type_name: str  # "ValueError", "SystemExit", "os._exit", "signal SIGSEGV"
    message: str = ""
    kinds: tuple[str, ...] = ()  # the exception's class names, most specific first
    line: str = ""  # "line 3: `return x / 0`" in the learner's code, when known
    exit_code: Any = None  # SystemExit's code or the child's exit status

    def is_a(self, name: str) -> bool:
        """Whether the exception is of the class ``name`` (or a subclass of it)."""
        return name in self.kinds


@dataclass(frozen=True)
class Unsendable:
    """A value that cannot travel back as data: its type and a short ``repr``."""

    type_name: str
    text: str

    def __repr__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Outcome:
    """The result of one :class:`Call`; ``status`` is one of :data:`STATUSES`."""

    status: str
    value: Any = None
    error: ErrorInfo | None = None
    observed: Any = None
    changed_inputs: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the call returned (its value may still be wrong)."""
        return self.status == "returned"


@dataclass(frozen=True)
class Run:
    """All outcomes of :func:`run`, and what the learner's code printed."""

    outcomes: tuple[Outcome, ...]
    output: str = ""  # the first ``output_limit`` bytes printed, decoded
    output_bytes: int = 0  # everything printed, counted
    stopped: str = ""  # "", "timed out" or "output limit"
    seconds: float = 0.0
    time_limit: float = 0.0
    output_limit: int = DEFAULT_OUTPUT_LIMIT

    @property
    def output_truncated(self) -> bool:
        """True when more was printed than :attr:`output` keeps."""
        return self.output_bytes > len(self.output.encode("utf-8", "replace"))


def run(fn: Callable[..., Any], calls: Sequence[Call], *, time_limit: float,
        output_limit: int = DEFAULT_OUTPUT_LIMIT, rules: Sequence[Rule] = (),
        observe: Callable[[Call, Any], Any] | None = None) -> Run:
    """Run ``fn`` on every call in a killable child process; one :class:`Outcome` per call.

    ``time_limit`` (seconds, for all calls together) is passed by the caller; past it the child
    is killed, the running call is "timed out" and the calls after it are "not run". A call that
    ends the child (``os._exit``, a crash) is reported and the next call runs in a new child.
    ``observe(call, value)``, if given, runs in the child after each call that returned (for
    example to report a model's parameters after a training loop); its result is sent back as
    :attr:`Outcome.observed`. ``rules`` name calls the learner's code must not make.
    """
    if not callable(fn):
        raise TypeError(f"sandbox.run needs a callable, got {type(fn).__name__}")
    if not (isinstance(time_limit, int | float) and math.isfinite(time_limit)
            and time_limit > 0):
        raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    if not isinstance(output_limit, int) or output_limit < 0:
        raise ValueError(f"output_limit must be a number of bytes ≥ 0, got {output_limit!r}")
    calls = list(calls)
    if not all(isinstance(c, Call) for c in calls):
        raise TypeError("sandbox.run takes a list of sandbox.Call objects")
    start = time.monotonic()
    deadline = start + time_limit
    outcomes: dict[int, Outcome] = {}
    output = _Output(output_limit)
    stopped = ""
    first = 0
    while first < len(calls):
        ended = _run_child(fn, calls, first, deadline, output, rules, observe, outcomes)
        current = next((i for i in range(first, len(calls)) if i not in outcomes), len(calls))
        if current == len(calls):
            break
        if ended.status in ("timed out", "output limit"):
            stopped = ended.status
            outcomes[current] = Outcome(ended.status, error=ended.error,
                                        seconds=time.monotonic() - ended.started)
            break
        if ended.status == "finished":  # the child ended normally but this report is missing
            ended = _Ended("crashed", ended.started,
                           ErrorInfo("lost report", "the call's report could not be read"))
        outcomes[current] = Outcome(ended.status, error=ended.error,
                                    seconds=time.monotonic() - ended.started)
        first = current + 1
    ordered = tuple(outcomes.get(i, Outcome("not run")) for i in range(len(calls)))
    return Run(ordered, output.text(), output.total, stopped, time.monotonic() - start,
               float(time_limit), output_limit)


# --------------------------------------------------------------------------- parent side


class _Output:
    """Keeps the first ``limit`` bytes printed and counts them all."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.limit - len(self.kept)
        if room > 0:
            self.kept += data[:room]

    @property
    def over(self) -> bool:
        return self.total > self.limit

    def text(self) -> str:
        return bytes(self.kept).decode("utf-8", "replace")


@dataclass
class _Ended:
    status: str  # "finished", "timed out", "output limit", "exited", "crashed"
    started: float
    error: ErrorInfo | None = None


def _run_child(fn: Callable[..., Any], calls: list[Call], first: int, deadline: float,
               output: _Output, rules: Sequence[Rule],
               observe: Callable[[Call, Any], Any] | None,
               outcomes: dict[int, Outcome]) -> _Ended:
    """Fork one child for ``calls[first:]``, collect its reports, kill it; say how it ended."""
    result_r, result_w = os.pipe()
    output_r, output_w = os.pipe()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()  # nothing buffered may be written twice (once by each process)
        except Exception:  # noqa: BLE001 - a closed or odd stream must not stop the check
            pass
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(result_r)
        os.close(output_r)
        _child(fn, calls, first, result_w, output_w, rules, observe)
    os.close(result_w)
    os.close(output_w)
    try:
        os.setpgid(pid, pid)  # also done by the child; whichever runs first wins
    except OSError:
        pass
    buffer = bytearray()
    status = "finished"
    exit_status: int | None = None
    open_fds = {result_r, output_r}
    try:
        while open_fds:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                status = "timed out"
                break
            ready, _, _ = select.select(list(open_fds), [], [], min(remaining, _POLL))
            for fd in ready:
                data = os.read(fd, 1 << 16)
                if not data:
                    open_fds.discard(fd)
                elif fd == output_r:
                    output.add(data)
                else:
                    buffer += data
                    _take_frames(buffer, outcomes)
            if output.over:
                status = "output limit"
                break
            if not ready and exit_status is None:
                done, exit_status = os.waitpid(pid, os.WNOHANG)
                if done == 0:
                    exit_status = None
                elif result_r not in open_fds or not _readable(result_r):
                    break  # exited; a grandchild may hold the pipes open, do not wait for it
    finally:
        _kill(pid)
        if exit_status is None:
            _, exit_status = os.waitpid(pid, 0)
        for fd in (result_r, output_r):
            if fd in open_fds:
                _drain(fd, output if fd == output_r else None, buffer, outcomes)
            os.close(fd)
    if status != "finished":
        return _Ended(status, started)
    reason, error = _exit_reason(exit_status)
    return _Ended(reason, started, error)


def _readable(fd: int) -> bool:
    ready, _, _ = select.select([fd], [], [], 0)
    return bool(ready)


def _drain(fd: int, output: _Output | None, buffer: bytearray,
           outcomes: dict[int, Outcome]) -> None:
    """Read what is left in a pipe without blocking (the child is dead by now)."""
    while _readable(fd):
        data = os.read(fd, 1 << 16)
        if not data:
            return
        if output is not None:
            output.add(data)
        else:
            buffer += data
            _take_frames(buffer, outcomes)


def _kill(pid: int) -> None:
    """SIGKILL the child's process group (the child and anything it started)."""
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            kill()
        except (ProcessLookupError, PermissionError):
            continue


def _exit_reason(exit_status: int) -> tuple[str, ErrorInfo | None]:
    """("finished", None) for a normal end, else ("exited" / "crashed", what happened)."""
    if os.WIFSIGNALED(exit_status):
        number = os.WTERMSIG(exit_status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return "crashed", ErrorInfo(f"signal {name}", f"the process was ended by {name}",
                                    exit_code=-number)
    code = os.WEXITSTATUS(exit_status)
    if code == _FINISHED:
        return "finished", None
    return "exited", ErrorInfo("os._exit", f"the process exited with status {code}",
                               exit_code=code)


_FINISHED = 0  # the child's exit status after its last call
_HEADER = struct.Struct("<I")


def _take_frames(buffer: bytearray, outcomes: dict[int, Outcome]) -> None:
    """Decode every complete report in ``buffer`` into ``outcomes``."""
    while len(buffer) >= _HEADER.size:
        (size,) = _HEADER.unpack_from(buffer)
        if len(buffer) < _HEADER.size + size:
            return
        frame = bytes(buffer[_HEADER.size:_HEADER.size + size])
        del buffer[:_HEADER.size + size]
        try:
            report = torch.load(io.BytesIO(frame), weights_only=True)
            index = int(report["index"])
            outcomes[index] = Outcome(
                status=str(report["status"]),
                value=_decode(report["value"]),
                error=ErrorInfo(**report["error"]) if report["error"] else None,
                observed=_decode(report["observed"]),
                changed_inputs=tuple(str(n) for n in report["changed"]),
                forbidden=tuple(str(n) for n in report["forbidden"]),
                seconds=float(report["seconds"]),
            )
        except Exception:  # noqa: BLE001 - a garbled report counts as a crash of that call
            continue


def _decode(item: Any) -> Any:
    """Rebuild a value encoded by :func:`_encode`."""
    kind = item[0]
    if kind == "plain":
        return item[1]
    if kind == "tensor":
        return item[1]
    if kind == "complex":
        return complex(item[1], item[2])
    if kind == "numpy":
        import numpy as np

        array = item[1].numpy()
        return np.asarray(array, dtype=item[2]) if item[3] else np.asarray(
            array, dtype=item[2])[()]
    if kind in ("list", "tuple", "set"):
        values = [_decode(v) for v in item[1]]
        return {"list": list, "tuple": tuple, "set": set}[kind](values)
    if kind == "dict":
        return {_decode(k): _decode(v) for k, v in item[1]}
    return Unsendable(str(item[1]), str(item[2]))


# --------------------------------------------------------------------------- child side


def _child(fn: Callable[..., Any], calls: list[Call], first: int, result_w: int,
           output_w: int, rules: Sequence[Rule],
           observe: Callable[[Call, Any], Any] | None) -> None:
    """The child's whole life: run the calls, report each one, then ``os._exit``."""
    code = _FINISHED
    try:
        os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # an interrupt is the parent's business
        _capture_output(output_w)
        torch.set_num_threads(1)  # OpenMP's threads did not survive the fork
        for index in range(first, len(calls)):
            report = _run_one(fn, calls[index], rules, observe)
            report["index"] = index
            _send(result_w, report)
    except BaseException:  # noqa: BLE001 - the child must end here, whatever happened
        code = 70
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _capture_output(output_w: int) -> None:
    """Send file descriptors 1 and 2, and Python's stdout and stderr, into the output pipe."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(output_w, 1)
    os.dup2(output_w, 2)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - lives with the child
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace",  # noqa: SIM115
                      closefd=False)
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace",  # noqa: SIM115
                      closefd=False)
    import builtins

    def no_input(*_args: Any) -> str:
        raise EOFError("input() cannot be answered while a checker runs your function")

    builtins.input = no_input  # a kernel's input() would wait on a socket the child cannot use


def _send(fd: int, report: dict[str, Any]) -> None:
    data = _dump(report)
    if len(data) > _FRAME_LIMIT:
        report["value"] = ("opaque", "value", "a value too large to send back")
        report["observed"] = ("opaque", "value", "a value too large to send back")
        data = _dump(report)
    data = _HEADER.pack(len(data)) + data
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _dump(report: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    torch.save(report, buffer)
    return buffer.getvalue()


def _run_one(fn: Callable[..., Any], call: Call, rules: Sequence[Rule],
             observe: Callable[[Call, Any], Any] | None) -> dict[str, Any]:
    """Run one call in the child; the report is plain data (see :func:`_encode`)."""
    before = [_snapshot(a) for a in call.args]
    before_kw = {k: _snapshot(v) for k, v in call.kwargs.items()}
    seen: set[str] = set()
    status, value, error = "returned", None, None
    started = time.monotonic()
    with _Watch(rules, seen):
        try:
            value = fn(*call.args, **call.kwargs)
        except SystemExit as err:
            status, error = "exited", _error_info(err, exit_code=err.code)
        except BaseException as err:  # noqa: BLE001 - report whatever the learner raises
            status, error = "raised", _error_info(err)
    seconds = time.monotonic() - started
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    names = _argument_names(fn, call)
    changed = [names[i] for i, (a, b) in enumerate(zip(call.args, before, strict=True))
               if _changed(b, a)]
    changed += [k for k, v in call.kwargs.items() if _changed(before_kw[k], v)]
    observed = None
    if observe is not None and status == "returned":
        observed = observe(call, value)
    return {"status": status, "value": _encode(value), "seconds": seconds,
            "error": None if error is None else error.__dict__ | {},
            "observed": _encode(observed), "changed": changed, "forbidden": sorted(seen)}


def _error_info(err: BaseException, exit_code: Any = None) -> ErrorInfo:
    try:
        message = str(err)
    except Exception:  # noqa: BLE001 - a learner's exception with a broken __str__
        message = ""
    kinds = tuple(cls.__name__ for cls in type(err).__mro__)
    code = exit_code if isinstance(exit_code, int | str | type(None)) else repr(exit_code)
    return ErrorInfo(type(err).__name__, message[:1000], kinds, _learner_line(err), code)


_NOT_LEARNER = tuple(str(p) for p in {
    Path(__file__).resolve().parent, Path(torch.__file__).resolve().parent,
    Path(sysconfig.get_paths()["stdlib"]).resolve()})


def _learner_line(err: BaseException) -> str:
    """'line 3: `code`' for the last traceback frame in the learner's own code, or ''."""
    frames = [f for f in traceback.extract_tb(err.__traceback__)
              if not str(Path(f.filename).resolve()).startswith(_NOT_LEARNER)]
    if not frames:
        return ""
    last = frames[-1]
    return f"line {last.lineno}" + (f": `{last.line.strip()}`" if last.line else "")


def _argument_names(fn: Callable[..., Any], call: Call) -> list[str]:
    """The parameter name each positional argument binds to (``argument 1`` if unknown)."""
    import inspect

    names = [f"argument {i + 1}" for i in range(len(call.args))]
    try:
        bound = inspect.signature(fn).bind_partial(*call.args)
    except (TypeError, ValueError):
        return names
    position = 0
    for name, value in bound.arguments.items():
        kind = bound.signature.parameters[name].kind
        width = len(value) if kind is inspect.Parameter.VAR_POSITIONAL else 1
        for _ in range(width):
            if position < len(names):
                names[position] = name
            position += 1
    return names


class _Snapshot:
    """A copy of an argument taken before the call, to detect in-place changes."""

    def __init__(self, kind: str, data: Any) -> None:
        self.kind = kind
        self.data = data


def _snapshot(value: Any, depth: int = 0) -> _Snapshot | None:
    if isinstance(value, torch.Tensor):
        return _Snapshot("tensor", value.detach().clone())
    if depth < 3 and isinstance(value, list | tuple) and len(value) <= _MAX_ITEMS:
        return _Snapshot(type(value).__name__, (len(value), [_snapshot(v, depth + 1)
                                                             for v in value], list(value)))
    if depth < 3 and isinstance(value, dict) and len(value) <= _MAX_ITEMS:
        return _Snapshot("dict", {k: _snapshot(v, depth + 1) for k, v in value.items()})
    return None  # numbers, strings, modules, ...: not watched


def _changed(before: _Snapshot | None, after: Any) -> bool:
    """Whether ``after`` differs from the snapshot taken before the call."""
    if before is None:
        return False
    try:
        if before.kind == "tensor":
            old = before.data
            if not isinstance(after, torch.Tensor) or after.shape != old.shape or (
                    after.dtype != old.dtype):
                return True
            return not torch.equal(torch.nan_to_num(after.detach(), nan=0.5),
                                   torch.nan_to_num(old, nan=0.5)) or not torch.equal(
                after.detach().isnan(), old.isnan())
        if before.kind in ("list", "tuple"):
            length, inner, items = before.data
            if len(after) != length or any(a is not b for a, b in zip(after, items,
                                                                       strict=True)):
                return True
            return any(_changed(s, v) for s, v in zip(inner, after, strict=True))
        if before.kind == "dict":
            if set(after) != set(before.data):
                return True
            return any(_changed(s, after[k]) for k, s in before.data.items())
    except Exception:  # noqa: BLE001 - an argument the learner replaced by something odd
        return True
    return False


def _encode(value: Any, depth: int = 0) -> tuple:
    """Plain data ``torch.load(weights_only=True)`` accepts, tagged with its kind."""
    try:
        if type(value).__module__ == "numpy":
            import numpy as np

            if isinstance(value, np.ndarray | np.generic) and value.dtype.kind in "biufc":
                array = np.asarray(value)
                return ("numpy", torch.from_numpy(array.copy()), str(array.dtype),
                        isinstance(value, np.ndarray))
        if value is None or isinstance(value, bool | int | float | str):
            if isinstance(value, int) and not isinstance(value, bool) and (
                    type(value) is not int):
                value = int(value)
            if isinstance(value, float) and type(value) is not float:
                value = float(value)
            if isinstance(value, str) and type(value) is not str:
                value = str(value)
            if isinstance(value, str) and len(value) > 100_000:
                value = value[:100_000]
            return ("plain", value)
        if isinstance(value, complex):
            return ("complex", value.real, value.imag)
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu().clone().as_subclass(torch.Tensor)
            return ("tensor", tensor)
        if depth < 5 and isinstance(value, list | tuple | set | frozenset) and (
                len(value) <= _MAX_ITEMS):
            kind = "list" if isinstance(value, list) else (
                "tuple" if isinstance(value, tuple) else "set")
            return (kind, [_encode(v, depth + 1) for v in value])
        if depth < 5 and isinstance(value, dict) and len(value) <= _MAX_ITEMS:
            return ("dict", [(_encode(k, depth + 1), _encode(v, depth + 1))
                             for k, v in value.items()])
        text = repr(value)
    except Exception:  # noqa: BLE001 - a learner's object whose repr or copy fails
        text = f"<{type(value).__name__} object>"
    if len(text) > 200:
        text = text[:197] + "..."
    return ("opaque", type(value).__name__, text)


class _Watch:
    """Records forbidden calls during one call (a torch function mode and a profile hook)."""

    def __init__(self, rules: Sequence[Rule], seen: set[str]) -> None:
        self.rules = list(rules)
        self.seen = seen
        self.codes = {f.__code__: r.name for r in self.rules for f in r.functions
                      if hasattr(f, "__code__")}
        self.mode: Any = None

    def __enter__(self) -> _Watch:
        if any(r.torch_ops for r in self.rules):
            self.mode = _function_recorder(self.rules, self.seen)
            self.mode.__enter__()
        if self.codes:
            codes, seen = self.codes, self.seen

            def profile(frame: Any, event: str, _arg: Any) -> None:
                if event == "call" and frame.f_code in codes:
                    seen.add(codes[frame.f_code])

            sys.setprofile(profile)
        return self

    def __exit__(self, *exc: Any) -> None:
        sys.setprofile(None)
        if self.mode is not None:
            self.mode.__exit__(None, None, None)


def _function_recorder(rules: list[Rule], seen: set[str]) -> Any:
    """A TorchFunctionMode noting every PyTorch function or operator a rule forbids.

    A function mode sees ``F.conv2d``, ``torch.conv2d``, ``nn.Conv2d`` (which calls
    ``F.conv2d``) and ``torch.ops.aten.*`` calls alike, by name (``"conv2d"``,
    ``"convolution"``; an operator's overload suffix such as ``.default`` is dropped).
    """
    from torch.overrides import TorchFunctionMode

    class Recorder(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: tuple = (),
                               kwargs: dict | None = None) -> Any:
            kwargs = kwargs or {}
            op = str(getattr(func, "__name__", "")).split(".")[0]
            for rule in rules:
                if op in rule.torch_ops and not (rule.allow and rule.allow(op, args, kwargs)):
                    seen.add(rule.name)
            return func(*args, **kwargs)

    return Recorder()


__all__ = ["Call", "DEFAULT_OUTPUT_LIMIT", "ErrorInfo", "Outcome", "Rule", "Run", "STATUSES",
           "Unsendable", "run"]
