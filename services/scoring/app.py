"""The scoring service: notices, summons, assessments (port 8004)."""

from shared.app import create_app

app = create_app("scoring", title="KPP 考核督查服务", routers=[])
