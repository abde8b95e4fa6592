"""The approvals service: working-day clocks on approval chains (port 8002)."""

from shared.app import create_app

app = create_app("approvals", title="KPP 审批时限服务", routers=[])
