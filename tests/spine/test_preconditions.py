"""If-Match: one parser and one check for every route that takes it (issue 16)."""

from __future__ import annotations

import pytest

from shared.errors import InvalidInput, PreconditionFailed
from shared.preconditions import IfMatch, parse_if_match, require_version


def test_strong_and_weak_tags_name_the_same_version():
    # issue 16: W/"3" and "3" are accepted the same way; spaces around are ignored
    assert parse_if_match('"3"') == IfMatch(frozenset({3}))
    assert parse_if_match('W/"3"') == IfMatch(frozenset({3}))
    assert parse_if_match('  W/"3" ') == IfMatch(frozenset({3}))
    assert parse_if_match('"3", W/"4"') == IfMatch(frozenset({3, 4}))


def test_absent_is_none_and_star_matches_any_existing_version():
    # issue 16 / RFC 9110 13.1.1: "*" is true when a current version exists, false when none does
    assert parse_if_match(None) is None
    star = parse_if_match("*")
    assert star == IfMatch(any_version=True)
    assert star.matches(1) and star.matches(7)
    assert not star.matches(None)


@pytest.mark.parametrize("garbage", ["3", "", "W/3", '"abc"', '"3', 'W/"3",', "**", '"-1"', '"1234567890"'])
def test_malformed_values_are_422_precondition_invalid(garbage):
    # issue 16: a value that is no ETag is the client's 422 with the field named, never a 412
    with pytest.raises(InvalidInput) as err:
        parse_if_match(garbage)
    assert err.value.code == "precondition.invalid"
    assert err.value.fields == [{"field": "If-Match", "message": "不是有效的 ETag"}]


def test_a_stale_version_is_412_with_the_current_one():
    # issue 16: version 3 is current; "2" is stale, "3" / W/"3" / a list with 3 / * pass
    for ok in ('"3"', 'W/"3"', '"2", "3"', "*"):
        require_version(parse_if_match(ok), 3, entity="project", what="项目")
    require_version(None, 3, entity="project", what="项目")  # absent: not conditional
    with pytest.raises(PreconditionFailed) as err:
        require_version(parse_if_match('"2"'), 3, entity="project", what="项目")
    assert (err.value.status, err.value.code) == (412, "project.stale")
    assert err.value.extra == {"current_version": 3}


def test_any_tag_fails_when_there_is_nothing_to_match():
    # issue 16: a year's plan not declared yet has no version; If-Match (even *) is 412
    with pytest.raises(PreconditionFailed) as err:
        require_version(parse_if_match("*"), None, entity="plan", what="2027 年计划")
    assert err.value.code == "plan.stale" and err.value.extra == {"current_version": None}
