"""wrk (Debian package ``wrk``) as the load generator: one C client for every side compared.

    apt-get install -y wrk

``run`` loads one URL (GET, or POST with a body per request from a Lua rotation over
paths) and parses wrk's report into a ``WrkResult``.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}

# each wrk thread walks the paths from its own offset, so no two requests share a path
ROTATE_LUA = """
local paths, body, n, counter, made = {}, nil, 1, 0, 0
function setup(thread) thread:set("tid", made); made = made + 1 end
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  n = tonumber(args[2]); body = args[3]
  wrk.method = "POST"; wrk.body = body; wrk.headers["Content-Type"] = "application/json"
end
function request()
  local i = tid + counter * n
  counter = counter + 1
  return wrk.format(nil, paths[(i % #paths) + 1])
end
"""


# GET with the next line's headers each time (tab-separated "Name: value"): pre-signed
# requests, each with its own nonce, so every request costs a full signature check
HEADER_ROTATE_LUA = """
local sets, n, counter, made = {}, 1, 0, 0
function setup(thread) thread:set("tid", made); made = made + 1 end
function init(args)
  for line in io.lines(args[1]) do
    local h = {}
    for pair in string.gmatch(line, "[^\\t]+") do
      local name, value = string.match(pair, "^([^:]+):%s*(.*)$")
      h[name] = value
    end
    sets[#sets + 1] = h
  end
  n = tonumber(args[2])
end
function request()
  local i = tid + counter * n
  counter = counter + 1
  return wrk.format(nil, nil, sets[(i % #sets) + 1])
end
"""


@dataclass
class WrkResult:
    label: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int

    def line(self) -> str:
        return (
            f"{self.label:<34} {self.rps:9.1f} req/s  p50 {self.p50_ms:7.2f} ms  "
            f"p99 {self.p99_ms:7.2f} ms  requests {self.requests}  errors {self.errors}"
        )


def available() -> bool:
    return shutil.which("wrk") is not None


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    assert m, text
    return float(m.group(1)) * UNITS[m.group(2)]


def parse(label: str, out: str) -> WrkResult:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(x) for x in m.groups())
    return WrkResult(label, rps, p50, p99, requests, errors)


def _write_script(folder: Path, paths: list[str]) -> tuple[Path, Path]:
    script, listing = folder / "rotate.lua", folder / "paths.txt"
    script.write_text(ROTATE_LUA)
    listing.write_text("\n".join(paths) + "\n")
    return script, listing


def _write_header_sets(folder: Path, header_sets: list[dict[str, str]]) -> tuple[Path, Path]:
    script, listing = folder / "headers.lua", folder / "headers.txt"
    script.write_text(HEADER_ROTATE_LUA)
    listing.write_text("".join("\t".join(f"{k}: {v}" for k, v in h.items()) + "\n" for h in header_sets))
    return script, listing


async def run(
    label: str,
    url: str,
    *,
    headers: dict[str, str],
    seconds: float = 10,
    connections: int = 32,
    threads: int = 2,
    paths: list[str] | None = None,
    body: str | None = None,
    header_sets: list[dict[str, str]] | None = None,
) -> WrkResult:
    """GET ``url``; or, with ``paths`` and ``body``, POST ``body`` to each path in turn; or,
    with ``header_sets``, GET ``url`` with each set of headers in turn (one request each)."""
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:.0f}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    with tempfile.TemporaryDirectory() as tmp:
        if header_sets is not None:
            script, listing = _write_header_sets(Path(tmp), header_sets)
            args += ["-s", str(script), url, "--", str(listing), str(threads)]
        elif paths is not None:
            script, listing = _write_script(Path(tmp), paths)
            args += ["-s", str(script), url, "--", str(listing), str(threads), body or ""]
        else:
            args.append(url)
        proc = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {err.decode()}")
    return parse(label, out.decode())
