"""The scoring service: notices, summons, assessments (port 8004)."""

from services.scoring.consumers import HANDLERS
from services.scoring.models import pipeline
from services.scoring.router_assessments import router as assessments_router
from services.scoring.router_supervision import router as supervision_router
from shared.app import create_app

app = create_app(
    "scoring",
    title="KPP 考核督查服务",
    routers=[supervision_router, assessments_router],
    events=(pipeline, HANDLERS),
)
