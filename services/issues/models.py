"""The issues service's schema."""

from __future__ import annotations

from shared.db import make_base
from shared.events import EventPipeline

Base = make_base("issues")
pipeline = EventPipeline("issues", Base.metadata)
