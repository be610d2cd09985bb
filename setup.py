"""Build the Cython speedups; install pure Python when they cannot be compiled.

The extensions (the WebSocket codec, the lexer's common-token scanner) are optional by design:
``aro._speedups`` falls back to their pure-Python twins, so
a machine without a C compiler still gets a working (slower) runtime.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SPEEDUPS = "aro/_speedups"


class OptionalBuildExt(build_ext):
    """Report a failed compile and carry on instead of failing the install."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # any compiler failure means "go pure"
            self.warn(f"aro._speedups not compiled ({error}); using the pure-Python codec")

    def build_extension(self, ext) -> None:
        try:
            super().build_extension(ext)
        except Exception as error:
            self.warn(f"{ext.name} not compiled ({error}); using the pure-Python codec")


def extensions() -> list:
    if os.environ.get("ARO_NO_EXTENSIONS") == "1":
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    # -O3 lets GCC vectorise the unmask loop (the DESIGN target is tens of GB/s).
    flags = [] if sys.platform == "win32" else ["-O3"]
    codec = Extension(
        "aro._speedups._codec",
        [f"{SPEEDUPS}/_codec.pyx"],
        include_dirs=[SPEEDUPS],  # the C kernels it includes
        depends=[f"{SPEEDUPS}/_mask.h", f"{SPEEDUPS}/_utf8.h"],
        extra_compile_args=flags,
    )
    lexer = Extension(
        "aro._speedups._lexer", [f"{SPEEDUPS}/_lexer.pyx"], extra_compile_args=flags
    )
    return cythonize(
        [codec, lexer],
        compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False},
        quiet=True,
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
