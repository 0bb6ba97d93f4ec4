"""The parsed form of a flow search filter: what storages compile and :func:`matches` evaluates.

Values are already typed and normalised by the parser (:mod:`seedata_core.filters`):

- ``id``: ``int`` (``in``/``nin``: a tuple of ints), clamped to the signed 64-bit range, which
  keeps every comparison's meaning because stored ids never reach the bounds;
- ``timestamp``: ``int`` UTC epoch seconds (the display zone already applied);
- ``camera``, ``plate``: lower-case ``str``; for ``similar``, the plate's look-alike canonical form;
- ``trigger_mode``: ``str``; ``score``: ``float``.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Field = Literal["id", "timestamp", "camera", "plate", "trigger_mode", "score"]
Operator = Literal["=", "!=", ">", ">=", "<", "<=", "in", "nin", "like", "similar"]


class Cond(msgspec.Struct, frozen=True):
    """``field op value``."""

    field: Field
    op: Operator
    value: int | float | str | tuple[int, ...]


class And(msgspec.Struct, frozen=True):
    """All of ``items``; ``And(())`` matches every flow."""

    items: tuple[Node, ...]


class Or(msgspec.Struct, frozen=True):
    """Any of ``items``; ``Or(())`` matches no flow."""

    items: tuple[Node, ...]


class Not(msgspec.Struct, frozen=True):
    """The negation of ``item``."""

    item: Node


Node = Cond | And | Or | Not

MATCH_ALL: Node = And(())


def is_match_all(node: Node) -> bool:
    """True when ``node`` places no condition at all."""
    return isinstance(node, And) and all(is_match_all(item) for item in node.items)
