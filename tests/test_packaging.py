"""What an installed carriersim carries: the wheel holds the scenario library and its schemas."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from simulator.settings import BUNDLED_SCENARIOS

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "setup.py", "README.md", "simulator", "client", "scenarios")


def test_the_built_wheel_carries_the_library_and_serves_it(tmp_path: Path) -> None:
    # Built from a copy, so the build leaves nothing behind in the working tree.
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(ROOT / name, src / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, src / name)
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--wheel-dir", str(dist)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("carriersim-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = [p.relative_to(BUNDLED_SCENARIOS) for p in BUNDLED_SCENARIOS.rglob("*")]
    for rel in shipped:
        if rel.suffix in (".yaml", ".json"):
            assert f"simulator/scenarios/{rel.as_posix()}" in names, rel
    assert "simulator/admin_openapi.json" in names
    # The dashboard's pages and assets, or /__admin/ui would fail in an installed copy.
    dashboard = Path(__file__).parents[1] / "simulator" / "dashboard"
    for asset in [*dashboard.glob("templates/*.html"), *dashboard.glob("static/*")]:
        assert f"simulator/dashboard/{asset.relative_to(dashboard).as_posix()}" in names, asset
    assert "client/cli.py" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "carriersim = simulator.cli:main" in text and "track = client.cli:main" in text

    # Installed (unpacked where an installer puts it), it finds its own library.
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = f"""
import json, sys
sys.path.insert(0, {str(site)!r})
import simulator
from simulator.settings import BUNDLED_SCENARIOS
from simulator.loader import load_paths
from simulator.admin import OPENAPI
print(json.dumps({{
    "module": simulator.__file__,
    "library": str(BUNDLED_SCENARIOS),
    "scenarios": len(load_paths([BUNDLED_SCENARIOS])),
    "plan": (BUNDLED_SCENARIOS / "plans" / "ups-bad-day.yaml").is_file(),
    "schema": (BUNDLED_SCENARIOS / "scenario.schema.json").is_file(),
    "openapi": json.loads(OPENAPI.read_text())["openapi"],
}}))
"""
    ran = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    seen = json.loads(ran.stdout)
    assert seen["module"].startswith(str(site))
    assert seen["library"] == str(site / "simulator" / "scenarios")
    assert seen["scenarios"] == len(list(BUNDLED_SCENARIOS.glob("*.yaml")))
    assert seen["plan"] and seen["schema"] and seen["openapi"].startswith("3.")
