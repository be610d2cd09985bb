"""Codec primitives: the compiled extension when available, else the pure-Python twin.

``ARO_NO_EXTENSIONS=1`` forces the pure implementation (tests run both).
"""

import os

if os.environ.get("ARO_NO_EXTENSIONS") == "1":
    from aro._speedups._pure import IMPLEMENTATION, apply_mask
else:
    try:
        from aro._speedups._codec import IMPLEMENTATION, apply_mask
    except ImportError:
        from aro._speedups._pure import IMPLEMENTATION, apply_mask

__all__ = ["IMPLEMENTATION", "apply_mask"]
