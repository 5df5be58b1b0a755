"""The weekly report reads the other apps only through the functions they offer for reading (issue #13).

reports → triage is the dependency rule's own edge: the report aggregates triage's tables into its own,
so it may use triage's models, its selectors, and its permissions (the roles its pages check). Of ops,
grouping and runbooks it may use the `selectors` module alone: a query on their models lives with them.
It never imports integrations. Every import is checked, at module level or inside a function.
"""

import ast
from pathlib import Path

import pytest

REPORTS = Path(__file__).resolve().parents[2] / "reports"
ALLOWED = {
    "triage": {"models", "selectors", "permissions"},
    "ops": {"selectors"},
    "grouping": {"selectors"},
    "runbooks": {"selectors"},
    "integrations": set(),
}


def imported_modules(tree) -> list[tuple[int, str]]:
    """(line, dotted module) of every absolute import; `from ops import selectors` counts as ops.selectors."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            top_only = "." not in node.module
            found += (
                [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
                if top_only
                else [(node.lineno, node.module)]
            )
    return found


def forbidden(module: str) -> bool:
    app, _, rest = module.partition(".")
    return app in ALLOWED and rest.split(".")[0] not in ALLOWED[app]


def breaks_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"{path.relative_to(REPORTS.parent)}:{line} imports {module}"
        for line, module in imported_modules(tree)
        if forbidden(module)
    ]


@pytest.mark.parametrize(
    "path", sorted(REPORTS.rglob("*.py")), ids=lambda path: str(path.relative_to(REPORTS))
)
def test_reports_reads_other_apps_only_through_their_selectors(path):
    assert breaks_in(path) == []


def broken_by(source: str) -> list[str]:
    return [module for _, module in imported_modules(ast.parse(source)) if forbidden(module)]


@pytest.mark.parametrize(
    "source",
    [
        "from ops.models import DataFixRequest",
        "from grouping import models",
        "import runbooks.stats",
        "def f():\n    from integrations import demo",
        "from triage.services import activity_record",
    ],
)
def test_the_check_catches_a_direct_import(source):
    assert broken_by(source), source


@pytest.mark.parametrize(
    "source",
    [
        "from ops.selectors import items_waiting_on_ops",
        "from grouping import selectors",
        "from triage.models import TriageItem",
        "from . import figures",
        "from common.medians import grouped_medians",
    ],
)
def test_the_check_lets_the_allowed_reads_through(source):
    assert broken_by(source) == []
