"""Installs moopt; ``problems/`` and ``adapters/`` land under the ``moopt`` namespace."""

from setuptools import find_packages, setup

core = find_packages(include=["moopt", "moopt.*"])
problems = ["moopt.problems" + p[len("problems"):] for p in find_packages(include=["problems", "problems.*"])]
adapters = ["moopt.adapters" + p[len("adapters"):] for p in find_packages(include=["adapters", "adapters.*"])]

setup(
    name="moopt",
    version="0.1.0",
    description="Multi-objective optimization with device-aware neural architecture search on top",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=core + problems + adapters,
    package_dir={"moopt": "moopt", "moopt.problems": "problems", "moopt.adapters": "adapters"},
    # PEP 561: the package (moopt.problems and moopt.adapters included) ships its inline types
    package_data={"moopt": ["py.typed"],
                  # the NAS-Bench-201 real-device table, its build script's provenance and licenses
                  "moopt.problems": ["data/*.npz", "data/*.md", "data/LICENSE.*"]},
    install_requires=[
        "numpy>=1.24",
        "moocore>=0.1.4",
        "pymoo>=0.6.1",
        "deap>=1.4",
        "scikit-learn>=1.3",
        "scipy>=1.10",
        "click>=8.1",
        "matplotlib>=3.7",
        # WFG hypervolume, fastest for >= 6 objectives
        "hvwfg>=1.0.2",
        # the TOML parser of `moopt nas ... --config` (stdlib tomllib from Python 3.11)
        "tomli>=1.1; python_version < '3.11'",
    ],
    extras_require={
        "torch": ["torch>=2.1", "torchvision>=0.16"],
        "dist": ["dask[distributed]>=2024.1"],
        # the checks `make test` runs: the suite, the linter and the type checker
        "test": ["pytest>=8", "pytest-xdist>=3", "hypothesis>=6.100", "ruff>=0.6", "mypy>=1.10",
                 # exercises the ONNX export of `moopt nas export` (optional for users)
                 "onnx>=1.15"],
        # the documentation site that `make test` builds (mkdocs build --strict)
        # (pinned: a strict build turns any new warning of a newer version into a failure)
        "docs": ["mkdocs==1.6.1", "mkdocstrings[python]==1.0.8", "mkdocstrings-python==2.0.11",
                 "pymdown-extensions>=10"],
        # pygmo: fastest exclusive HV contributions for >= 4 objectives (optional)
        "fast": ["pygmo>=2.19"],
        # numba: paretoset's compiled filter, the fastest peer on random sets (moopt itself compiles nothing)
        "bench": ["optuna>=3.5", "paretoset>=1.2", "pygmo>=2.19", "numba>=0.58"],
    },
    entry_points={"console_scripts": ["moopt=moopt.cli:_entry"]},
)
