"""`make up`: the whole platform on one machine.

Without ``KPP_DATABASE_URL`` / ``KPP_REDIS_URL`` it starts an embedded PostgreSQL and
Valkey with their data under ``./.kpp/`` (re-used by the next `make up`); then it applies
every service's migrations, loads the demo data on first start, starts the gateway, the
four services and their workers, and prints the URLs and demo logins. Ctrl-C stops
everything it started.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from ops.preflight import PreflightError, check_port_free, check_services
from shared.settings import SERVICE_PORTS, get_settings

WORKER_SERVICES = ("gateway", "registry", "approvals", "issues", "scoring")

# a child that crashes this often within the window stops the platform (make up)
CRASH_LIMIT = 5
CRASH_WINDOW_S = 120


class Platform:
    def __init__(self) -> None:
        self.env = dict(os.environ)
        self.settings = get_settings()
        self.data_dir = Path(self.settings.data_dir)
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.child_args: dict[str, tuple[str, ...]] = {}
        self.crashes: dict[str, list[float]] = {}
        self.restart_at: dict[str, float] = {}
        self.valkey = None
        self.embedded_pg = False

    # -- data servers -----------------------------------------------------------------
    def start_data_servers(self) -> None:
        from ops.embedded import EmbeddedValkey, start_embedded_postgres

        if not self.env.get("KPP_DATABASE_URL"):
            print(f"· 启动内置 PostgreSQL（数据目录 {self.data_dir}/pgdata）…", flush=True)
            self.env["KPP_DATABASE_URL"] = start_embedded_postgres(self.data_dir / "pgdata", "kpp")
            self.embedded_pg = True
        if not self.env.get("KPP_REDIS_URL"):
            print(f"· 启动内置 Valkey（数据目录 {self.data_dir}/valkey）…", flush=True)
            self.valkey = EmbeddedValkey(self.data_dir / "valkey", persist=True)
            self.env["KPP_REDIS_URL"] = self.valkey.start()
        check_services(self.env["KPP_DATABASE_URL"], self.env["KPP_REDIS_URL"])

    def stop_data_servers(self) -> None:
        from ops.embedded import stop_embedded_postgres

        if self.valkey is not None:
            self.valkey.stop()
        if self.embedded_pg:
            stop_embedded_postgres()

    # -- KPP processes ----------------------------------------------------------------
    def run_step(self, *args: str) -> None:
        result = subprocess.run([sys.executable, "-m", "ops.cli", *args], env=self.env)
        if result.returncode != 0:
            raise PreflightError(f"`kpp {' '.join(args)}` 失败（退出码 {result.returncode}）")

    def spawn(self, name: str, *args: str) -> None:
        proc = subprocess.Popen([sys.executable, "-m", "ops.cli", *args], env=self.env)
        self.children.append((name, proc))
        self.child_args[name] = args

    def start_processes(self) -> None:
        host = self.settings.host
        for service in SERVICE_PORTS:
            port = self.settings.service_port(service)
            check_port_free(host, port, service)
            self.env[f"KPP_{service.upper()}_URL"] = f"http://{host}:{port}"
        for service in SERVICE_PORTS:
            self.spawn(service, "serve", service)
        for service in WORKER_SERVICES:
            self.spawn(f"{service}-worker", "worker", service)

    def wait_ready(self, timeout: float = 90) -> bool:
        url = f"{self.env['KPP_GATEWAY_URL']}/readyz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_children()
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    # 200 with "degraded" means a service is not up yet: wait for "ready"
                    if resp.status == 200 and json.load(resp).get("status") == "ready":
                        return True
            except OSError:
                pass
            time.sleep(0.5)
        return False

    def check_children(self) -> None:
        """Restart a crashed child with back-off (1, 2, 4 … 30 s) and say so; give up and
        stop the platform only when it crashed CRASH_LIMIT times within CRASH_WINDOW_S."""
        now = time.monotonic()
        for index, (name, proc) in enumerate(self.children):
            if proc.poll() is None:
                continue
            if name not in self.restart_at:
                crashes = [t for t in self.crashes.get(name, []) if now - t < CRASH_WINDOW_S]
                crashes.append(now)
                self.crashes[name] = crashes
                if len(crashes) >= CRASH_LIMIT:
                    raise PreflightError(
                        f"{name} 在 {CRASH_WINDOW_S} 秒内连续崩溃 {len(crashes)} 次"
                        f"（退出码 {proc.returncode}），平台已停止"
                    )
                delay = min(2 ** (len(crashes) - 1), 30)
                self.restart_at[name] = now + delay
                print(
                    f"· {name} 意外退出（退出码 {proc.returncode}），{delay} 秒后重启"
                    f"（第 {len(crashes)} 次）",
                    file=sys.stderr,
                    flush=True,
                )
            elif now >= self.restart_at[name]:
                del self.restart_at[name]
                restarted = subprocess.Popen(
                    [sys.executable, "-m", "ops.cli", *self.child_args[name]], env=self.env
                )
                self.children[index] = (name, restarted)
                print(f"· {name} 已重启（进程 {restarted.pid}）", flush=True)

    def stop_processes(self) -> None:
        for _, proc in self.children:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _, proc in self.children:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.children.clear()


def banner(env: dict[str, str]) -> str:
    from services.gateway.seed import DEMO_PASSWORD, DEMO_USERS

    demo_year = 2023  # the demo county's plan year (services/registry/seed.py)

    lines = ["", "KPP 重点项目建设管理平台 已启动", ""]
    lines.append(f"  网关 gateway     {env['KPP_GATEWAY_URL']}   （接口文档 {env['KPP_GATEWAY_URL']}/docs）")
    lines.append(f"  亮晒总览 overview {env['KPP_GATEWAY_URL']}/overview   （工作人员登录后查看）")
    for service in ("registry", "approvals", "issues", "scoring"):
        lines.append(f"  {service:<16} {env[f'KPP_{service.upper()}_URL']}")
    lines.append(f"  PostgreSQL       {_safe_db(env['KPP_DATABASE_URL'])}")
    lines.append(f"  Redis/Valkey     {env['KPP_REDIS_URL']}")
    demo = env.get("KPP_ENV", "dev") in ("dev", "test")  # never print live secrets (issue 14)
    if not demo:
        lines += ["", "  账号由管理员通过 /api/v1/users 管理；不载入演示数据。", ""]
        return "\n".join(lines)
    lines += ["", f"  演示县总览: {env['KPP_GATEWAY_URL']}/overview?year={demo_year}"]
    lines += ["", f"  演示账号（密码均为 {DEMO_PASSWORD}）:"]
    for username, name, role, unit, _ in DEMO_USERS:
        lines.append(f"    {username:<10} {role:<11} {unit or '':<15} {name}")
    seed = importlib.import_module("services.gateway.seed")
    for key, secret, name, scopes in getattr(seed, "DEMO_APP_KEYS", []):
        lines.append(f"  演示平台密钥 {name}: X-App-Key={key}  secret={secret}  scopes={' '.join(scopes)}")
    lines += [
        "",
        "  登录: curl -d 'username=zdb&password="
        + DEMO_PASSWORD
        + "' "
        + env["KPP_GATEWAY_URL"]
        + "/api/v1/auth/token",
        "",
        "  按 Ctrl-C 停止全部进程。",
        "",
    ]
    return "\n".join(lines)


def _safe_db(url: str) -> str:
    from ops.preflight import describe_db

    return describe_db(url)


def run_platform() -> int:
    platform = Platform()
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        # the first Ctrl-C / SIGTERM stops the platform; later ones must not cut the clean-up
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        platform.start_data_servers()
        print("· 数据库迁移…", flush=True)
        platform.run_step("migrate")
        platform.run_step("seed")
        platform.start_processes()
        if not platform.wait_ready():
            print("kpp: 90 秒内未就绪，请查看上方日志", file=sys.stderr)
            return 1
        print(banner(platform.env), flush=True)
        if platform.env.get("KPP_ENV", "dev") in ("dev", "test"):
            from ops.devdemo import publish_demo_months
            from services.gateway.seed import DEMO_PASSWORD

            threading.Thread(
                target=publish_demo_months,
                args=(dict(platform.env), DEMO_PASSWORD),
                daemon=True,
                name="demo-assessments",
            ).start()
        while True:
            platform.check_children()
            time.sleep(1)
    except KeyboardInterrupt:
        print("\n· 正在停止…", flush=True)
        return 0
    except PreflightError as exc:
        print(exc.code, file=sys.stderr)
        return 1
    finally:
        platform.stop_processes()
        platform.stop_data_servers()
        print("· 已停止。", flush=True)
