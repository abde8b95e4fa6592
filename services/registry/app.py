"""The registry: the project library (port 8001)."""

from services.registry.router import router
from shared.app import create_app

app = create_app("registry", title="KPP 项目库服务", routers=[router])
