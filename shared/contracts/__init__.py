"""Typed, versioned event contracts (architecture: must; issue 11).

Each event type has one pydantic model per version; its producer builds the model (so the
payload is validated before it reaches the outbox) and its consumers parse the same model.
Every payload carries ``event_version``. A payload that does not validate, or whose
version no model knows, raises :class:`ContractViolation`: the consumer parks it as a
dead letter at once (no retries — the payload will not change), never a silent default.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.jsonutil import dumps


class ContractViolation(Exception):
    """An event whose payload breaks its type's contract (or names an unknown version)."""


CONTRACTS: dict[tuple[str, int], type[EventContract]] = {}


class EventContract(BaseModel):
    """Base of every contract: frozen, no unknown fields, ``event_version`` always sent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: ClassVar[str] = ""
    event_version: int

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.__dict__.get("event_type"):
            version = cls.model_fields["event_version"].default
            key = (cls.event_type, version)
            if key in CONTRACTS and CONTRACTS[key] is not cls:
                raise TypeError(f"two contracts for {key}")
            CONTRACTS[key] = cls

    def payload(self) -> dict[str, Any]:
        """The JSON the outbox stores (Decimals as strings, dates ISO)."""
        return self.model_dump(mode="json")

    def payload_json(self) -> str:
        return dumps(self.payload())


def contract_for(type_: str, version: int = 1) -> type[EventContract]:
    try:
        return CONTRACTS[(type_, version)]
    except KeyError:
        raise ContractViolation(f"事件 {type_} 没有版本 {version} 的契约") from None


def build(type_: str, payload: dict[str, Any], version: int = 1) -> EventContract:
    """The producer's side for rows written in bulk: validate ``payload`` as ``type_``."""
    return contract_for(type_, version).model_validate({**payload, "event_version": version})


def parse(type_: str, payload: Any) -> EventContract:
    """The consumer's side: the model of ``payload``, or ContractViolation."""
    if not isinstance(payload, dict):
        raise ContractViolation(f"事件 {type_} 的内容不是对象")
    version = payload.get("event_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ContractViolation(f"事件 {type_} 缺少有效的 event_version")
    model = contract_for(type_, version)
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise ContractViolation(f"事件 {type_} v{version} 不符合契约：{problems}") from None


def all_types() -> set[str]:
    return {t for t, _ in CONTRACTS}


# the producers' modules register their contracts on import
from shared.contracts import approvals, issues, registry, scoring  # noqa: E402,F401
