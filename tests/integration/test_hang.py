"""A hanging Maelis costs one timeout, not two (issue 8 point 10): with a WSDL
copy on disk the zeep client is built from it at once (the copy refreshed in
the background), and calls queued behind a WSDL read that failed share its
error. Over loopback: a real HTTP server that stops answering."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from maelis_desk.maelis import MaelisClient, MaelisUnavailable

from loopback import LoopbackServer


@pytest.fixture
def hanging(simulator):
    """A server serving the simulator's WSDLs until `state['hang']` is set, then answering nothing."""
    state = {"hang": False, "wsdl_gets": 0}
    release = threading.Event()

    def answer(method, path, body):
        if state["hang"]:
            release.wait(30)
            return 503, "text/plain", b"too late\n"
        if method == "GET" and path.endswith("?wsdl"):
            state["wsdl_gets"] += 1
            service = path.split("?", 1)[0].rsplit("/", 1)[-1]
            wsdl = requests.get(f"{simulator.url}/{service}?wsdl", timeout=5)
            return 200, "text/xml", wsdl.content
        return 404, "text/plain", b"no\n"

    with LoopbackServer(answer) as server:
        state["url"] = f"{server.origin}/maelisws-demo/services"
        yield state
        release.set()


def test_with_a_copy_a_hang_costs_one_timeout(hanging, tmp_path):
    first = MaelisClient(hanging["url"], "demo", "demo", timeout=5, wsdl_dir=tmp_path)
    first.connect()  # keeps the copies
    first.close()
    assert len(list(tmp_path.glob("*.wsdl"))) == 2
    hanging["hang"] = True
    client = MaelisClient(hanging["url"], "demo", "demo", timeout=1, wsdl_dir=tmp_path)
    started = time.monotonic()
    with pytest.raises(MaelisUnavailable) as info:
        client.read_regies()
    elapsed = time.monotonic() - started
    assert "n'a pas répondu à temps" in info.value.message
    assert elapsed < 1.6, elapsed  # the call's timeout only; it was ~2 s (the WSDL's first)
    assert len(list(tmp_path.glob("*.wsdl"))) == 2  # the failed refresh kept the copy
    client.close()


def test_calls_queued_behind_a_failed_wsdl_do_not_wait_again(hanging):
    hanging["hang"] = True
    client = MaelisClient(hanging["url"], "demo", "demo", timeout=1, wsdl_dir=None)
    errors = []

    def read():
        try:
            client.read_regies()
        except MaelisUnavailable as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(3)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    elapsed = time.monotonic() - started
    assert len(errors) == 3
    assert elapsed < 1.6, elapsed  # one WSDL timeout for the three, not three in a row
    client.close()


def test_the_copy_is_refreshed_in_the_background(hanging, tmp_path):
    first = MaelisClient(hanging["url"], "demo", "demo", timeout=5, wsdl_dir=tmp_path)
    first.connect()
    first.close()
    assert hanging["wsdl_gets"] == 2
    for copy in tmp_path.glob("*.wsdl"):
        copy.write_bytes(copy.read_bytes().replace(b"<", b"\n<", 1))  # still valid XML, but not Maelis' bytes
    second = MaelisClient(hanging["url"], "demo", "demo", timeout=5, wsdl_dir=tmp_path)
    second.connect()
    assert second.transport.wait_refreshed(10)
    assert hanging["wsdl_gets"] == 4
    assert all(not c.read_bytes().startswith(b"\n") for c in tmp_path.glob("*.wsdl"))
    second.close()
