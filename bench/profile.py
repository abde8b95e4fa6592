"""A py-spy profile of one service under load, summarised as a table (issue 15).

    .venv/bin/python -m bench.profile [--seconds 15] [--path read|write|gateway-signed|…]

Starts the registry (as ``bench.stack_overhead`` does), loads it with wrk, records it with
py-spy (``--format raw``: one collapsed stack per line) and prints the share of samples
that pass through (inclusive) and end in (self) each function, grouped by package. Keep
the raw file (``--keep``) to draw a flame graph (``flamegraph.pl`` or speedscope).
``gateway-bearer`` / ``gateway-signed`` record the gateway instead, forwarding the project
read under the same load (set up as ``bench.gateway_anchor`` does).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from bench import wrk
from bench.harness import PIDS, bench_env, free_port, office_identity, scratch_database, service_process
from bench.stack_overhead import make_projects, report_body

SITE = re.compile(r".*/(site-packages|python3\.\d+)/")


def frame_name(frame: str) -> str:
    """``func (path/to/file.py:12)`` → ``package/file.py:func``."""
    m = re.match(r"(.*) \((.*?):?\d*\)$", frame)
    if not m:
        return frame
    func, path = m.groups()
    path = SITE.sub("", path.replace(str(Path.cwd()) + "/", ""))
    return f"{path}:{func}"


def summarise(raw: str, top: int = 30) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():  # py-spy's own notes between the stacks
            continue
        n = int(count)
        total += n
        frames = [frame_name(f) for f in stack.split(";")]
        for name in set(frames):
            inclusive[name] += n
        own[frames[-1]] += n
    rows = ["| inclusive % | self % | function |", "|---:|---:|---|"]
    for name, n in inclusive.most_common(top):
        rows.append(f"| {100 * n / total:.1f} | {100 * own[name] / total:.1f} | `{name}` |")
    rows.append("")
    rows.append("| self % | function (most samples ending there) |")
    rows.append("|---:|---|")
    for name, n in own.most_common(top):
        rows.append(f"| {100 * n / total:.1f} | `{name}` |")
    return f"{total} samples\n\n" + "\n".join(rows)


def py_spy() -> str:
    local = Path(sys.executable).parent / "py-spy"
    found = shutil.which("py-spy") or (str(local) if local.exists() else None)
    if found is None:
        raise SystemExit("py-spy is needed: .venv/bin/pip install -e '.[dev]'")
    return found


def read_stacks(path: Path) -> str:
    return path.read_text(errors="replace")  # py-spy may cut a multi-byte name


async def record(spy: str, pid: int, seconds: float | None, out: Path) -> asyncio.subprocess.Process:
    """py-spy recording ``pid`` into ``out`` for ``seconds``, or until sent SIGINT (None)."""
    duration = ["--duration", str(int(seconds))] if seconds is not None else []
    return await asyncio.create_subprocess_exec(
        spy,
        "record",
        "--pid",
        str(pid),
        "--format",
        "raw",
        "--rate",
        "250",
        *duration,
        "--output",
        str(out),
        "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def profile_gateway(spy: str, seconds: float, side: str, keep: str | None) -> None:
    from bench.gateway_anchor import sides

    async with sides() as ways:
        way = ways[side]
        await way.run("warm", 2, 32)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(keep or Path(tmp, "profile.txt"))
            gateway = way.url.split("/api/", 1)[0]
            spy_proc = await record(spy, PIDS[gateway], seconds, out)
            result = await way.run(side, seconds, 32)
            await spy_proc.wait()
            print(result.line())
            print(summarise(read_stacks(out)))


async def main(seconds: float, path: str, keep: str | None) -> None:
    spy = py_spy()
    if path.startswith("gateway"):
        await profile_gateway(spy, seconds, path, keep)
        return
    async with scratch_database("profile", services=("registry",)) as db_url:
        ids = await make_projects(db_url, 20_000)
        env = bench_env(db_url)
        os.environ.update(env)
        identity = office_identity()
        with service_process("registry", free_port(), env) as url, tempfile.TemporaryDirectory() as tmp:
            paths = [f"/api/v1/projects/{i}/progress" for i in ids]
            _, body = report_body(0)
            if path == "read":
                await wrk.run("warm", f"{url}/api/v1/projects/{ids[0]}", headers=identity, seconds=2)
            out = Path(keep or Path(tmp, "profile.txt"))
            spy_proc = await record(spy, PIDS[url], seconds, out)
            if path == "read":
                result = await wrk.run(
                    "read registry", f"{url}/api/v1/projects/{ids[0]}", headers=identity, seconds=seconds
                )
            else:
                result = await wrk.run(
                    "write registry", url, headers=identity, seconds=seconds, paths=paths, body=body
                )
            await spy_proc.wait()
            print(result.line())
            print(summarise(read_stacks(out)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument(
        "--path", choices=("read", "write", "gateway-bearer", "gateway-signed"), default="read"
    )
    parser.add_argument("--keep", help="keep the collapsed stacks in this file")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.path, args.keep))
