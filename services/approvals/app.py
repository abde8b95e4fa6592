"""The approvals service: working-day clocks on approval chains (port 8002)."""

from services.approvals.router_calendar import internal
from services.approvals.router_calendar import router as calendar_router
from services.approvals.router_cases import kind_router
from services.approvals.router_cases import router as case_router
from shared.app import create_app

app = create_app(
    "approvals", title="KPP 审批时限服务", routers=[calendar_router, internal, kind_router, case_router]
)
