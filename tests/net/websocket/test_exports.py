"""The public names of ``aro.net.websocket``: ``__all__`` is exactly what it offers."""

import types

import aro.net.websocket as websocket
from aro.net.websocket import CloseCode


def test_all_names_what_the_package_offers():
    public = {
        name
        for name, value in vars(websocket).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert sorted(websocket.__all__) == sorted(public)


def test_every_name_in_all_is_importable():
    namespace: dict = {}
    exec(f"from aro.net.websocket import {', '.join(websocket.__all__)}", namespace)
    assert all(name in namespace for name in websocket.__all__)


def test_close_codes_are_the_registered_numbers():
    assert CloseCode.NORMAL_CLOSURE == 1000
    assert CloseCode.GOING_AWAY == 1001
    assert CloseCode.PROTOCOL_ERROR == 1002
    assert CloseCode.UNSUPPORTED_DATA == 1003
    assert CloseCode.NO_STATUS_RCVD == 1005
    assert CloseCode.ABNORMAL_CLOSURE == 1006
    assert CloseCode.INVALID_DATA == 1007
    assert CloseCode.POLICY_VIOLATION == 1008
    assert CloseCode.MESSAGE_TOO_BIG == 1009
    assert CloseCode.MANDATORY_EXTENSION == 1010
    assert CloseCode.INTERNAL_ERROR == 1011
    assert CloseCode.SERVICE_RESTART == 1012
    assert CloseCode.TRY_AGAIN_LATER == 1013
    assert CloseCode.BAD_GATEWAY == 1014
    assert CloseCode.TLS_HANDSHAKE == 1015
