"""Graded cases for chapter 3's code exercises that train: a loop and a GAN discriminator step.

Used by :mod:`convlab.grading`. Each case is a small dict of plain numbers (a seed and sizes).
In the parent, :func:`training_call` / :func:`gan_call` build the models, optimizer and data of
a case; :func:`convlab.sandbox.run` forks, calls the learner's function on them in the child and
runs the ``observe_*`` function there after the call, which reports the state the exercise is
about (parameters, whether a gradient reached the generator, its ``.grad``) as plain tensors.
The ``judge_*`` functions then rebuild the same case in the parent, run a correct reference
step on it with PyTorch, and compare. Nothing from the learner's process is trusted beyond
that plain data.
"""

from __future__ import annotations

import math
import random
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from convlab import sandbox
from convlab.checks_autograd import seeded_linear
from convlab.i18n import message as msg

Case = dict[str, Any]

STALE_G_GRAD = 0.5
"""The generator's ``.grad`` before a discriminator step (left over from its own step)."""
STALE_D_GRAD = 1.0
"""The discriminator's ``.grad`` before the step: a missing ``zero_grad`` adds it in."""


def parameters(model: nn.Module) -> list[torch.Tensor]:
    """Plain copies of a module's parameters."""
    return [p.detach().clone().as_subclass(torch.Tensor) for p in model.parameters()]


def _close(got: Any, want: list[torch.Tensor]) -> bool:
    """Same parameters; ``got`` is data decoded from the child (never raises)."""
    return (type(got) is list and len(got) == len(want) and all(
        type(p) is torch.Tensor and p.shape == q.shape
        and bool(torch.allclose(p.double(), q.double(), atol=1e-6, rtol=1e-5))
        for p, q in zip(got, want, strict=True)))


# --------------------------------------------------------------------------- training loop

def training_case(rng: random.Random) -> Case:
    """A regression task for ``train(model, optimizer, batches, loss_fn)``."""
    return {"seed": rng.randint(0, 10**6), "n_in": rng.randint(1, 5), "n_out": rng.randint(1, 3),
            "batches": rng.randint(2, 6), "batch_size": rng.randint(2, 9),
            "lr": rng.choice([0.05, 0.1, 0.2])}


def _training_setup(case: Case) -> tuple[nn.Linear, list[tuple[torch.Tensor, torch.Tensor]]]:
    gen = torch.Generator().manual_seed(case["seed"])
    true_w = torch.randn(case["n_out"], case["n_in"], generator=gen)
    batches = []
    for _ in range(case["batches"]):
        x = torch.randn(case["batch_size"], case["n_in"], generator=gen)
        noise = 0.1 * torch.randn(case["batch_size"], case["n_out"], generator=gen)
        batches.append((x, x @ true_w.T + noise))
    return seeded_linear(gen, case["n_in"], case["n_out"]), batches


def training_call(case: Case) -> sandbox.Call:
    """The learner's call: a fresh model, ``SGD(lr)``, the batches and ``nn.MSELoss()``."""
    model, batches = _training_setup(case)
    optimizer = torch.optim.SGD(model.parameters(), lr=case["lr"])
    return sandbox.Call((model, optimizer, batches, nn.MSELoss()))


def observe_training(call: sandbox.Call, _value: Any) -> list[torch.Tensor]:
    """In the child, after the call: the model's parameters."""
    return parameters(call.args[0])


def _reference_training(case: Case) -> tuple[list[torch.Tensor], list[float]]:
    model, batches = _training_setup(case)
    optimizer = torch.optim.SGD(model.parameters(), lr=case["lr"])
    losses = []
    for x, y in batches:
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return parameters(model), losses


def judge_training(got: tuple[Any, Any], case: Case) -> tuple[bool, str]:
    """``got`` = (returned losses, observed parameters): both must match a correct loop."""
    losses, params = got
    want_params, want_losses = _reference_training(case)
    if not _close(params, want_params):
        return False, msg("the parameters after training differ from a correct loop's")
    values = losses if type(losses) in (list, tuple) else None
    if values is None or len(values) != len(want_losses):
        return False, msg("return one loss per batch ({n}), got {got}", n=len(want_losses),
                          got=repr(losses)[:150])
    for got_loss, want in zip(values, want_losses, strict=True):
        number = got_loss.item() if (type(got_loss) is torch.Tensor
                                     and got_loss.numel() == 1) else got_loss
        if type(number) not in (int, float) or not math.isclose(number, want, rel_tol=1e-4,
                                                                abs_tol=1e-6):
            return False, msg("the returned losses differ from a correct loop's")
    return True, ""


# --------------------------------------------------------------------------- GAN step

def gan_case(rng: random.Random) -> Case:
    """A tiny GAN for ``discriminator_step(generator, discriminator, d_optimizer, real, z)``."""
    return {"seed": rng.randint(0, 10**6), "latent": rng.randint(1, 4),
            "features": rng.randint(2, 6), "batch": rng.randint(2, 10)}


def _gan_setup(case: Case) -> tuple[nn.Linear, nn.Linear, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(case["seed"])
    generator = seeded_linear(gen, case["latent"], case["features"])
    discriminator = seeded_linear(gen, case["features"], 1)
    real = torch.randn(case["batch"], case["features"], generator=gen) + 2.0
    z = torch.randn(case["batch"], case["latent"], generator=gen)
    return generator, discriminator, real, z


class _Generator(nn.Module):
    """The case's generator, which records (in the child) whether backward reached it.

    Two records: a hook on each parameter, and the stale ``.grad`` tensors with their version
    counters — a step that lets backward in and then puts values back (``fill_``, ``copy_``, a
    new tensor) changes the object or bumps the counter, which no Python code can reset.
    """

    def __init__(self, inner: nn.Linear) -> None:
        super().__init__()
        self.inner = inner
        reached: list[bool] = []
        self.__reached = reached.copy   # a snapshot, so clearing it changes nothing recorded
        for p in inner.parameters():
            p.grad = torch.full_like(p, STALE_G_GRAD)
            p.register_hook(lambda grad: reached.append(True) or grad)
        self.__stale = tuple((p.grad, p.grad._version) for p in inner.parameters())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.inner(z)

    def report(self) -> tuple[bool, bool]:
        """(backward reached a parameter, every stale ``.grad`` is the same, untouched tensor)."""
        untouched = all(p.grad is grad and grad._version == version
                        for p, (grad, version) in zip(self.inner.parameters(), self.__stale,
                                                      strict=True))
        return bool(self.__reached()), untouched


def gan_call(case: Case) -> sandbox.Call:
    """The learner's call; both networks hold stale gradients, as after an earlier step."""
    generator, discriminator, real, z = _gan_setup(case)
    for p in discriminator.parameters():
        p.grad = torch.full_like(p, STALE_D_GRAD)
    d_optimizer = torch.optim.SGD(discriminator.parameters(), lr=0.1)
    return sandbox.Call((_Generator(generator), discriminator, d_optimizer, real, z))


def observe_gan(call: sandbox.Call, _value: Any) -> dict[str, Any]:
    """In the child, after the call: what the step did to both networks."""
    generator, discriminator = call.args[0], call.args[1]
    reached, untouched = generator.report()
    return {"reached": reached, "untouched": untouched, "g": parameters(generator.inner),
            "g_grad": [None if p.grad is None else p.grad.detach().clone().as_subclass(
                torch.Tensor) for p in generator.inner.parameters()],
            "d": parameters(discriminator)}


def _reference_gan(case: Case, halve: bool) -> list[torch.Tensor]:
    generator, discriminator, real, z = _gan_setup(case)
    optimizer = torch.optim.SGD(discriminator.parameters(), lr=0.1)
    fake = generator(z).detach()
    d_real, d_fake = discriminator(real), discriminator(fake)
    loss = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
            + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
    if halve:
        loss = loss / 2
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return parameters(discriminator)


def judge_gan(got: tuple[Any, Any], case: Case) -> tuple[bool, str]:
    """The step must leave the generator alone and update the discriminator correctly."""
    report = got[1]
    if type(report) is not dict:
        return False, msg("the grader could not read the networks after your step")
    generator, _discriminator, _real, _z = _gan_setup(case)
    grads = report.get("g_grad")
    if report.get("reached") is not False:
        return False, msg("backward() computed gradients for the generator (detach the fakes)")
    if report.get("untouched") is not True or not (type(grads) is list and grads and all(
            type(g) is torch.Tensor and bool((g == STALE_G_GRAD).all()) for g in grads)):
        return False, msg("the generator's .grad changed (was it reset?)")
    if not _close(report.get("g"), parameters(generator)):
        return False, msg("the generator's parameters changed")
    if not any(_close(report.get("d"), _reference_gan(case, halve)) for halve in (False, True)):
        return False, msg("the discriminator's parameters differ from a correct step's")
    return True, ""
