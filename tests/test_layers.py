"""The layering of DESIGN §1, as `make lint` checks it with import-linter (.importlinter)."""

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
#: The packages that sit above the core: what a browser sees and the command line.
INTERFACES = {"web", "cli"}


def contract_layers() -> list[str]:
    config = configparser.ConfigParser()
    config.read(PROJECT / ".importlinter")
    return [line.strip() for line in config["importlinter:contract:layers"]["layers"].splitlines() if line.strip()]


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS)], cwd=tree, capture_output=True, text=True, timeout=300)


def test_every_module_of_the_core_is_in_the_core_layer():
    core = {name.strip() for name in contract_layers()[-1].split(":")}
    modules = {
        f"app.{path.stem if path.is_file() else path.name}"
        for path in (PROJECT / "app").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    assert core == modules - {f"app.{name}" for name in INTERFACES}


def test_the_tree_keeps_its_layers():
    result = lint_imports(PROJECT)
    assert result.returncode == 0, result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    tree = tmp_path / "tree"
    for name in ("app", "ivr", "callbacks", "emulator", "autotask_standin"):
        shutil.copytree(
            PROJECT / name, tree / name, ignore=shutil.ignore_patterns("__pycache__", "templates", "static")
        )
    shutil.copy(PROJECT / ".importlinter", tree / ".importlinter")
    queue = tree / "callbacks" / "queue.py"
    queue.write_text(queue.read_text() + "\nfrom app.web import board  # the engine reaching up into a page\n")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "callbacks.queue -> app.web.board" in result.stdout
