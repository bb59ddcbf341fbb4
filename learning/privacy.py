"""Privacy helpers shared by every report on groups of people: small groups stay hidden.

A figure about a group of fewer than the threshold would show individuals. Hiding it alone is
not enough: the parent's figure minus the shown siblings gives the hidden group back. So the
next-smallest siblings are hidden too, until the hidden ones together reach the threshold
(complementary suppression), and a hidden parent hides all of its children, whose sum would
give the parent back.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

# Acknowledgement rates and other counts of people are shown only for groups at least this big.
MIN_GROUP_SIZE = 5


def groups_to_hide(sizes: Sequence[int], minimum: int = MIN_GROUP_SIZE) -> set[int]:
    """Indexes of the siblings to hide: the small ones, then the next-smallest until enough are hidden.

    An empty group (size 0) has nothing to protect and is never counted as small; it is hidden
    only as the complement of a small sibling, which never helps, so it is skipped there too.
    """
    small = {i for i, size in enumerate(sizes) if 0 < size < minimum}
    if not small:
        return set()
    hidden = set(small)
    hidden_total = sum(sizes[i] for i in small)
    shown = sorted((i for i, size in enumerate(sizes) if i not in hidden and size > 0), key=lambda i: (sizes[i], i))
    while shown and hidden_total < minimum:
        index = shown.pop(0)
        hidden.add(index)
        hidden_total += sizes[index]
    return hidden


def suppress_small_groups(siblings: list, minimum: int = MIN_GROUP_SIZE, *,
                          size: Callable[[Any], int] = lambda unit: unit.rate.targeted,
                          hide: Callable[[Any], None] | None = None) -> None:
    """Mark siblings too small to show (and the next-smallest) as hidden.

    By default the siblings are report rows with a ``rate`` holding ``targeted`` people and a
    ``hidden`` flag (the acknowledgement report); ``size`` and ``hide`` adapt it to other rows.
    """
    def hide_rate(unit) -> None:
        unit.rate.hidden = True

    for index in groups_to_hide([size(unit) for unit in siblings], minimum):
        (hide or hide_rate)(siblings[index])


def hidden_in_tree(sizes: dict[Hashable, int], children: dict[Hashable, Iterable[Hashable]], root: Hashable,
                   minimum: int) -> set[Hashable]:
    """The nodes of a unit tree (overall -> departments -> teams) whose figures must not be shown.

    ``sizes`` gives each node's number of answers (or people), ``children`` each node's child
    nodes; a node's children must together cover it, so a "rest" node (answers that belong to no
    shown child) is a child like any other. A root below the threshold hides everything.
    """
    hidden: set[Hashable] = set()

    def hide_all(node: Hashable) -> None:
        hidden.add(node)
        for child in children.get(node, ()):
            hide_all(child)

    def walk(node: Hashable) -> None:
        kids = list(children.get(node, ()))
        if node in hidden:
            for kid in kids:
                hide_all(kid)
            return
        for index in groups_to_hide([sizes.get(kid, 0) for kid in kids], minimum):
            hidden.add(kids[index])
        for kid in kids:
            walk(kid)

    if sizes.get(root, 0) < minimum:
        hide_all(root)
        return hidden
    walk(root)
    return hidden
