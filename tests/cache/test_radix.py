"""The radix tree alone: matching, splitting, redundant inner states, locks and eviction order."""
from __future__ import annotations

from edge_runtime.cache.radix import RadixTree


def test_match_finds_the_longest_stored_prefix_and_splits_edges():
    tree = RadixTree()
    tree.insert([1, 2, 3, 4, 5], "a")
    tree.insert([1, 2, 3, 9], "b")  # splits the edge after [1, 2, 3]
    assert tree.match([1, 2, 3, 4, 5, 6])[0] == 5
    length, node = tree.match([1, 2, 3, 7])
    assert length == 3 and {leaf.value for leaf in tree.leaves()} == {"a", "b"}
    assert tree.best_leaf(node).value == "b", "the most recently used state under the branch point"
    assert tree.match([8, 1])[0] == 0


def test_a_longer_path_makes_the_inner_state_redundant():
    tree = RadixTree()
    tree.insert([1, 2, 3], "turn1")
    node, dropped = tree.insert([1, 2, 3, 4, 5], "turn2")
    assert dropped == ["turn1"] and node.value == "turn2" and node.depth() == 5
    assert [leaf.value for leaf in tree.leaves()] == ["turn2"]
    covered, nothing = tree.insert([1, 2, 3, 4], "shorter")
    assert covered is None and nothing == [], "a stored longer path already holds a prefix of it"


def test_eviction_takes_the_least_recently_used_unlocked_leaf_and_prunes_its_branch():
    tree = RadixTree()
    old, _ = tree.insert([1, 2, 3], "old")
    new, _ = tree.insert([1, 5, 6], "new")
    assert [n.value for n in tree.evictable()] == ["old", "new"]
    tree.touch(old)
    assert [n.value for n in tree.evictable()] == ["new", "old"]
    tree.lock(new)
    assert [n.value for n in tree.evictable()] == ["old"], "a running request's path is pinned"
    tree.unlock(new)
    assert tree.remove(old) == "old"
    assert tree.match([1, 2, 3])[0] == 1 and [n.value for n in tree.leaves()] == ["new"]
