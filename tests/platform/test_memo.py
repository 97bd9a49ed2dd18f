from opencx.platform import memo
from opencx.platform.memo import Recent


def test_a_value_is_remembered_for_its_seconds_then_forgotten(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(memo.time, "monotonic", lambda: now[0])
    recent = Recent(seconds=5, size=10)
    recent.put("a", 1)
    assert recent.get("a") == 1
    now[0] = 104.9
    assert recent.get("a") == 1
    now[0] = 105.0
    assert recent.get("a") is None


def test_it_never_holds_more_than_its_size_and_forgets_on_request():
    recent = Recent(seconds=60, size=2)
    recent.put("a", 1)
    recent.put("b", 2)
    recent.put("c", 3)  # full: starts again empty
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (None, None, 3)
    recent.forget("c")
    recent.forget("missing")
    assert recent.get("c") is None
