"""The WebSocket codec, JSON shaper and run counters: the compiled extension when available,
else the twin.

``ARO_NO_EXTENSIONS=1`` forces the pure implementation (tests run both); ``IMPLEMENTATION``
names the one in use (``aro --version`` prints it).
"""

import os

if os.environ.get("ARO_NO_EXTENSIONS") == "1":
    from aro._speedups import _pure as _impl
else:
    try:
        from aro._speedups import _codec as _impl
    except ImportError:
        from aro._speedups import _pure as _impl

IMPLEMENTATION = _impl.IMPLEMENTATION
OP_CONT = _impl.OP_CONT
OP_TEXT = _impl.OP_TEXT
OP_BINARY = _impl.OP_BINARY
OP_CLOSE = _impl.OP_CLOSE
OP_PING = _impl.OP_PING
OP_PONG = _impl.OP_PONG
OP_ERROR = _impl.OP_ERROR
OP_COMPRESSED_TEXT = _impl.OP_COMPRESSED_TEXT
OP_COMPRESSED_BINARY = _impl.OP_COMPRESSED_BINARY
FeatureSetStats = _impl.FeatureSetStats
FrameParser = _impl.FrameParser
JsonShaper = _impl.JsonShaper
Outbox = _impl.Outbox
apply_mask = _impl.apply_mask
encode_close = _impl.encode_close
encode_frame = _impl.encode_frame
step_in_context = _impl.step_in_context
validate_utf8 = _impl.validate_utf8

__all__ = _impl.__all__  # defined once, in _pure.py; the compiled build reuses it
