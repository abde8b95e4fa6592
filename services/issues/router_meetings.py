"""HTTP layer for consultation meetings (定期会诊, policy R26)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response

from services.issues import meetings
from services.issues.schemas import AgendaIn, DecisionIn, MeetingIn
from shared.db import DbSession, UnitOfWorkRoute
from shared.identity import CurrentPrincipal

router = APIRouter(prefix="/api/v1/meetings", tags=["meetings"], route_class=UnitOfWorkRoute)


@router.post("", status_code=201, summary="召开会诊会议（可同时列入议题）")
async def create_meeting(
    data: MeetingIn, session: DbSession, principal: CurrentPrincipal, response: Response
) -> dict[str, Any]:
    meeting = await meetings.create_meeting(session, principal=principal, data=data)
    response.headers["Location"] = f"/api/v1/meetings/{meeting.id}"
    return await meetings.meeting_out(session, principal=principal, meeting_id=meeting.id)


@router.get("", summary="会诊会议列表")
async def list_meetings(session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    return {"items": await meetings.list_meetings(session)}


@router.get("/{meeting_id}", summary="会议详情：议程与决定")
async def get_meeting(
    meeting_id: uuid.UUID, session: DbSession, principal: CurrentPrincipal
) -> dict[str, Any]:
    return await meetings.meeting_out(session, principal=principal, meeting_id=meeting_id)


@router.post("/{meeting_id}/agenda", summary="将问题列入会议议程")
async def add_agenda(
    meeting_id: uuid.UUID, data: AgendaIn, session: DbSession, principal: CurrentPrincipal
) -> dict[str, Any]:
    await meetings.add_agenda(session, principal=principal, meeting_id=meeting_id, issue_ids=data.issue_ids)
    return await meetings.meeting_out(session, principal=principal, meeting_id=meeting_id)


@router.post("/{meeting_id}/decisions", summary="记录会议决定（写回问题）")
async def record_decision(
    meeting_id: uuid.UUID, data: DecisionIn, session: DbSession, principal: CurrentPrincipal
) -> dict[str, Any]:
    await meetings.record_decision(session, principal=principal, meeting_id=meeting_id, data=data)
    return await meetings.meeting_out(session, principal=principal, meeting_id=meeting_id)
