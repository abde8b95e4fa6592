"""Gateway-own administration: app keys, the request audit, webhook subscriptions and deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy import select, update

from services.gateway import appkeys, egress, webhooks
from services.gateway.audit import audit_writer
from services.gateway.guard import require_scope
from services.gateway.models import AppKey, RequestLog, WebhookDelivery, WebhookSubscription, pipeline
from services.gateway.schemas import (
    AppKeyCreated,
    AppKeyIn,
    AppKeyOut,
    AppKeyPatch,
    AuditPage,
    DeliveryOut,
    ReasonIn,
    SubscriptionIn,
    SubscriptionOut,
)
from services.gateway.scopes import event_scope, holds
from shared.db import DbSession, UnitOfWorkRoute
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.identity import Principal

admin = APIRouter(prefix="/api/v1", route_class=UnitOfWorkRoute)

AuditAdmin = Annotated[Principal, require_scope("admin:audit")]
KeyAdmin = Annotated[Principal, require_scope("admin:app-keys")]
HookCaller = Annotated[Principal, require_scope("webhooks:manage", "admin:webhooks")]
HookAdmin = Annotated[Principal, require_scope("admin:webhooks")]
KeyPath = Annotated[str, Path(max_length=64, description="应用标识")]


@admin.get("/audit", response_model=AuditPage, tags=["audit"], summary="查询请求审计记录（管理员）")
async def query_audit(
    session: DbSession,
    principal: AuditAdmin,
    principal_id: Annotated[
        str | None, Query(alias="principal", max_length=120, description="调用主体，如 user:zdb")
    ] = None,
    app_key: Annotated[str | None, Query(max_length=40, description="应用标识")] = None,
    request_id: Annotated[str | None, Query(max_length=64, description="请求号")] = None,
    code: Annotated[str | None, Query(max_length=80, description="错误代码")] = None,
    status: Annotated[int | None, Query(ge=100, le=599, description="状态码")] = None,
    path_prefix: Annotated[str | None, Query(max_length=200, description="路径前缀")] = None,
    since: Annotated[datetime | None, Query(description="起始时间（含）")] = None,
    until: Annotated[datetime | None, Query(description="截止时间（不含）")] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**62, description="翻页游标")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="每页条数")] = 100,
) -> AuditPage:
    await audit_writer.flush()  # this replica's latest requests are readable at once
    q = select(RequestLog).order_by(RequestLog.id.desc()).limit(limit)
    for column, value in (
        (RequestLog.principal, principal_id),
        (RequestLog.app_key, app_key),
        (RequestLog.request_id, request_id),
        (RequestLog.code, code),
        (RequestLog.status, status),
    ):
        if value is not None:
            q = q.where(column == value)
    if path_prefix:
        q = q.where(RequestLog.path.startswith(path_prefix, autoescape=True))
    if since:
        q = q.where(RequestLog.at >= since)
    if until:
        q = q.where(RequestLog.at < until)
    if before_id:
        q = q.where(RequestLog.id < before_id)
    items = list(await session.scalars(q))
    return AuditPage(items=items, next_before_id=items[-1].id if len(items) == limit else None)


@admin.get("/app-keys", response_model=list[AppKeyOut], tags=["app-keys"], summary="应用标识列表")
async def list_app_keys(session: DbSession, principal: KeyAdmin) -> list[AppKey]:
    return list(await session.scalars(select(AppKey).order_by(AppKey.created_at)))


@admin.post(
    "/app-keys",
    status_code=201,
    response_model=AppKeyCreated,
    tags=["app-keys"],
    summary="为政务平台签发应用标识与密钥",
)
async def create_app_key(data: AppKeyIn, session: DbSession, principal: KeyAdmin) -> AppKeyCreated:
    row, secret = await appkeys.create_app_key(session, principal=principal, **data.model_dump())
    return AppKeyCreated(**AppKeyOut.model_validate(row).model_dump(), secret=secret)


@admin.patch(
    "/app-keys/{key}", response_model=AppKeyOut, tags=["app-keys"], summary="修改权限范围、限流或停用"
)
async def update_app_key(key: KeyPath, data: AppKeyPatch, session: DbSession, principal: KeyAdmin) -> AppKey:
    changes = data.model_dump(exclude_unset=True)
    reason = changes.pop("reason", None)
    return await appkeys.update_app_key(session, principal=principal, key=key, changes=changes, reason=reason)


@admin.post(
    "/app-keys/{key}/rotate",
    response_model=AppKeyCreated,
    tags=["app-keys"],
    summary="更换应用密钥（旧密钥随即失效）",
)
async def rotate_app_key(
    key: KeyPath, data: ReasonIn, session: DbSession, principal: KeyAdmin
) -> AppKeyCreated:
    row, secret = await appkeys.rotate_app_key(session, principal=principal, key=key, reason=data.reason)
    return AppKeyCreated(**AppKeyOut.model_validate(row).model_dump(), secret=secret)


async def _subscriber(session, principal: Principal, app_key: str | None) -> AppKey:
    is_admin = holds(principal.scopes, "admin:webhooks")
    key = app_key if (is_admin and app_key) else principal.app_key
    if key is None:
        raise InvalidInput(
            "请填写订阅方应用标识",
            code="webhook.app_key_required",
            fields=[{"field": "app_key", "message": "必填项缺失"}],
        )
    if app_key and app_key != key:
        raise Forbidden("只能为本平台订阅事件", code="auth.scope_missing", required_scope="admin:webhooks")
    row = await session.get(AppKey, key)
    if row is None or not row.active:
        raise InvalidInput(
            f"应用标识 {key} 不存在或已停用",
            code="app_key.not_found",
            fields=[{"field": "app_key", "message": "未知应用标识"}],
        )
    return row


@admin.post(
    "/webhooks/subscriptions",
    status_code=201,
    response_model=SubscriptionOut,
    tags=["webhooks"],
    summary="订阅事件推送",
)
async def subscribe(
    data: SubscriptionIn, session: DbSession, principal: HookCaller, response: Response
) -> WebhookSubscription:
    owner = await _subscriber(session, principal, data.app_key)
    problem = await egress.destination_problem(data.url)
    if problem:  # SSRF: never the platform itself, loopback or link-local (issue 14)
        raise InvalidInput(
            problem, code="webhook.url_forbidden", fields=[{"field": "url", "message": problem}]
        )
    types = sorted(set(data.event_types))
    unknown = [t for t in types if t not in webhooks.DELIVERED_EVENT_TYPES]
    if unknown:
        raise InvalidInput(
            f"不支持订阅的事件类型：{'、'.join(unknown)}",
            code="webhook.event_type_unknown",
            fields=[{"field": "event_types", "message": "未知事件类型"}],
            allowed=list(webhooks.DELIVERED_EVENT_TYPES),
        )
    for t in types:
        needed = event_scope(t)
        if needed and not holds(frozenset(owner.scopes), needed):
            raise Forbidden(
                f"订阅 {t} 需要权限范围 {needed}", code="auth.scope_missing", required_scope=needed
            )
    sub = WebhookSubscription(
        app_key=owner.key,
        event_types=types,
        url=data.url,
        signature_method=data.signature_method,
        active=True,
        created_by=principal.subject,
    )
    session.add(sub)
    await session.flush()
    await session.refresh(sub)
    await pipeline.audit(
        session,
        principal,
        entity="webhook_subscription",
        entity_id=sub.id,
        action="create",
        after=data.model_dump() | {"app_key": owner.key},
    )
    response.headers["Location"] = f"/api/v1/webhooks/subscriptions/{sub.id}"
    return sub


def _own(principal: Principal):
    return None if holds(principal.scopes, "admin:webhooks") else principal.app_key or ""


@admin.get(
    "/webhooks/subscriptions",
    response_model=list[SubscriptionOut],
    tags=["webhooks"],
    summary="事件订阅列表（平台只见本平台的）",
)
async def list_subscriptions(session: DbSession, principal: HookCaller) -> list[WebhookSubscription]:
    q = select(WebhookSubscription).order_by(WebhookSubscription.created_at)
    if (own := _own(principal)) is not None:
        q = q.where(WebhookSubscription.app_key == own)
    return list(await session.scalars(q))


@admin.delete(
    "/webhooks/subscriptions/{subscription_id}", status_code=204, tags=["webhooks"], summary="取消订阅"
)
async def unsubscribe(subscription_id: uuid.UUID, session: DbSession, principal: HookCaller) -> Response:
    sub = await session.get(WebhookSubscription, subscription_id)
    own = _own(principal)
    if sub is None or (own is not None and sub.app_key != own):
        raise NotFound(f"订阅 {subscription_id} 不存在", code="webhook.subscription_not_found")
    if sub.active:
        sub.active = False
        # its pending deliveries stop retrying (issue 14)
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == sub.id, WebhookDelivery.status == "pending")
            .values(status="cancelled")
        )
        await session.flush()
        await pipeline.audit(
            session,
            principal,
            entity="webhook_subscription",
            entity_id=sub.id,
            action="deactivate",
            before={"active": True},
            after={"active": False},
        )
    return Response(status_code=204)


@admin.get(
    "/webhooks/deliveries",
    response_model=list[DeliveryOut],
    tags=["webhooks"],
    summary="事件投递记录（含死信）",
)
async def list_deliveries(
    session: DbSession,
    principal: HookCaller,
    status: Annotated[
        Literal["pending", "delivered", "dead", "cancelled"] | None, Query(description="状态")
    ] = None,
    event_type: Annotated[str | None, Query(max_length=80, description="事件类型")] = None,
    subscription_id: Annotated[uuid.UUID | None, Query(description="订阅 ID")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="条数")] = 100,
) -> list[WebhookDelivery]:
    q = select(WebhookDelivery).order_by(WebhookDelivery.created_at.desc()).limit(limit)
    if (own := _own(principal)) is not None:
        q = q.where(WebhookDelivery.app_key == own)
    if status:
        q = q.where(WebhookDelivery.status == status)
    if event_type:
        q = q.where(WebhookDelivery.event_type == event_type)
    if subscription_id:
        q = q.where(WebhookDelivery.subscription_id == subscription_id)
    return list(await session.scalars(q))


@admin.post(
    "/webhooks/deliveries/{delivery_id}/replay",
    response_model=DeliveryOut,
    tags=["webhooks"],
    summary="重放投递（管理员）",
)
async def replay_delivery(
    delivery_id: uuid.UUID, data: ReasonIn, session: DbSession, principal: HookAdmin
) -> WebhookDelivery:
    return await webhooks.replay(session, principal=principal, delivery_id=delivery_id, reason=data.reason)
