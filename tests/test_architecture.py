"""The floor plan is enforced: the import-linter contracts in setup.cfg must hold, plugin and task
code imports only the public API, and docs/architecture.md names every package of the core."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: what plugin and task code may import of tom_harness (docs/api.md, docs/tasks.md)
PUBLIC = ("tom_harness", "tom_harness.api", "tom_harness.task_yamls.helpers")
LINT = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def test_import_contracts_hold():
    # the linter runs in this interpreter, so it checks the tom_harness these tests import
    done = subprocess.run([sys.executable, "-c", LINT, "--config", str(ROOT / "setup.cfg"), "--no-cache"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
    assert "ignore" not in (ROOT / "setup.cfg").read_text().split("[importlinter]")[1]


def project_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import of tom_harness in ``path``, nested ones included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
    return [(n, m) for n, m in out if m == "tom_harness" or m.startswith("tom_harness.")]


def test_plugins_and_task_code_import_only_the_public_api():
    """Also what import-linter cannot see: task folders (no __init__.py, loaded by lm-eval from
    their path) and absolute imports of ``tom_harness.plugins.*`` / ``tom_harness.task_yamls.*``."""
    bad = []
    for folder in ("plugins", "task_yamls"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            bad += [f"{path.relative_to(ROOT)}:{n}: {m}" for n, m in project_imports(path) if m not in PUBLIC]
    assert not bad, "import from tom_harness / tom_harness.api only:\n" + "\n".join(bad)


def test_the_checker_sees_a_private_import(tmp_path):
    sample = tmp_path / "utils.py"
    sample.write_text("def f():\n    from tom_harness.model.surgery import keep\n", encoding="utf-8")
    assert project_imports(sample) == [(2, "tom_harness.model.surgery")]


def test_every_core_package_is_on_the_architecture_map():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    packages = sorted(p.name for p in (ROOT / "harness").iterdir() if (p / "__init__.py").is_file())
    assert len(packages) >= 11
    missing = [p for p in packages if f"harness/{p}/" not in text]
    assert not missing, f"docs/architecture.md does not name: {missing}"


def test_no_module_over_300_lines():
    long = [f"{p.relative_to(ROOT)}: {n}" for folder in ("harness", "plugins", "task_yamls")
            for p in sorted((ROOT / folder).rglob("*.py")) if (n := len(p.read_text(encoding="utf-8").splitlines())) > 300]
    assert not long, "split these modules (one job each):\n" + "\n".join(long)
