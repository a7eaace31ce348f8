"""What the package reads from its own folder ships in the wheel: every file under
``bayesgmm/`` that is not Python source is matched by ``[tool.setuptools.package-data]``
(QA93: ``bayesgmm run --help`` cited files a ``pip install`` did not have)."""

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "bayesgmm"


def test_every_data_file_of_the_package_is_shipped():
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["bayesgmm"]
    files = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".py", ".pyc")]
    assert "io/spec_template.toml" in files and "data/old_faithful.csv" in files
    unshipped = [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)]
    assert unshipped == [], f"add these to [tool.setuptools.package-data]: {unshipped}"
