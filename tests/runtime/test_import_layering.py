"""DESIGN.md: nothing in the runtime imports generated code at import time.

The generated registries are looked up lazily, so the runtime stays importable while
generated/ is being regenerated (or is broken half-way by a failed generation).
"""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import importlib, pkgutil, sys
import dicompile.runtime as runtime
for info in pkgutil.walk_packages(runtime.__path__, "dicompile.runtime."):
    if info.name.endswith("__main__"):
        continue  # running it would start the command line
    importlib.import_module(info.name)
loaded = sorted(name for name in sys.modules if name.startswith("dicompile.generated"))
print("\\n".join(loaded))
"""


def test_importing_every_runtime_module_loads_no_generated_module() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == []
