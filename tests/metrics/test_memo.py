"""The identity memo behind the SQL caches: one build per owner object and key, never an
entry of another object that happens to have an equal value, oldest entries dropped."""
from metrics.memo import IdentityMemo


class Owner:
    def __init__(self, name):
        self.name = name

    def __eq__(self, other):  # equal values, distinct objects
        return isinstance(other, Owner) and other.name == self.name

    __hash__ = None


def test_built_once_per_owner_and_key():
    memo, calls = IdentityMemo(8), []
    a, b = Owner("m"), Owner("m")

    def build(tag):
        return lambda: calls.append(tag) or tag

    assert memo.get((a,), ("k",), build("a")) == "a"
    assert memo.get((a,), ("k",), build("again")) == "a"
    assert memo.get((b,), ("k",), build("b")) == "b"  # an equal model is not the same one
    assert memo.get((a,), ("other",), build("a2")) == "a2"
    assert calls == ["a", "b", "a2"]


def test_least_recently_used_goes_first():
    memo, a = IdentityMemo(2), Owner("m")
    memo.get((a,), (1,), lambda: 1)
    memo.get((a,), (2,), lambda: 2)
    memo.get((a,), (1,), lambda: "rebuilt")   # 1 is now the most recent
    memo.get((a,), (3,), lambda: 3)           # drops 2
    assert len(memo) == 2
    assert memo.get((a,), (1,), lambda: "rebuilt") == 1
    assert memo.get((a,), (2,), lambda: "rebuilt") == "rebuilt"
