"""Pick the compute device once per process: CUDA when torch sees a GPU, else the CPU.

torch is imported lazily (and only once), so calling :func:`pick_device` on a machine without
torch is cheap and returns ``"cpu"``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

_VALID = ("cpu", "cuda")


class DeviceUnavailableError(RuntimeError):
    """An explicitly requested device (``"cuda"``) is not available in this process."""


@functools.cache
def cuda_available() -> bool:
    """True when torch imports and sees at least one CUDA device (decided once per process)."""
    try:
        import torch
    except ImportError:
        return False
    try:
        return bool(torch.cuda.is_available())
    except Exception:  # a broken driver must not take the CPU path down with it
        return False


def pick_device(prefer: str | None = None) -> str:
    """Return ``"cuda"`` or ``"cpu"``.

    ``prefer=None`` (or ``"auto"``) picks CUDA when available, else CPU. An explicit ``"cpu"``
    always wins; an explicit ``"cuda"`` (or ``"cuda:N"``) raises
    :class:`DeviceUnavailableError` when no GPU is usable instead of silently running on CPU.
    """
    if prefer is None or prefer == "auto":
        return "cuda" if cuda_available() else "cpu"
    choice = str(prefer).strip().lower()
    base = choice.split(":", 1)[0]
    if base not in _VALID:
        raise ValueError(f"unknown device {prefer!r}; use 'cpu', 'cuda' or None (auto)")
    if base == "cuda" and not cuda_available():
        raise DeviceUnavailableError(
            f"device {prefer!r} was requested but CUDA is not available in this process "
            "(torch missing, a CPU-only build, or no visible GPU); use 'cpu' or None (auto)"
        )
    return choice


def single_thread_blas():
    """A context in which NumPy/SciPy BLAS calls use one thread (restored on exit).

    The linear models of alflow fit on at most a few thousand rows, where BLAS threads cost
    more than they give: measured on a busy 2-core machine, one embedding-logreg fit on 525
    rows took 2.4-2.8 s with two OpenBLAS threads and 0.02 s with one.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run torch's CPU kernels on ``n`` threads inside the block (``None``: leave as is).

    torch defaults to one thread per physical core; on a shared machine a model that should
    not take every core sets ``n`` and gets the old value back afterwards.
    """
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def autocast(device: str, enabled: bool = True) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA (fp16 where the GPU has no bf16); full precision on CPU."""
    if not (enabled and str(device).startswith("cuda")):
        return contextlib.nullcontext()
    import torch

    return torch.autocast(device_type="cuda", dtype=autocast_dtype())


def autocast_dtype() -> object:
    """The mixed-precision dtype of this GPU: bfloat16 when supported, else float16."""
    import torch

    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
