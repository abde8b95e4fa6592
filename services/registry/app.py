"""The registry: the project library (port 8001)."""

from services.registry.router import router
from services.registry.router_more import router as more_router
from shared.app import create_app

app = create_app("registry", title="KPP 项目库服务", routers=[router, more_router])
