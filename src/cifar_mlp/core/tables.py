"""Name → builder tables, and the one lookup that refuses a name without a builder.

Each choice a RunConfig names (optimizer, schedule, activation, initializer,
augmentation) is built from a table, never from an if-chain whose last branch
is a default: a name added to `config`'s choices but not to its table raises
here, naming what is known, instead of training something else under its name.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TypeVar

from cifar_mlp.config import ConfigError

Builder = TypeVar("Builder")


def lookup(table: Mapping[str, Builder], name, what: str) -> Builder:
    """`table[name]`, or a ConfigError naming the unknown `what` and the known names."""
    try:
        return table[name]
    except (KeyError, TypeError):  # TypeError: an unhashable name, e.g. a list
        close = difflib.get_close_matches(str(name), list(table), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown {what} {name!r}: there is no builder for it.{hint} "
                          f"Known: {', '.join(table)}.") from None
