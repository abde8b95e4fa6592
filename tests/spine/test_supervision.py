"""`make up` restarts a crashed child with back-off and says so, instead of stopping the
whole platform; it stops only when the child keeps crashing (issue 11)."""

from __future__ import annotations

import time

import pytest

from ops import devrun
from ops.preflight import PreflightError


def test_crashed_child_is_restarted_with_backoff_then_given_up(capsys, monkeypatch):
    monkeypatch.setattr(devrun, "CRASH_LIMIT", 3)
    platform = devrun.Platform()
    # `kpp worker` with an unknown service exits at once (argparse, exit code 2)
    platform.spawn("broken-worker", "worker", "no-such-service")
    first = platform.children[0][1]
    first.wait(30)
    platform.check_children()
    assert "broken-worker 意外退出（退出码 2），1 秒后重启（第 1 次）" in capsys.readouterr().err
    time.sleep(1.05)
    platform.check_children()
    restarted = platform.children[0][1]
    assert restarted.pid != first.pid
    assert f"broken-worker 已重启（进程 {restarted.pid}）" in capsys.readouterr().out
    restarted.wait(30)
    platform.check_children()  # second crash: back-off doubles
    assert "2 秒后重启（第 2 次）" in capsys.readouterr().err
    time.sleep(2.05)
    platform.check_children()
    platform.children[0][1].wait(30)
    with pytest.raises(PreflightError, match="连续崩溃 3 次"):
        platform.check_children()  # the third crash within the window stops everything
    platform.stop_processes()
