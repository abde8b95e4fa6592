"""Demo units, users and platform app keys, loaded on `make up` (idempotent: what is
missing is added, what is there is left alone)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.appkeys import create_app_key
from services.gateway.auth import hash_password
from services.gateway.crypto import derive_secret
from services.gateway.models import AppKey, Unit, User
from shared.identity import SYSTEM_PRINCIPAL

# (id, name, kind, leader, title, deputy county head in charge); the county's principal
# leader (县长) is PRINCIPAL_LEADER for every unit of the demo
DEMO_UNITS = [
    ("office-zdb", "县重点项目建设服务中心（重点办）", "office", "周立新", "主任", "韩振东"),
    ("dept-fgj", "县发展和改革局", "department", "李建华", "局长", "韩振东"),
    ("dept-zrzy", "县自然资源局", "department", "王海涛", "局长", "赵国庆"),
    ("dept-sthj", "县生态环境局", "department", "陈晓梅", "局长", "赵国庆"),
    ("dept-zjj", "县住房和城乡建设局", "department", "刘志强", "局长", "孙丽萍"),
    ("dept-xzsp", "县行政审批服务局", "department", "杨静", "局长", "孙丽萍"),
    ("dept-czj", "县财政局", "department", "吴国栋", "局长", "韩振东"),
    ("dept-jtj", "县交通运输局", "department", "郑光明", "局长", "赵国庆"),
    ("dept-slj", "县水利局", "department", "冯春生", "局长", "赵国庆"),
    ("town-chengguan", "城关镇", "township", "马文斌", "镇长", "孙丽萍"),
    ("town-donghe", "东河镇", "township", "黄志远", "镇长", "赵国庆"),
    ("town-xishan", "西山乡", "township", "何秀英", "乡长", "孙丽萍"),
    ("town-nanchuan", "南川镇", "township", "郭晓东", "镇长", "韩振东"),
    ("town-beiling", "北岭乡", "township", "林建军", "乡长", "赵国庆"),
    ("town-qingshi", "青石镇", "township", "罗红梅", "镇长", "韩振东"),
    # the utilities that answer the "three zeros" connection requests (policy R21)
    ("util-power", "国网县供电公司", "utility", "高建峰", "经理", "韩振东"),
    ("util-water", "县供水公司", "utility", "田玉兰", "经理", "孙丽萍"),
    ("util-drainage", "县排水公司", "utility", "彭立军", "经理", "孙丽萍"),
    ("util-gas", "县燃气公司", "utility", "曹明亮", "经理", "韩振东"),
]

PRINCIPAL_LEADER = "王志刚"

DEMO_PASSWORD = "Kpp@2026"
# (username, name, role, unit, org_code)
DEMO_USERS = [
    ("admin", "系统管理员", "admin", "office-zdb", None),
    ("zdb", "重点办 张明", "key_office", "office-zdb", None),
    ("fgj", "发改局 李娜", "department", "dept-fgj", None),
    ("xzsp", "审批局 赵磊", "department", "dept-xzsp", None),
    ("chengguan", "城关镇 王芳", "township", "town-chengguan", None),
    ("donghe", "东河镇 刘洋", "township", "town-donghe", None),
    ("leader", "县领导 韩振东", "leader", None, None),
    ("qiye", "枝柯新材料有限公司 陈总", "enterprise", None, "91140000MA0C1XY858"),
]


# Demo platforms (key, salt, name, platform, scopes). Their secrets are derived from
# KPP_SECRET_KEY and the fixed demo salt, so with the development secret they are the
# ones printed in docs/gateway.md; a deployment with its own secret gets its own.
_DEMO_KEYS = [
    (
        "kpp-demo-hall",
        "demo-hall-2026",
        "县政务服务大厅（演示）",
        "service_hall",
        ["approvals.events:write", "approvals:read", "registry:read", "units:read", "webhooks:manage"],
    ),
    (
        "kpp-demo-finance",
        "demo-finance-2026",
        "县财政一体化平台（演示）",
        "finance",
        ["registry:read", "units:read"],
    ),
    (
        "kpp-demo-province",
        "demo-province-2026",
        "省重点项目平台（演示）",
        "province",
        ["registry:read", "approvals:read", "issues:read", "scoring:read", "units:read", "webhooks:manage"],
    ),
]
# what `make up` prints: (key, secret, name, scopes)
DEMO_APP_KEYS = [(key, derive_secret(key, salt), name, scopes) for key, salt, name, _, scopes in _DEMO_KEYS]


async def seed_demo(session: AsyncSession) -> bool:
    """Add whatever of the demo directory, users and app keys is missing; True if anything was."""
    added = False
    units = set(await session.scalars(select(Unit.id)))
    for uid, name, kind, leader, title, deputy in DEMO_UNITS:
        if uid not in units:
            session.add(
                Unit(
                    id=uid,
                    name=name,
                    kind=kind,
                    leader_name=leader,
                    leader_title=title,
                    principal_leader=PRINCIPAL_LEADER,
                    deputy_heads=[deputy],
                    active=True,
                )
            )
            added = True
    await session.flush()
    users = set(await session.scalars(select(User.username)))
    missing = [u for u in DEMO_USERS if u[0] not in users]
    if missing:
        hashed = hash_password(DEMO_PASSWORD)
        for username, name, role, unit, org in missing:
            session.add(
                User(
                    username=username, password_hash=hashed, name=name, role=role, unit_id=unit, org_code=org
                )
            )
        added = True
    keys = set(await session.scalars(select(AppKey.key)))
    for key, salt, name, platform, scopes in _DEMO_KEYS:
        if key not in keys:
            await create_app_key(
                session,
                principal=SYSTEM_PRINCIPAL,
                name=name,
                platform=platform,
                scopes=scopes,
                key=key,
                salt=salt,
            )
            added = True
    await session.flush()
    return added
