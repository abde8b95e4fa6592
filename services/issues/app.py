"""The issues service: the five-step problem closed loop (port 8003)."""

from services.issues.consumers import HANDLERS
from services.issues.models import pipeline
from services.issues.router import router
from services.issues.router_meetings import router as meetings_router
from shared.app import create_app

app = create_app(
    "issues", title="KPP 问题闭环服务", routers=[router, meetings_router], events=(pipeline, HANDLERS)
)
