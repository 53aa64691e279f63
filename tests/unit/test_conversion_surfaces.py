"""Pipeline efficiency in the digest: a quarter-to-date field and one mover for its split."""

from __future__ import annotations

from dataclasses import replace

from commands.digest import digest_message
from salesops_core.digest.content import biggest_movers
from tests.unit.test_digest_blocks import QUARTER, digest, field_texts, kpis, section_starting

SPLIT = {
    "pipeline_conversion": 0.22,
    "pipeline_conversion_lost": 0.083,
    "pipeline_conversion_slipped": 0.6,
    "pipeline_conversion_shrunk": 0.097,
    "pipeline_conversion_base": 1_200_000.0,
}


def quarter_fields(**changes) -> list[str]:
    qtd = kpis(won_amount=640_000.0, quota_attainment=0.64, won_count=14, **SPLIT)
    message = digest_message(digest(quarter_to_date=qtd, **changes))
    return field_texts(section_starting(message, "*Quarter to date*"))


def test_quarter_to_date_shows_pipeline_efficiency_won_so_far_and_still_open() -> None:
    assert quarter_fields()[-1] == (
        "*Pipeline efficiency*\n22% won so far of $1.2M open at the start\n"
        "_8.3% lost · 60% still open · 9.7% shrunk_"
    )


def test_a_closed_quarter_says_won_and_slipped() -> None:
    closed = replace(QUARTER, running=False)
    assert quarter_fields(quarter=closed)[-1] == (
        "*Pipeline efficiency*\n22% won of $1.2M open at the start\n"
        "_8.3% lost · 60% slipped · 9.7% shrunk_"
    )


def test_the_efficiency_is_the_mover_not_its_parts() -> None:
    before = kpis(**SPLIT)
    now = kpis(**{**SPLIT, "pipeline_conversion": 0.32, "pipeline_conversion_slipped": 0.2})
    [mover] = biggest_movers("NA East", now, before, [])
    assert (mover.key, mover.current, mover.previous) == ("pipeline_conversion", 0.32, 0.22)
