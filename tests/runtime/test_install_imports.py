"""Every third-party module that portal/ (its migrations included) and worker/ import (also inside functions)
must come with a plain `pip install .`: its distribution has to be in the closure of the installed `portal`
distribution's runtime requirements (Requires-Dist without an `extra ==` marker), not only in a test extra."""
import ast
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
OWN = {"portal", "worker"}


def imported_top_level_names() -> dict[str, set[str]]:
    """Top-level module name -> files importing it, for absolute imports anywhere in a module."""
    found: dict[str, set[str]] = {}
    for package in OWN:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def runtime_closure(dist_name: str) -> set[str]:
    """Canonical names of `dist_name` and everything its non-extra requirements pull in, recursively."""
    seen: set[str] = set()
    pending = [dist_name]
    while pending:
        name = canonicalize_name(pending.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # a requirement not installed here (other platform/Python): nothing below it to follow
        for line in requires:
            req = Requirement(line)
            if req.marker is not None and "extra" in str(req.marker):
                continue
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                pending.append(req.name)
    return seen


def test_every_third_party_import_is_a_runtime_dependency():
    providers = metadata.packages_distributions()
    runtime = runtime_closure("portal")
    missing = {}
    for module, files in sorted(imported_top_level_names().items()):
        if module in OWN or module in sys.stdlib_module_names or module == "__future__":
            continue
        dists = providers.get(module)
        assert dists, f"{module} (imported by {sorted(files)}) is not installed at all"
        if not any(canonicalize_name(d) in runtime for d in dists):
            missing[module] = (dists, sorted(files))
    assert not missing, f"imported but not runtime dependencies of portal: {missing}"


def test_gunicorn_is_a_runtime_dependency():
    # The README's production section serves the app with gunicorn.
    assert "gunicorn" in runtime_closure("portal")
