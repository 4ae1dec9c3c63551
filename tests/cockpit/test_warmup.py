"""Views computed before anyone opens them (`cockpit.warmup`): after the ingest job warms the
overview, a leader opening it computes nothing; a department head's scope is not served
from the whole hospital's entries; a failing callback does not fail the warm-up."""
from __future__ import annotations

import pytest

from cockpit.auth import User, set_current
from tests.cockpit.conftest import TINY_AS_OF, copy_tiny


@pytest.fixture()
def app(tiny_golden, tmp_path, monkeypatch):
    from cockpit import data
    from cockpit.server import build

    monkeypatch.setenv("COCKPIT_HOME", str(tmp_path))
    monkeypatch.delenv("COCKPIT_REDIS_URL", raising=False)
    app, _jobs, _token = build(str(copy_tiny(tiny_golden, tmp_path)), start_jobs=False)
    monkeypatch.setattr(data, "now", lambda: TINY_AS_OF)  # one minute throughout
    yield app
    set_current(None)


@pytest.fixture()
def computed(monkeypatch):
    """Queries that reached the warehouse (not the result cache)."""
    import metrics.service

    calls = []
    real = metrics.service.run

    def counting(spec, *a, **k):
        calls.append(spec)
        return real(spec, *a, **k)

    monkeypatch.setattr(metrics.service, "run", counting)
    return calls


def open_page(path: str, user: User, app) -> int:
    from cockpit.warmup import page_open_callbacks

    set_current(user)
    cbs = [c for c in page_open_callbacks(app) if c[0] == path]
    for _path, _name, fn, args in cbs:
        fn(*args)
    return len(cbs)


def test_after_warming_the_overview_opens_from_the_cache(app, computed):
    from cockpit.warmup import warm

    assert app.server.test_client().get("/login").status_code == 200  # Dash moves its
    # callbacks into the app's own map on the first request: the warm-up must still find them
    detail = warm(app, ["/"])
    n = open_page("/", User("director", "leader"), app)
    assert n >= 8 and detail.startswith(f"warmed {n} of {n} callback(s) of /")
    warmed = len(computed)
    assert warmed > 10  # the overview's queries ran once, in the warm-up
    open_page("/", User("director", "leader"), app)
    assert len(computed) == warmed  # the leader's opening computed nothing
    open_page("/", User("head", "dept_head", departments=("D0105",)), app)
    assert len(computed) > warmed  # another scope: its own queries, never the hospital's


def test_the_warm_up_runs_as_nobody_in_particular_and_survives_a_failure(app, monkeypatch):
    from cockpit import warmup
    from cockpit.auth import current_user

    real = warmup.page_open_callbacks

    def with_a_broken_one(app=None):
        def broken(*_):
            raise RuntimeError("panel bug")
        return real(app) + [("/", "overview.broken", broken, [])]

    monkeypatch.setattr(warmup, "page_open_callbacks", with_a_broken_one)
    me = User("engineer", "engineer")
    set_current(me)
    detail = warmup.warm(app, ["/"])
    n = len([c for c in real(app) if c[0] == "/"])
    assert detail.startswith(f"warmed {n} of {n + 1} callback(s)")
    assert current_user() is me  # the job's thread gets its own user back
