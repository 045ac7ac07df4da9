"""The optional block matcher (native/blockmatch.cc): the per-line loop in C++
against the system's RE2 (on Debian: g++, python3-dev and libre2-dev).

It is optional: without a compiler or RE2's headers the build goes on without
it and the engine matches through google-re2, with the same results, about
twice slower.  LOGSIEVE_NATIVE=0 builds without it on purpose (a pure Python
wheel that installs on any Python and platform).  Everything else about the
package is in pyproject.toml.
"""

import os

from setuptools import Extension, setup

native = [] if os.environ.get("LOGSIEVE_NATIVE") == "0" else [
    Extension(
        "logsieve._blockmatch",
        sources=["native/blockmatch.cc"],
        libraries=["re2"],
        extra_compile_args=["-std=c++17", "-O2"],
        language="c++",
        optional=True,
    )
]

setup(ext_modules=native)
