"""Start-up faults, `make up` end to end, and the compose file."""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import psutil
import yaml

from tests.servers import ROOT, free_port


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KPP_")}
    env.update(KPP_ENV="dev", KPP_LOG_JSON="false", **extra)
    return env


def _cli(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ops.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_unreachable_database_is_one_line_naming_host_and_port():
    port = free_port()
    env = _env(
        KPP_DATABASE_URL=f"postgresql+asyncpg://kpp:s3cret@127.0.0.1:{port}/kpp",
        KPP_PORT_BASE=str(free_port() - 10),
    )
    result = _cli("worker", "registry", env=env)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert f"127.0.0.1:{port}" in lines[0] and "s3cret" not in lines[0]
    assert "Traceback" not in result.stderr


def test_unreachable_redis_is_one_line():
    port = free_port()
    env = _env(KPP_DATABASE_URL=os.environ["KPP_DATABASE_URL"], KPP_REDIS_URL=f"redis://127.0.0.1:{port}/0")
    result = _cli("worker", "scoring", env=env)
    assert result.returncode != 0
    assert f"127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr


def test_port_in_use_says_which():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _cli(
            "serve",
            "registry",
            "--port",
            str(port),
            env=_env(
                KPP_DATABASE_URL=os.environ["KPP_DATABASE_URL"], KPP_REDIS_URL=os.environ["KPP_REDIS_URL"]
            ),
        )
    assert result.returncode != 0
    assert f"127.0.0.1:{port}" in result.stderr and "registry" in result.stderr
    assert "Traceback" not in result.stderr


BANNER_END = "按 Ctrl-C 停止全部进程"


class _Output:
    """Reads a process's output on a thread, so the test can wait for a line."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, marker: str, proc: subprocess.Popen, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(marker in line for line in self.lines):
                return
            if proc.poll() is not None:
                self.thread.join(5)
                raise AssertionError(f"make up exited early:\n{self.text()}")
            time.sleep(0.2)
        raise AssertionError(f"make up did not print its banner in time:\n{self.text()}")


def _up_once(data_dir: Path, base: int) -> tuple[str, set[int]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ops.cli", "up"],
        cwd=ROOT,
        env=_env(KPP_DATA_DIR=str(data_dir), KPP_PORT_BASE=str(base)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = _Output(proc)
    try:
        # the banner comes once the gateway's /readyz is green for make up itself
        output.wait_for(BANNER_END, proc)
        with urllib.request.urlopen(f"http://127.0.0.1:{base}/readyz", timeout=5) as r:
            assert r.status == 200
        body = urllib.parse.urlencode({"username": "zdb", "password": "Kpp@2026"}).encode()
        with urllib.request.urlopen(f"http://127.0.0.1:{base}/api/v1/auth/token", body) as r:
            assert r.status == 200
        # issue 17: the printed overview URL answers with the page
        assert f"http://127.0.0.1:{base}/overview" in output.text()
        with urllib.request.urlopen(f"http://127.0.0.1:{base}/overview", timeout=5) as r:
            assert r.status == 200 and "重点项目建设亮晒总览" in r.read().decode()
        children = {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
        children |= _servers_under(data_dir)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        output.thread.join(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    out = output.text()
    assert proc.returncode == 0, out
    return out, children


def _servers_under(data_dir: Path) -> set[int]:
    found = set()
    for p in psutil.process_iter(["cmdline"]):
        if any(str(data_dir.resolve()) in part for part in (p.info["cmdline"] or [])):
            found.add(p.pid)
    return found


def test_make_up_runs_everything_on_embedded_servers_and_ctrl_c_leaves_nothing():
    data_dir = ROOT / ".kpp" / f"test-up-{uuid.uuid4().hex[:6]}"
    base = 20000 + (os.getpid() % 2000) * 5
    try:
        _check_up_twice(data_dir, base)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _check_up_twice(data_dir: Path, base: int) -> None:
    out, children = _up_once(data_dir, base)
    assert "演示账号" in out and f"http://127.0.0.1:{base}" in out
    assert "demo data gateway: loaded" in out
    time.sleep(1)
    alive = [
        pid
        for pid in children
        if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    ]
    assert alive == [], f"processes left behind: {alive}"
    # a second `make up` re-uses the data
    out, _ = _up_once(data_dir, base)
    assert "demo data gateway: already there" in out


def test_compose_file_names_only_modules_and_commands_that_exist():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("gateway", "registry", "approvals", "issues", "scoring"):
        assert services[name]["healthcheck"]["test"]
    for name in ("registry", "approvals", "issues", "scoring", "postgres", "redis"):
        assert services["gateway"]["depends_on"][name]["condition"] == "service_healthy"
    for name, svc in services.items():
        if svc.get("image", "").startswith(("postgres", "redis")):
            continue
        command = svc["command"]
        assert command[:3] == ["python", "-m", "ops.cli"], name
        target = command[4] if len(command) > 4 else None
        if command[3] == "serve":
            assert importlib.import_module(f"services.{target}.app").app
        elif command[3] == "worker":
            assert importlib.import_module(f"services.{target}.worker").WorkerSettings
            check = svc["healthcheck"]["test"]
            module, _, attr = check[-1].rpartition(".")
            assert getattr(importlib.import_module(module), attr)
        else:
            assert command[3] == "migrate"
        for dep in svc.get("depends_on", {}).values():
            assert dep["condition"] in ("service_healthy", "service_completed_successfully")
