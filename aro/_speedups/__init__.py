"""The WebSocket codec, JSON shaper and run counters, and the lexer's common-token scanner: each
the compiled extension when available, else its pure-Python twin.

``ARO_NO_EXTENSIONS=1`` forces the pure implementations (tests run both); ``IMPLEMENTATION``
names the codec in use (``aro --version`` prints it), ``LEXER_IMPLEMENTATION`` the scanner.
"""

import os

if os.environ.get("ARO_NO_EXTENSIONS") == "1":
    from aro._speedups import _pure as _impl
    from aro._speedups import _pure_lexer as _lexer_impl
else:
    try:
        from aro._speedups import _codec as _impl
    except ImportError:
        from aro._speedups import _pure as _impl
    try:
        from aro._speedups import _lexer as _lexer_impl
    except ImportError:
        from aro._speedups import _pure_lexer as _lexer_impl

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
LEXER_IMPLEMENTATION = _lexer_impl.LEXER_IMPLEMENTATION
CommonScanner = _lexer_impl.CommonScanner

# Each defined once, in the pure twin; the compiled builds reuse them.
__all__ = _impl.__all__ + _lexer_impl.__all__
