"""What the package reads from its own folder ships in the wheel: every file under
``bayesgmm/`` that is not Python source is matched by ``[tool.setuptools.package-data]``
(QA93: ``bayesgmm run --help`` cited files a ``pip install`` did not have)."""

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
    # as setuptools expands them, relative to the package: "*" does not cross a folder
    # (QA98: fnmatch's does, and "*.toml" passed where the wheel shipped no template)
    shipped = {p.relative_to(PACKAGE).as_posix() for g in globs for p in PACKAGE.glob(g)}
    unshipped = [f for f in files if f not in shipped]
    assert unshipped == [], f"add these to [tool.setuptools.package-data]: {unshipped}"
