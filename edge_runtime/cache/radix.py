"""A radix tree over token ids: the one structure that owns prefix matching, insertion, lock counts of
running requests and least-recently-used eviction of leaves (as SGLang's radix cache does).

A value stored at a node stands for the whole path from the root to it: llama.cpp saves a sequence's
KV cache as one state, not per block. A state covers every shorter prefix too (restore it, then drop
the tail), so a value on an inner node is redundant once a longer path through it has one: insertion
drops it. Values therefore sit on leaves only, and a leaf without one is pruned.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

_clock = itertools.count()  # a use counter, not wall time: two uses in one tick still order


@dataclass(eq=False)
class Node:
    key: tuple[int, ...]  # the edge's tokens from the parent
    parent: "Node | None" = None
    children: dict[int, "Node"] = field(default_factory=dict)
    value: Any = None
    locks: int = 0  # running requests whose path passes through here
    used: int = field(default_factory=lambda: next(_clock))

    def depth(self) -> int:
        """Tokens from the root to the end of this node's edge."""
        n, node = 0, self
        while node is not None:
            n, node = n + len(node.key), node.parent
        return n


def _common(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class RadixTree:
    def __init__(self) -> None:
        self.root = Node(())

    def match(self, ids: Sequence[int]) -> tuple[int, Node]:
        """(tokens of `ids` on a path of the tree, the node whose subtree holds that point); the root
        with 0 when not even the first token is there."""
        node, pos = self.root, 0
        while pos < len(ids):
            child = node.children.get(ids[pos])
            if child is None:
                break
            n = _common(child.key, ids[pos:pos + len(child.key)])
            pos += n
            node = child
            if n < len(child.key):
                break
        return pos, node

    def best_leaf(self, node: Node) -> Node | None:
        """The most recently used valued leaf under `node` (itself included): any of them holds the
        path down to `node`."""
        leaves = [n for n in self._subtree(node) if n.value is not None]
        return max(leaves, key=lambda n: n.used, default=None)

    def insert(self, ids: Sequence[int], value: Any) -> tuple[Node | None, list[Any]]:
        """Store `value` for the path `ids`: (its node, values it made redundant, for the caller to free).

        When a longer stored path already holds `ids`, nothing is stored (None) and that path counts as used.
        """
        pos, node = self.match(ids)
        beyond = node.depth() - pos  # tokens of the last edge past the match (0: it matched whole)
        if beyond:
            if pos == len(ids):  # ends inside an edge: a longer path covers it
                self.touch(self.best_leaf(node))
                return None, []
            node = self._split(node, len(node.key) - beyond)
        if pos == len(ids) and node.children:
            self.touch(self.best_leaf(node))
            return None, []
        if pos < len(ids):
            leaf = Node(tuple(ids[pos:]), parent=node)
            node.children[ids[pos]] = leaf
            node = leaf
        dropped = [n.value for n in self._path(node) if n.value is not None]
        for n in self._path(node):
            n.value = None
        node.value = value
        self.touch(node)
        return node, dropped

    def _split(self, child: Node, n: int) -> Node:
        """Cut `child`'s edge after n tokens; the new inner node is returned."""
        parent = child.parent
        assert parent is not None
        inner = Node(child.key[:n], parent=parent, used=child.used)
        parent.children[child.key[0]] = inner
        child.key, child.parent = child.key[n:], inner
        inner.children[child.key[0]] = child
        inner.locks = child.locks
        return inner

    def _path(self, node: Node) -> Iterator[Node]:
        """`node` and its ancestors up to (not including) the root."""
        while node is not None and node is not self.root:
            yield node
            node = node.parent  # type: ignore[assignment]

    def _subtree(self, node: Node) -> Iterator[Node]:
        stack = [node]
        while stack:
            n = stack.pop()
            yield n
            stack.extend(n.children.values())

    def touch(self, node: Node | None) -> None:
        """Mark a path as just used: its leaf goes to the back of the eviction order."""
        if node is not None:
            tick = next(_clock)
            for n in self._path(node):
                n.used = tick

    def lock(self, node: Node) -> None:
        """A running request depends on this path: its nodes are not evicted until `unlock`."""
        for n in self._path(node):
            n.locks += 1

    def unlock(self, node: Node) -> None:
        for n in self._path(node):
            n.locks -= 1

    def leaves(self) -> list[Node]:
        """Valued leaves, least recently used first (locked ones included)."""
        return sorted((n for n in self._subtree(self.root) if n.value is not None), key=lambda n: n.used)

    def evictable(self) -> list[Node]:
        """Unlocked valued leaves, least recently used first: the eviction order."""
        return [n for n in self.leaves() if n.locks == 0 and not n.children]

    def remove(self, node: Node) -> Any:
        """Drop a leaf's value and prune the branch nothing else needs; the value is returned to free."""
        value, node.value = node.value, None
        while node is not self.root and node.value is None and not node.children and node.locks == 0:
            parent = node.parent
            assert parent is not None
            del parent.children[node.key[0]]
            node = parent
        return value
