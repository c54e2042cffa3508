"""Point 7 of issue 8: a redirect never carries the envelope (and password) to another origin."""

from __future__ import annotations

import pytest

from maelis_desk.maelis import MaelisClient, MaelisProtocolError

from integration_helpers import DEMO_FAMILY
from loopback import LoopbackServer


@pytest.mark.parametrize("mode", ["redirect307", "redirect308"])
def test_a_redirect_to_another_port_is_a_protocol_error_and_sends_nothing_there(simulator, tmp_path, mode):
    with LoopbackServer() as elsewhere:
        simulator.redirect_to = elsewhere.origin
        client = MaelisClient(simulator.url, "demo", "demo", timeout=2, wsdl_dir=tmp_path / "wsdl")
        try:
            client.connect()  # WSDLs are fetched normally
            simulator.set_fault(mode)
            with pytest.raises(MaelisProtocolError) as caught:
                client.read_family(DEMO_FAMILY)
        finally:
            client.close()
        assert elsewhere.received == []  # neither the envelope nor the password went there
        message = caught.value.message
        assert "redirection" in message and mode[-3:] in message
        assert elsewhere.origin in message  # it names where it pointed


def test_the_desk_reading_through_a_redirect_falls_back_on_the_cache(simulator, make_desk):
    with LoopbackServer() as elsewhere:
        simulator.redirect_to = elsewhere.origin
        desk = make_desk()
        desk.reader.family(DEMO_FAMILY)
        simulator.set_fault("redirect307")
        family, freshness = desk.reader.family(DEMO_FAMILY)
        assert family.number == DEMO_FAMILY and freshness.from_cache
        assert "redirection" in freshness.error
        assert elsewhere.received == []


def test_a_redirect_within_the_configured_origin_is_followed(simulator, tmp_path):
    """Same scheme, host and port: following it sends nothing to anyone else."""
    simulator.redirect_to = simulator.origin + "/moved"  # a path of the same server: 404 there
    client = MaelisClient(simulator.url, "demo", "demo", timeout=2, wsdl_dir=tmp_path / "wsdl")
    try:
        client.connect()
        simulator.set_fault("redirect307")
        with pytest.raises(MaelisProtocolError) as caught:
            client.read_family(DEMO_FAMILY)
    finally:
        client.close()
    assert "HTTP 404" in caught.value.message  # followed, then the 404 of the same server
