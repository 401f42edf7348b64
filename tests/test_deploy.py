"""The systemd units of deploy/ run what the Procfile runs, and systemd accepts them."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNITS = ROOT / "deploy" / "systemd"
INSTALLED = "/opt/callback-desk"
ENV_FILE = "/etc/callback-desk/callback-desk.env"
PROCESSES = {
    "web": "callback-desk-web.service",
    "worker": "callback-desk-worker@.service",
    "cron": "callback-desk-cron.service",
}


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def unit_settings(name: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_each_unit_runs_the_procfile_command_from_the_installed_venv(process):
    [exec_start] = unit_settings(PROCESSES[process])["ExecStart"]
    assert exec_start.startswith(f"{INSTALLED}/.venv/bin/")
    # systemd has no ${NAME:-default}: the environment file sets every variable the line uses.
    expected = re.sub(r"\$\{(\w+):-[^}]*\}", r"${\1}", procfile()[process])
    assert exec_start.removeprefix(f"{INSTALLED}/.venv/bin/") == expected


@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_each_unit_is_restarted_and_reads_the_environment_file(process):
    settings = unit_settings(PROCESSES[process])
    assert settings["Restart"] == ["always"]
    assert settings["EnvironmentFile"] == [ENV_FILE]
    assert settings["WorkingDirectory"] == [INSTALLED]


def test_the_environment_example_sets_what_the_command_lines_use():
    example = (ROOT / "deploy" / "callback-desk.env.example").read_text()
    defined = {line.split("=", 1)[0] for line in example.splitlines() if "=" in line and not line.startswith("#")}
    used = {name for line in procfile().values() for name in re.findall(r"\$\{(\w+)", line)}
    assert used <= defined
    from app.config import from_environment

    known = set(from_environment({})) | {"DATABASE_URL", "PORT", "WEB_CONCURRENCY", "BIND_ADDRESS"}
    assert defined <= known, f"not settings of the desk: {defined - known}"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units(tmp_path):
    """`systemd-analyze verify`, with the units pointed at this checkout instead of /opt."""
    for unit in UNITS.iterdir():
        text = (
            unit.read_text()
            .replace(INSTALLED, str(ROOT))
            .replace(ENV_FILE, str(ROOT / "deploy/callback-desk.env.example"))
        )
        (tmp_path / unit.name).write_text(text)
    shutil.copy(tmp_path / "callback-desk-worker@.service", tmp_path / "callback-desk-worker@1.service")
    names = [
        "callback-desk-web.service",
        "callback-desk-cron.service",
        "callback-desk-worker@1.service",
        "callback-desk.target",
    ]
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *names], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "callback-desk" not in result.stderr, result.stderr
