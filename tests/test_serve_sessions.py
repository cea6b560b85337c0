"""The session store: bounded, idle sessions expire (never busy ones), ids are checked and namespaced by kind."""

import threading

import pytest

from recgym.serve.sessions import ServerFull, SessionBusy, SessionNotFound, SessionStore


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


def test_the_store_is_bounded_and_frees_room_by_expiry_or_removal(clock):
    store = SessionStore(max_clients=2, idle_timeout=10.0, clock=clock)
    store.create("gym", "a", "state a")
    clock.now += 6
    store.create("gym", "b", "state b")
    with pytest.raises(ServerFull, match="maximum of 2 sessions"):
        store.create("gym", "c", "state c")
    clock.now += 4.5  # a idle 10.5 s, b 4.5 s: only a expires, making room for c
    store.create("gym", "c", "state c")
    assert ("gym", "a") not in store and ("gym", "b") in store and len(store) == 2
    assert store.expired_total == 1
    store.remove("gym", "b")
    store.create("gym", "d", "state d")
    with pytest.raises(SessionNotFound, match="no session 'b'"):
        store.remove("gym", "b")


def test_using_a_session_refreshes_it_and_a_busy_session_never_expires(clock):
    store = SessionStore(max_clients=4, idle_timeout=10.0, clock=clock)
    store.create("gym", "a", 1)
    clock.now += 9
    with store.use("gym", "a") as session:
        assert session.state == 1
        clock.now += 50  # a long request: the session is active, so it stays
        assert store.expire() == 0
    clock.now += 9.9
    assert store.expire() == 0  # last use was at the end of the request
    clock.now += 0.2
    assert store.expire() == 1
    with pytest.raises(SessionNotFound, match="expired after 10 s"), store.use("gym", "a"):
        pass


def test_kinds_are_separate_namespaces(clock):
    store = SessionStore(max_clients=4, idle_timeout=10.0, clock=clock)
    store.create("gym", "same", "gym state")
    with pytest.raises(SessionNotFound, match="GET /reset"), store.use("rating", "same"):
        pass
    store.create("rating", "same", "rating state")
    with store.use("gym", "same") as gym_session, store.use("rating", "same") as rating_session:
        assert (gym_session.state, rating_session.state) == ("gym state", "rating state")


@pytest.mark.parametrize("client_id", ["", "a" * 129, "a b", "a/b", "é", None, 5])
def test_client_ids_are_checked(client_id, clock):
    store = SessionStore(max_clients=4, idle_timeout=10.0, clock=clock)
    with pytest.raises(ValueError, match="client id must be 1 to 128 characters"):
        store.create("gym", client_id, None)


def test_issued_ids_are_long_distinct_and_valid():
    ids = {SessionStore.new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 22 and SessionStore.check_id(i) == i for i in ids)


@pytest.mark.parametrize(("knob", "value"), [("max_clients", 0), ("max_clients", 1.5), ("idle_timeout", 0.0),
                                             ("idle_timeout", float("inf"))])
def test_bad_limits_are_refused(knob, value):
    kwargs = {"max_clients": 4, "idle_timeout": 1.0, knob: value}
    with pytest.raises(ValueError, match=knob):
        SessionStore(**kwargs)


def test_requests_on_one_session_run_one_after_the_other():
    store = SessionStore(max_clients=4, idle_timeout=60.0)
    store.create("gym", "a", [])
    inside, overlaps = [0], []

    def work():
        for _ in range(200):
            with store.use("gym", "a") as session:
                inside[0] += 1
                overlaps.append(inside[0])
                session.state.append(1)
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert max(overlaps) == 1
    with store.use("gym", "a") as session:
        assert len(session.state) == 800


def test_a_non_blocking_use_of_a_busy_session_raises_at_once(clock):
    store = SessionStore(max_clients=4, idle_timeout=10.0, clock=clock)
    store.create("gym", "a", 1)
    with store.use("gym", "a"):
        with pytest.raises(SessionBusy, match="serving another request"), store.use("gym", "a", blocking=False):
            pass
        assert store.peek("gym", "a") == 1
    with store.use("gym", "a", blocking=False) as session:  # free again
        assert session.active == 1
    clock.now += 11
    assert store.expire() == 1  # the failed attempt left the session inactive
