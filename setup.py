"""Packaging beyond what pyproject.toml can say: the scenario library inside the wheel.

The library lives at the top of the repository (``scenarios/``); a built wheel carries it as
``simulator/scenarios`` so an installed carriersim serves it (see ``BUNDLED_SCENARIOS``).
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["simulator*", "client*"]),
        "simulator.scenarios",
        "simulator.scenarios.plans",
    ],
    package_dir={"simulator.scenarios": "scenarios"},
    package_data={
        "simulator": ["*.json"],
        "simulator.dashboard": ["templates/*.html", "static/*"],
        "simulator.scenarios": ["*.yaml", "*.json"],
        "simulator.scenarios.plans": ["*.yaml"],
    },
)
