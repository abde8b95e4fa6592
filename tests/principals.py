"""Principals for service-level tests (``db_session``): one per role the access rules name,
in the demo units (services/gateway/seed.py)."""

from __future__ import annotations

from shared.identity import Principal, Role

QIYE_CODE = "91140000MA0C1XY858"  # the demo enterprise's unified social credit code

OFFICE = Principal(subject="t-zdb", role=Role.key_office, unit_id="office-zdb", name="重点办")
LEADER = Principal(subject="t-leader", role=Role.leader, name="县领导")
PLATFORM = Principal(subject="t-platform", role=Role.platform, app_key="t-app")
CHENGGUAN = Principal(subject="t-chengguan", role=Role.township, unit_id="town-chengguan")
DONGHE = Principal(subject="t-donghe", role=Role.township, unit_id="town-donghe")
FGJ = Principal(subject="t-fgj", role=Role.department, unit_id="dept-fgj")
XZSP = Principal(subject="t-xzsp", role=Role.department, unit_id="dept-xzsp")  # the intake window
QIYE = Principal(subject="t-qiye", role=Role.enterprise, org_code=QIYE_CODE)
NO_CODE_ENTERPRISE = Principal(subject="t-anon", role=Role.enterprise)
