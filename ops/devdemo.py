"""`make up` on the demo county: once the demo data's events have reached the scoring
service, run and publish the demo year's last two months, so that /overview shows the
五晒五比 ranking and each unit's change (R30) from the first start (issue 17).

Only in dev/test, only through the gateway's public API as the demo key office, and only
for months not run yet: a later start, or an office that ran them itself, changes nothing.
It runs beside the platform and never stops it: a failure is printed and that is all.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import asyncpg

DEMO_MONTHS = ("2023-07", "2023-08")  # the registry demo seed reports progress up to 2023-08
# assignment letters left unfinished, so that the demo months notice them (R28): 东河镇's
# is noticed in July and August (its second notice → the deputy county head's summons)
DEMO_LETTERS = (
    {
        "task": "东河片区征地拆迁清零交地",
        "unit_id": "town-donghe",
        "issued_on": "2023-06-01",
        "deadline": "2023-06-30",
        "source": "leaders_meeting",
    },
    {
        "task": "工业园区三期用地预审办结",
        "unit_id": "dept-zrzy",
        "issued_on": "2023-07-03",
        "deadline": "2023-07-20",
        "source": "leaders_meeting",
    },
)
_PENDING = """SELECT (SELECT count(*) FROM registry.outbox WHERE published_at IS NULL)
                   + (SELECT count(*) FROM registry.outbox_delivery WHERE acked_at IS NULL)"""


# low-risk small chains in the service hall (R16): one walked through its four steps, one
# accepted and never decided (overdue); (event, day, step) as the hall would send them
DEMO_CHAINS = (
    [
        ("submitted", "2023-03-01", None),
        ("accepted", "2023-03-02", None),
        ("step_completed", "2023-03-06", "project_filing"),
        ("submitted", "2023-04-03", "construction_permit"),
        ("accepted", "2023-04-04", None),
        ("step_completed", "2023-04-12", "construction_permit"),
        ("submitted", "2023-08-01", "completion_acceptance"),
        ("accepted", "2023-08-02", None),
        ("step_completed", "2023-08-09", "completion_acceptance"),
        ("submitted", "2023-08-14", "property_certificate"),
        ("accepted", "2023-08-15", None),
        ("completed", "2023-08-18", None),
    ],
    [("submitted", "2023-05-04", None), ("accepted", "2023-05-05", None)],
)


def _chains(gateway: str, token: str) -> None:
    """Two approval cases on demo projects, opened by the 审批局 window (xzsp)."""
    status, page = _call(f"{gateway}/api/v1/projects?library=annual&page_size=2", token=token)
    if status != 200:
        return
    for project, events in zip(page.get("items", []), DEMO_CHAINS, strict=False):
        status, case = _call(
            f"{gateway}/api/v1/approval-cases",
            token=token,
            method="POST",
            json_body=True,
            data=json.dumps(
                {
                    "project_id": project["id"],
                    "project_code": project["project_code"],
                    "kind": "low_risk_small",
                }
            ).encode(),
        )
        if status != 201:
            print(f"· 演示审批案件未开立: {case.get('detail')}", flush=True)
            return
        for n, (kind, day, step) in enumerate(events):
            event = {
                "event_id": f"demo-{case['id']}-{n}",
                "type": kind,
                "occurred_at": f"{day}T10:00:00+08:00",
            }
            if step:
                event["step_code"] = step
            _call(
                f"{gateway}/api/v1/approval-cases/{case['id']}/events",
                token=token,
                method="POST",
                json_body=True,
                data=json.dumps(event).encode(),
            )


def _call(
    url: str,
    *,
    token: str | None = None,
    data: bytes | None = None,
    method: str = "GET",
    json_body: bool = False,
) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=data, method=method)
    if json_body:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


async def _pending(database_url: str) -> int:
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return await conn.fetchval(_PENDING)
    finally:
        await conn.close()


def _wait_delivered(database_url: str, timeout: float = 180) -> bool:
    """The registry's demo events all relayed and acknowledged (twice in a row)."""
    deadline, quiet = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        quiet = quiet + 1 if asyncio.run(_pending(database_url)) == 0 else 0
        if quiet >= 2:
            return True
        time.sleep(2)
    return False


def publish_demo_months(env: dict[str, str], password: str) -> None:
    try:
        gateway = env["KPP_GATEWAY_URL"]
        body = urllib.parse.urlencode({"username": "zdb", "password": password}).encode()
        status, reply = _call(f"{gateway}/api/v1/auth/token", data=body, method="POST")
        if status != 200:
            return  # the demo account was changed: not the demo any more
        token = reply["access_token"]
        todo = [m for m in DEMO_MONTHS if _call(f"{gateway}/api/v1/assessments/{m}", token=token)[0] == 404]
        if not todo or not _wait_delivered(env["KPP_DATABASE_URL"]):
            return
        if len(todo) == len(DEMO_MONTHS):  # the first start: cases, letters, then the months
            _chains(gateway, token)
            for letter in DEMO_LETTERS:
                _call(
                    f"{gateway}/api/v1/assignments",
                    token=token,
                    method="POST",
                    data=json.dumps(letter).encode(),
                    json_body=True,
                )
        for month in todo:
            for step in ("run", "publish"):
                status, reply = _call(
                    f"{gateway}/api/v1/assessments/{month}/{step}", token=token, data=b"", method="POST"
                )
                if status != 200:
                    print(f"· 演示考核 {month} 未能{step}: {reply.get('detail')}", flush=True)
                    return
        print(f"· 演示县 {'、'.join(todo)} 月度考核已发布（亮晒总览可见五晒五比排名）", flush=True)
    except Exception as exc:  # beside the platform: say so, never stop it
        print(f"· 演示考核未发布: {exc!r}", flush=True)
