"""Stopping criteria from configuration text: ``NAME``, ``NAME(key=value,...)``, ``any(...)``.

The same text works in ``alflow.json`` (``active_learning.stopping``, a list) and on the
command line (``--stopping`` with the items separated by commas)::

    max-iterations(max_iterations=20)
    label-budget(budget=500)
    kappa-average(kappa=0.95,window_size=2)
    any(delta-f,all(overall-uncertainty(threshold=0.1),label-budget(budget=300)))

Values are numbers, ``true``/``false`` or bare words (``metric=macro_f1``). ``any``/``all``
take criteria instead of values. :func:`build_criterion` supplies ``num_classes`` to the
criteria that take it and fills missing values from ``defaults`` (per criterion name); the
canonical text (:meth:`Spec.text`) names the criterion in reports and stored history.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from al_core.errors import ConfigError
from al_core.stopping.base import StoppingCriterion

COMBINATIONS = ("any", "all")
_TOKEN = re.compile(r"\s*([A-Za-z0-9_.+\-]+|[(),=])")


@dataclass(frozen=True)
class Spec:
    """A parsed criterion: its name, its parameters, and (for any/all) its children."""

    name: str
    params: tuple[tuple[str, Any], ...] = ()
    children: tuple[Spec, ...] = ()

    def text(self) -> str:
        """Canonical text: parameters sorted by name, no spaces."""
        inner = [f"{k}={_format(v)}" for k, v in sorted(self.params)]
        inner += [c.text() for c in self.children]
        return f"{self.name}({','.join(inner)})" if inner else self.name


def split_specs(value: str | Iterable[str]) -> list[str]:
    """Top-level items of a comma-separated list (commas inside parentheses stay)."""
    items = [value] if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        depth, start = 0, 0
        text = str(item)
        for i, ch in enumerate(text):
            depth += ch == "("
            depth -= ch == ")"
            if ch == "," and depth == 0:
                out.append(text[start:i])
                start = i + 1
        out.append(text[start:])
    return [s.strip() for s in out if s.strip()]


def parse_spec(text: str) -> Spec:
    """Parse one criterion's text; raises :class:`ConfigError` naming the problem."""
    tokens = _tokenize(text)
    spec, pos = _parse(tokens, 0, text)
    if pos != len(tokens):
        raise ConfigError(f"stopping criterion {text!r}: unexpected {tokens[pos]!r}")
    return spec


def build_criterion(
    spec: str | Spec,
    *,
    num_classes: int,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> StoppingCriterion:
    """A fresh criterion for ``spec``; its :attr:`~StoppingCriterion.spec` is the canonical text."""
    from al_core.stopping import REGISTRY

    parsed = parse_spec(spec) if isinstance(spec, str) else spec
    if parsed.name not in REGISTRY:
        raise ConfigError(
            f"unknown stopping criterion {parsed.name!r}; choose one of {', '.join(REGISTRY)}"
        )
    cls = REGISTRY[parsed.name]
    if parsed.name in COMBINATIONS:
        children = [
            build_criterion(c, num_classes=num_classes, defaults=defaults) for c in parsed.children
        ]
        criterion = cls(children)
    else:
        criterion = _construct(cls, parsed, num_classes, (defaults or {}).get(parsed.name, {}))
    criterion.spec = parsed.text()
    return criterion


def build_criteria(
    specs: str | Sequence[str],
    *,
    num_classes: int,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[StoppingCriterion]:
    """One criterion per top-level item of ``specs``; the same criterion twice is an error."""
    criteria = [
        build_criterion(s, num_classes=num_classes, defaults=defaults) for s in split_specs(specs)
    ]
    seen: set[str] = set()
    for c in criteria:
        if c.label in seen:
            raise ConfigError(f"stopping criterion {c.label!r} is given twice")
        seen.add(c.label)
    return criteria


def _construct(cls: type, spec: Spec, num_classes: int, defaults: Mapping[str, Any]):
    signature = inspect.signature(cls.__init__)
    accepted = [p for p in signature.parameters if p not in ("self", "num_classes")]
    if spec.children:
        raise ConfigError(
            f"stopping criterion {spec.name!r} takes key=value parameters, not criteria"
        )
    params = {k: v for k, v in defaults.items() if k in accepted}
    params.update(dict(spec.params))
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        takes = ", ".join(accepted) or "no parameters"
        raise ConfigError(
            f"stopping criterion {spec.name!r} has no parameter {', '.join(unknown)} "
            f"(it takes {takes})"
        )
    missing = [
        name
        for name, p in signature.parameters.items()
        if name in accepted and p.default is inspect.Parameter.empty and name not in params
    ]
    if missing:
        example = ",".join(f"{m}=..." for m in missing)
        raise ConfigError(
            f"stopping criterion {spec.name!r} needs {', '.join(missing)}, "
            f"e.g. {spec.name}({example})"
        )
    if "num_classes" in signature.parameters:
        params["num_classes"] = num_classes
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"stopping criterion {spec.text()!r}: {exc}") from None


def _tokenize(text: str) -> list[str]:
    tokens, pos = [], 0
    text = str(text)
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ConfigError(f"stopping criterion {text!r}: cannot read {text[pos:]!r}")
        tokens.append(m.group(1))
        pos = m.end()
    if not tokens:
        raise ConfigError("empty stopping criterion")
    return tokens


def _parse(tokens: list[str], pos: int, text: str) -> tuple[Spec, int]:
    name = tokens[pos]
    if name in "(),=":
        raise ConfigError(f"stopping criterion {text!r}: expected a name, got {name!r}")
    pos += 1
    if pos >= len(tokens) or tokens[pos] != "(":
        return Spec(name), pos
    pos += 1
    params: list[tuple[str, Any]] = []
    children: list[Spec] = []
    while True:
        if pos >= len(tokens):
            raise ConfigError(f"stopping criterion {text!r}: missing ')'")
        if tokens[pos] == ")":
            pos += 1
            break
        if pos + 1 < len(tokens) and tokens[pos + 1] == "=":
            if name in COMBINATIONS:
                raise ConfigError(f"{name}(...) takes criteria, not {tokens[pos]}=...")
            if pos + 2 >= len(tokens) or tokens[pos + 2] in "(),=":
                raise ConfigError(f"stopping criterion {text!r}: {tokens[pos]}= needs a value")
            params.append((tokens[pos], _value(tokens[pos + 2])))
            pos += 3
        else:
            child, pos = _parse(tokens, pos, text)
            children.append(child)
        if pos < len(tokens) and tokens[pos] == ",":
            pos += 1
        elif pos >= len(tokens):
            raise ConfigError(f"stopping criterion {text!r}: missing ')'")
        elif tokens[pos] != ")":
            raise ConfigError(f"stopping criterion {text!r}: expected ',' or ')'")
    keys = [k for k, _ in params]
    if len(set(keys)) != len(keys):
        raise ConfigError(f"stopping criterion {text!r}: a parameter is given twice")
    if name in COMBINATIONS and not children:
        raise ConfigError(f"{name}(...) needs at least one criterion inside")
    return Spec(name, tuple(params), tuple(children)), pos


def _value(token: str) -> Any:
    low = token.lower()
    if low in ("true", "false"):
        return low == "true"
    for convert in (int, float):
        try:
            return convert(token)
        except ValueError:
            pass
    return token


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)
