"""Checkers of chapter 3 (detach and autograd): predictions, a training loop, a GAN step.

The learner's loop and discriminator step run on seeded models in the child process; the
checker compares parameters, losses, hooks and the generator's stale ``.grad`` with a
reference run.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from convlab import sandbox
from convlab.check_runner import DEFAULT_TIME_LIMIT, finish, not_callable, run_calls, speaks
from convlab.checks_values import as_shape
from convlab.feedback import CaseResult, CheckResult
from convlab.feedback import show as _show
from convlab.i18n import message as msg

# --------------------------------------------------------------------------- chapter 3


def _normalise_prediction(value: Any, like: Any) -> Any:
    """Bring a prediction into the form of the actual value (sets of names, numbers, ...)."""
    if isinstance(like, set | frozenset):
        if isinstance(value, str):
            parts = value.replace(",", " ").split()
            return {p.strip("'\"`") for p in parts}
        if isinstance(value, Iterable):
            return set(value)
        return {value}
    if isinstance(like, torch.Size):
        shape = as_shape(value)
        return shape if shape is not None else value
    if isinstance(like, str) and isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not isinstance(
            like, torch.Tensor):
        return value.item()
    return value


def _equal_prediction(answer: Any, actual: Any) -> bool:
    """Whether a prediction equals the actual value; never raises."""
    try:
        if isinstance(actual, torch.Tensor):
            answer = torch.as_tensor(answer) if isinstance(answer, list | tuple) else answer
            return (isinstance(answer, torch.Tensor) and answer.shape == actual.shape
                    and bool(torch.allclose(answer.double(), actual.double())))
        if isinstance(answer, torch.Tensor):
            answer = answer.tolist()
        if isinstance(actual, torch.Size):
            return answer == tuple(actual)
        if isinstance(actual, list | tuple):
            return (isinstance(answer, list | tuple) and len(answer) == len(actual)
                    and all(_equal_prediction(a, b) for a, b in zip(answer, actual, strict=True)))
        if isinstance(actual, str):
            return answer == actual.strip().lower()
        if isinstance(actual, bool) or isinstance(answer, bool):
            return type(answer) is type(actual) and answer == actual
        if isinstance(actual, numbers.Real) and isinstance(answer, numbers.Real):
            return math.isclose(float(answer), float(actual), rel_tol=1e-9, abs_tol=1e-9)
        return bool(answer == actual)
    except (TypeError, ValueError, RuntimeError):
        return False


@speaks
def check_prediction(answer: Any, actual: Any, explain: str = "") -> CheckResult:
    """Compare a committed prediction with what the code actually did (chapters 3 and 4).

    ``actual`` is computed by the notebook (e.g. ``{name for name, t in tensors.items() if
    t.grad is None}``); ``answer = ...`` means "not answered yet". A set is compared as a set
    (a string ``"a, b"`` is read as ``{"a", "b"}``); numbers with a tiny tolerance; strings
    ignoring case and surrounding spaces. ``explain`` is shown once the learner has answered.
    """
    name = "check_prediction"
    if answer is ...:
        return CheckResult(False, [CaseResult("prediction", False, None, answer,
                                              msg("not answered yet"))],
                           [msg("Write your prediction in place of ... and run the cell again "
                                "— committing to an answer first is the point.")], name)
    try:
        normalised = _normalise_prediction(answer, actual)
    except (TypeError, ValueError, RuntimeError):
        normalised = answer
    passed = _equal_prediction(normalised, actual)
    messages: list[str] = []
    if not passed and isinstance(actual, set | frozenset) and isinstance(normalised, set):
        extra, missing = sorted(normalised - set(actual), key=str), sorted(
            set(actual) - normalised, key=str)
        if extra:
            listed = ", ".join(map(str, extra))
            messages.append(msg("You included {items}, which is not in the actual set.",
                                items=listed) if len(extra) == 1 else
                            msg("You included {items}, which are not in the actual set.",
                                items=listed))
        if missing:
            messages.append(msg("You left out {items}.", items=", ".join(map(str, missing))))
    if explain:
        explain = msg(explain)  # the chapter's English text is its message id
        messages.append(msg("Why: {explain}", explain=explain) if passed else
                        msg("What happens: {explain}", explain=explain))
    message = "" if passed else msg("you predicted {normalised}; the code gives {actual}",
                                    normalised=_show(normalised), actual=_show(actual))
    case = CaseResult("prediction", passed, actual, normalised, message)
    return CheckResult(passed, [case], messages, name)


def seeded_linear(gen: torch.Generator, n_in: int, n_out: int) -> nn.Linear:
    """An ``nn.Linear(n_in, n_out)`` with weights and bias drawn from ``gen`` (× 0.5): the
    checkers' and the graders' small models for training loops and GAN steps."""
    layer = nn.Linear(n_in, n_out)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(n_out, n_in, generator=gen) * 0.5)
        layer.bias.copy_(torch.randn(n_out, generator=gen) * 0.5)
    return layer


def _reference_training(model: nn.Module, batches: list[tuple[torch.Tensor, torch.Tensor]],
                        zero_grad: str = "each step") -> list[float]:
    """The correct loop (``zero_grad='each step'``) and typical wrong ones, for comparison."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.MSELoss()
    losses = []
    for x, y in batches:
        if zero_grad == "each step":
            optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if zero_grad == "before step":
            optimizer.zero_grad()
        optimizer.step()
        losses.append(loss.item())
    return losses


def _parameters(model: nn.Module) -> list[torch.Tensor]:
    """Copies of a module's parameters (sent back from the child after the learner's code)."""
    return [p.detach().clone() for p in model.parameters()]


def _params_close(got: Any, want: nn.Module | list[torch.Tensor]) -> bool:
    """Same parameters (never raises, whatever the child reported)."""
    if isinstance(got, nn.Module):
        got = _parameters(got)
    if isinstance(want, nn.Module):
        want = _parameters(want)
    try:
        return isinstance(got, list) and len(got) == len(want) and all(
            isinstance(p, torch.Tensor) and p.shape == q.shape
            and torch.allclose(p.double(), q.double(), atol=1e-6, rtol=1e-5)
            for p, q in zip(got, want, strict=True))
    except (RuntimeError, TypeError, ValueError):
        return False


@speaks
def check_training_loop(train_fn: Callable[..., Any], *,
                        time_limit: float = DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check a training loop ``train_fn(model, optimizer, batches, loss_fn) -> losses`` (ch. 3).

    The checker builds a seeded ``nn.Linear(3, 1)``, ``SGD(lr=0.1)``, four batches and
    ``nn.MSELoss()``, runs the learner's loop on one copy and a correct loop (``zero_grad``,
    forward, ``backward``, ``step`` for every batch) on another, and compares the final
    parameters and the returned per-batch losses (floats or 0-d tensors).
    """
    name = "check_training_loop"
    result = not_callable(name, train_fn, "train")
    if result is not None:
        return result
    gen = torch.Generator().manual_seed(3)
    true_w = torch.tensor([[1.5, -2.0, 0.5]])
    batches = []
    for _ in range(4):
        x = torch.randn(8, 3, generator=gen)
        batches.append((x, x @ true_w.T + 0.1 * torch.randn(8, 1, generator=gen)))
    start = seeded_linear(gen, 3, 1)
    learner, correct = copy.deepcopy(start), copy.deepcopy(start)
    accumulate, frozen = copy.deepcopy(start), copy.deepcopy(start)
    want_losses = _reference_training(correct, batches)
    _reference_training(accumulate, batches, zero_grad="never")
    _reference_training(frozen, batches, zero_grad="before step")
    optimizer = torch.optim.SGD(learner.parameters(), lr=0.1)
    call = sandbox.Call((learner, optimizer, [(x.clone(), y.clone()) for x, y in batches],
                         nn.MSELoss()))
    answers = run_calls(train_fn, [call], time_limit,
                        observe=lambda c, _value: _parameters(c.args[0]))
    failure = answers.failure(0)
    if failure:
        cases = [CaseResult(n, False, None, None, failure)
                 for n in (msg("final parameters"), msg("returned losses"))]
        return finish(name, cases, [], answers.repeated(len(cases)))
    trained = answers.outcomes[0].observed  # type: ignore[union-attr]
    cases = []
    messages = []
    params_ok = _params_close(trained, correct)
    if params_ok:
        cases.append(CaseResult(msg("final parameters"), True))
    else:
        cases.append(CaseResult(
            msg("final parameters"), False, None, None,
            msg("after training, the parameters differ from those of a correct loop")))
        if _params_close(trained, accumulate):
            messages.append(msg("Hint: gradients accumulate across steps: backward() adds into "
                                ".grad, so call optimizer.zero_grad() once per batch, before "
                                "backward()."))
        elif _params_close(trained, start):
            messages.append(msg("Hint: the parameters never changed: is optimizer.step() "
                                "called, and is zero_grad() called before backward() (not "
                                "between backward() and step())?"))
    losses = answers.value(0)
    if losses is None:
        cases.append(CaseResult(msg("returned losses"), False, want_losses, None,
                                msg("returned None — return the list of per-batch losses")))
    else:
        try:
            got = [float(v) for v in losses] if isinstance(losses, list | tuple) else None
        except (TypeError, ValueError, RuntimeError):
            got = None
        if got is None:
            messages.append(msg("Your loop returned {losses}: return a list with one loss (a "
                                "float or 0-d tensor) per batch.", losses=_show(losses)))
        if got is not None and len(got) == len(want_losses) and all(
                math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-6)
                for a, b in zip(got, want_losses, strict=True)):
            cases.append(CaseResult(msg("returned losses"), True))
        else:
            want = [round(v, 4) for v in want_losses]
            if got is not None and len(got) == len(want_losses):
                first = next(b for b, (a, w) in enumerate(zip(got, want_losses, strict=True))
                             if not math.isclose(a, w, rel_tol=1e-4, abs_tol=1e-6))
                problem = (msg("your per-batch losses {value} differ from a correct loop's "
                               "{want} from batch {batch} on",
                               value=[round(v, 4) for v in got], want=want, batch=first + 1))
            else:
                count = "" if got is None else msg(" (you returned {n_got})", n_got=len(got))
                problem = (msg("expected one loss per batch{count}, computed before that "
                               "batch's step: {want}", count=count, want=want))
            cases.append(CaseResult(msg("returned losses"), False, want, losses, problem))
            if params_ok:
                messages.append(msg("Hint: the parameters are right; append loss.item() once "
                                    "per batch and return the list."))
    return finish(name, cases, messages, answers.repeated(len(cases)))


def _gan_setup() -> tuple[nn.Module, nn.Module, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(5)
    generator = seeded_linear(gen, 2, 4)
    discriminator = seeded_linear(gen, 4, 1)
    real = torch.randn(8, 4, generator=gen) + 2.0
    z = torch.randn(8, 2, generator=gen)
    return generator, discriminator, real, z


def _reference_d_step(generator: nn.Module, discriminator: nn.Module, real: torch.Tensor,
                      z: torch.Tensor, variant: str = "sum") -> None:
    """A discriminator step: correct ("sum" or "mean" of the two losses), or with a typical
    mistake (for comparison)."""
    optimizer = torch.optim.SGD(discriminator.parameters(), lr=0.1)
    fake = generator(z)
    if variant != "no detach":
        fake = fake.detach()
    real_label, fake_label = (0.0, 1.0) if variant == "labels swapped" else (1.0, 0.0)
    d_fake = discriminator(fake)
    if variant == "detach D output":
        d_fake = d_fake.detach()
    d_real = discriminator(real)
    loss = (F.binary_cross_entropy_with_logits(d_real, torch.full_like(d_real, real_label))
            + F.binary_cross_entropy_with_logits(d_fake, torch.full_like(d_fake, fake_label)))
    if variant == "mean":
        loss = loss / 2
    if variant != "no zero_grad":
        optimizer.zero_grad()
    loss.backward()
    optimizer.step()


_STALE_G_GRAD = 0.5  # the generator's .grad before the call: left over from its own step
_STALE_D_GRAD = 1.0  # the discriminator's: to catch a missing zero_grad


@speaks
def check_gan_discriminator_step(step_fn: Callable[..., Any], *,
                                 time_limit: float = DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check one discriminator update ``step_fn(generator, discriminator, d_optimizer, real, z)``.

    Chapter 3. The tiny GAN: ``generator = nn.Linear(2, 4)``, ``discriminator = nn.Linear(4, 1)``
    (returns logits), ``d_optimizer = SGD(discriminator.parameters(), lr=0.1)``, 8 real samples
    and 8 latent vectors. The step must make fakes with the generator, score real (label 1) and
    fake (label 0) samples with binary cross-entropy on logits, and update the discriminator.
    Both networks hold stale gradients before the call. Verified, in four cases: no gradient
    flows into the generator during the call (hooks on its parameters, so wiping it afterwards
    with ``generator.zero_grad()`` does not hide it); the generator's stale ``.grad`` is left
    untouched; its parameters are unchanged; the discriminator's parameters equal a correct
    step's — with the sum of the two losses or their average (one loss over the concatenated
    real and fake batch is that average).
    """
    name = "check_gan_discriminator_step"
    result = not_callable(name, step_fn, "discriminator_step")
    if result is not None:
        return result
    generator, discriminator, real, z = _gan_setup()
    references = {}
    for variant in ("sum", "mean", "detach D output", "labels swapped", "no zero_grad"):
        g_copy, d_copy = copy.deepcopy(generator), copy.deepcopy(discriminator)
        for p in d_copy.parameters():
            p.grad = torch.full_like(p, _STALE_D_GRAD)
        _reference_d_step(g_copy, d_copy, real, z, variant)
        references[variant] = _parameters(d_copy)
    start_g, start_d = _parameters(generator), _parameters(discriminator)
    d_optimizer = torch.optim.SGD(discriminator.parameters(), lr=0.1)
    for p in discriminator.parameters():
        p.grad = torch.full_like(p, _STALE_D_GRAD)  # stale gradients from an earlier step
    reached: list[str] = []  # filled in the child by the hooks below
    for p in generator.parameters():
        p.grad = torch.full_like(p, _STALE_G_GRAD)
        p.register_hook(lambda grad: reached.append("gradient") or grad)

    def observe(call: sandbox.Call, _value: Any) -> dict[str, Any]:
        g, d = call.args[0], call.args[1]
        return {"reached": bool(reached), "g": _parameters(g), "d": _parameters(d),
                "g_grad": [None if p.grad is None else p.grad.detach().clone()
                           for p in g.parameters()]}

    call = sandbox.Call((generator, discriminator, d_optimizer, real.clone(), z.clone()))
    answers = run_calls(step_fn, [call], time_limit, observe=observe)
    names = (msg("no gradient reaches the generator"), msg("the generator's .grad is untouched"),
             msg("the generator's parameters are unchanged"), msg("the discriminator is updated "
                                                             "correctly"))
    failure = answers.failure(0)
    report = answers.outcomes[0].observed if not failure else None  # type: ignore[union-attr]
    if failure or not isinstance(report, dict):
        text = failure or msg("the checker could not read the networks after your step")
        cases = [CaseResult(n, False, None, None, text) for n in names]
        return finish(name, cases, [], answers.repeated(len(cases)))
    grads = report.get("g_grad")
    untouched = isinstance(grads, list) and len(grads) == len(start_g) and all(
        isinstance(g, torch.Tensor) and bool((g == _STALE_G_GRAD).all()) for g in grads)
    wiped = isinstance(grads, list) and all(
        g is None or (isinstance(g, torch.Tensor) and not g.abs().sum().item()) for g in grads)
    reached_g = bool(report.get("reached"))
    cases = [
        CaseResult(names[0], not reached_g, None, None,
                   "" if not reached_g else msg("backward() computed gradients for the "
                                                "generator")),
        CaseResult(names[1], untouched, None, None,
                   "" if untouched else (
                       msg("the generator's .grad was reset (to None or zeros)") if wiped
                       else msg("the generator's .grad changed"))),
        CaseResult(names[2], _params_close(report.get("g"), start_g), None, None,
                   msg("the generator's parameters changed in a discriminator step")),
    ]
    messages = []
    if reached_g and wiped:
        messages.append(msg("Hint: your step let the gradient flow into the generator and then "
                            "wiped it (generator.zero_grad()). That hides the symptom, not the "
                            "cause: backward() still ran through the generator, and zeroing "
                            "wipes gradients the generator's own step may be collecting. "
                            "Detach the fake batch instead: fake = generator(z).detach()."))
    elif reached_g:
        messages.append(msg("Hint: detach the fake batch before the discriminator sees it "
                            "(fake = generator(z).detach(), or make it under torch.no_grad()): "
                            "otherwise backward() also flows into the generator."))
    elif not untouched:
        messages.append(msg("Hint: a discriminator step should not touch the generator at all: "
                            "your code changed the generator's .grad (generator.zero_grad()?), "
                            "which may hold gradients its own step still needs."))
    d_params = report.get("d")
    style = next((v for v in ("sum", "mean") if _params_close(d_params, references[v])), "")
    cases.append(CaseResult(names[3], bool(style), None, None,
                            "" if style else msg("the discriminator's parameters differ from a "
                                                 "correct step's")))
    if style == "mean":
        messages.append(msg("Your step uses the average of the two losses (or one loss over "
                            "the concatenated real and fake batch): accepted — its step is "
                            "half as large as with the sum."))
    elif not style:
        if _params_close(d_params, start_d):
            messages.append(msg("Hint: the discriminator did not change: call "
                                "d_optimizer.step() after loss.backward()."))
        elif _params_close(d_params, references["detach D output"]):
            messages.append(msg("Hint: detach the generator's output (the fake images), not "
                                "the discriminator's output: D(fake).detach() cuts the "
                                "discriminator's own gradient for the fake term."))
        elif _params_close(d_params, references["labels swapped"]):
            messages.append(msg("Hint: the labels are swapped: real samples are labelled 1, "
                                "fakes 0."))
        elif _params_close(d_params, references["no zero_grad"]):
            messages.append(msg("Hint: old gradients were added in: call "
                                "d_optimizer.zero_grad() before loss.backward()."))
        else:
            messages.append(msg("Hint: the loss should be BCE-with-logits of D(real) against 1 "
                                "plus BCE-with-logits of D(fake) against 0 (or their average), "
                                "and one d_optimizer step."))
    return finish(name, cases, messages, answers.repeated(len(cases)))


