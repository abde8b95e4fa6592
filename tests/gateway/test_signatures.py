"""Signed platform access (api-contract.md, Authentication): each refusal has its code and
is in the request audit."""

from __future__ import annotations

import hmac
import json
import time

from services.gateway.crypto import SM3, canonical_query, hmac_sm3, sm3_digest
from tests.gateway.conftest import App, project_body


async def test_signed_get_is_served_as_the_platform(signed, hall):
    # architecture: platforms authenticate with an app key and an HMAC signature
    r = await signed(hall, "GET", "/api/v1/auth/me")
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["role"] == "platform" and me["app_key"] == hall.key
    assert "approvals.events:write" in me["scopes"]


async def test_sorted_query_is_part_of_the_signature(signed, hall):
    # the query is signed in sorted order, whatever order the platform sends it in
    assert canonical_query("kind=township&b=%E4%B8%AD+x&a=") == "a=&b=%E4%B8%AD%20x&kind=township"
    r = await signed(hall, "GET", "/api/v1/units", query="kind=township&a=1")
    assert r.status_code == 200, r.text
    assert {u["kind"] for u in r.json()} == {"township"}


async def test_hmac_sm3_is_accepted_as_the_national_crypto_option(signed, hall):
    # architecture: HMAC-SM3 as the national-crypto option
    r = await signed(hall, "GET", "/api/v1/auth/me", algorithm=SM3)
    assert r.status_code == 200, r.text


def test_hmac_sm3_matches_reference_vectors():
    # SM3 (GB/T 32905) "abc" vector, and HMAC-SM3 values computed with OpenSSL 3
    assert sm3_digest(b"abc").hex() == ("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
    assert hmac_sm3(b"key", b"abc") == ("28e63256e7c5a087b1f073265dc53092163f7b82729735d06f28f10af9d52393")
    long_key = b"k" * 100  # longer than the 64-byte block: hashed first (RFC 2104)
    msg = b"GET\n/api/v1/projects\n\n1700000000\nn1\n" + b"e3b0" * 16
    assert hmac_sm3(long_key, msg) == ("eda7620c419b064ba53bb9624bf026a966cbe49e5af1a3a646931fa3ed0349bc")
    assert hmac.compare_digest(hmac_sm3(b"key", b"abd"), hmac_sm3(b"key", b"abd"))


async def test_bad_signature_refused_and_audited(signed, hall, audit, uniq):
    # architecture: HMAC over method, path, sorted query, timestamp, nonce, body digest
    wrong = App(hall.key, "0" * 64)
    r = await signed(wrong, "GET", "/api/v1/units", headers={"X-Request-ID": f"sig-{uniq}"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "auth.signature_invalid"
    rows = await audit(request_id=f"sig-{uniq}")
    assert len(rows) == 1
    row = rows[0]
    assert (row["status"], row["code"], row["app_key"], row["principal"]) == (
        401,
        "auth.signature_invalid",
        hall.key,
        None,
    )


async def test_tampered_body_breaks_the_signature(platform, hall, uniq):
    # the body digest is signed: a changed body is refused before reaching the service
    body = json.dumps(project_body(uniq)).encode()
    headers = hall.headers("POST", "/api/v1/projects", body=body)
    async with platform.client() as c:
        r = await c.post(
            "/api/v1/projects",
            content=body.replace(b"1200", b"9999"),
            headers=headers | {"Content-Type": "application/json"},
        )
    assert r.status_code == 401 and r.json()["code"] == "auth.signature_invalid"


async def test_timestamp_skew_refused_and_audited(signed, hall, audit, uniq):
    # architecture: timestamp valid ±5 minutes
    r = await signed(
        hall,
        "GET",
        "/api/v1/units",
        timestamp=int(time.time()) - 301,
        headers={"X-Request-ID": f"skew-{uniq}"},
    )
    assert r.status_code == 401
    assert r.json()["code"] == "auth.timestamp_skew"
    assert "server_time" in r.json()
    [row] = await audit(request_id=f"skew-{uniq}")
    assert (row["status"], row["code"], row["app_key"]) == (401, "auth.timestamp_skew", hall.key)


async def test_replayed_nonce_refused_and_audited(platform, hall, audit, uniq):
    # architecture: nonce single-use (Redis)
    headers = hall.headers("GET", "/api/v1/units", nonce=f"nonce-{uniq}")
    async with platform.client() as c:
        first = await c.get("/api/v1/units", headers=headers)
        again = await c.get("/api/v1/units", headers=headers | {"X-Request-ID": f"replay-{uniq}"})
    assert first.status_code == 200, first.text
    assert again.status_code == 401
    assert again.json()["code"] == "auth.nonce_replayed"
    [row] = await audit(request_id=f"replay-{uniq}")
    assert (row["status"], row["code"], row["app_key"]) == (401, "auth.nonce_replayed", hall.key)


async def test_missing_scope_refused_and_audited(signed, new_app, audit, uniq):
    # a finance platform reads the library (R12) but cannot post service-hall clock events
    finance = await new_app(uniq, ["registry:read"], platform_kind="finance")
    body = json.dumps({"event_id": uniq, "type": "submitted"}).encode()
    r = await signed(
        finance,
        "POST",
        "/api/v1/approval-cases/00000000-0000-0000-0000-000000000001/events",
        body=body,
        headers={"X-Request-ID": f"scope-{uniq}"},
    )
    assert r.status_code == 403
    assert r.json()["code"] == "auth.scope_missing"
    assert r.json()["required_scope"] == "approvals.events:write"
    [row] = await audit(request_id=f"scope-{uniq}")
    assert (row["status"], row["code"], row["principal"], row["role"]) == (
        403,
        "auth.scope_missing",
        f"app:{finance.key}",
        "platform",
    )


async def test_unknown_app_key_and_missing_headers_refused(platform, signed, hall):
    r = await signed(App("ak_nobody", "x" * 64), "GET", "/api/v1/units")
    assert r.status_code == 401 and r.json()["code"] == "auth.app_key_invalid"
    async with platform.client() as c:
        r = await c.get("/api/v1/units", headers={"X-App-Key": hall.key})
    assert r.status_code == 401 and r.json()["code"] == "auth.signature_invalid"
    assert "X-Timestamp" in r.json()["detail"]
    r = await signed(hall, "GET", "/api/v1/units", headers={"X-Signature-Method": "HMAC-MD5"})
    assert r.status_code == 401 and r.json()["code"] == "auth.signature_invalid"


async def test_platform_reads_a_project_by_code_with_registry_scope(signed, make_project_gw, new_app, uniq):
    # policy R12: the finance platform asks "is project X in the library" by national code
    project = await make_project_gw(uniq)
    finance = await new_app(uniq, ["registry:read"], platform_kind="finance")
    r = await signed(finance, "GET", f"/api/v1/projects/by-code/{project['project_code']}")
    assert r.status_code == 200, r.text
    r = await signed(finance, "GET", f"/api/v1/projects/{project['id']}")
    assert r.status_code == 200, r.text
    assert r.json()["project_code"] == project["project_code"]


async def test_the_hall_key_may_post_a_batch_of_events_and_finance_not(signed, hall, new_app, uniq):
    # policy R16 (api-contract): the hall's approvals.events:write covers the batch of events
    # as it covers one case's events; a key without it is refused at the gateway
    unknown = "00000000-0000-0000-0000-000000000001"
    event = {
        "case_id": unknown,
        "event_id": f"b-{uniq}",
        "type": "submitted",
        "occurred_at": "2026-11-02T09:00:00+08:00",
    }
    body = json.dumps({"events": [event]}).encode()
    r = await signed(hall, "POST", "/api/v1/approval-cases/events", body=body)
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["problem"]["code"] == "approval_case.not_found"
    finance = await new_app(uniq, ["registry:read", "approvals:read"], platform_kind="finance")
    r = await signed(finance, "POST", "/api/v1/approval-cases/events", body=body)
    assert (r.status_code, r.json()["code"]) == (403, "auth.scope_missing")
    assert r.json()["required_scope"] == "approvals.events:write"
