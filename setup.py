"""Package mapping only; metadata lives in pyproject.toml.

The repository keeps ``generator/``, ``runtime/`` and ``generated/`` at the top
level (DESIGN.md), installed as ``dicompile.generator``, ``dicompile.runtime``
and ``dicompile.generated``.  setuptools' pyproject-only discovery cannot remap
a tree under a new prefix, so the packages are listed here.
"""

from setuptools import find_packages, setup

_TOPS = ("generator", "runtime", "generated")

packages: list[str] = []
for top in _TOPS:
    packages.append(f"dicompile.{top}")
    packages.extend(f"dicompile.{top}.{sub}" for sub in find_packages(top))

setup(
    packages=packages,
    package_dir={f"dicompile.{top}": top for top in _TOPS},
    package_data={f"dicompile.{top}": ["py.typed", "**/*.j2", "**/*.json"] for top in _TOPS},
    include_package_data=True,
)
