"""The KPI registry is complete: every number has one definition, in the JSON contract order."""

from __future__ import annotations

from salesops_core.kpi.format import FORMATTERS
from salesops_core.kpi.registry import CHOICES, EXPLAINABLE, KPI_KEYS, KPIS, Family, KpiValues, Unit

# DESIGN.md section 4: the `kpis` keys of `salesops kpi --format json`, in this order.
JSON_KEYS = (
    "quota_attainment",
    "quota_attainment_rate",
    "win_rate",
    "avg_deal_size",
    "avg_sales_cycle_days",
    "won_amount",
    "won_count",
    "lost_count",
    "open_pipeline_value",
    "weighted_pipeline_value",
    "pipeline_coverage",
    "pipeline_velocity_per_day",
    "stale_deal_share",
    "lead_response_minutes_median",
    "lead_response_minutes_p90",
    "lead_sla_met_share",
    "leads_unanswered",
    "selling_time_share",
    "meetings_per_rep_per_week",
    "forecast_accuracy",
    "pipeline_conversion",
    "pipeline_conversion_lost",
    "pipeline_conversion_slipped",
    "pipeline_conversion_shrunk",
    "pipeline_conversion_base",
)


def test_the_registry_keys_are_the_json_contract_in_order() -> None:
    assert KPI_KEYS == JSON_KEYS


def test_the_typed_kpi_values_have_the_registry_keys_in_order() -> None:
    assert tuple(KpiValues.__annotations__) == KPI_KEYS


def test_every_kpi_has_a_distinct_label_and_a_formula() -> None:
    labels = [k.label for k in EXPLAINABLE.values()]
    assert len(set(labels)) == len(labels)
    assert all(k.formula for k in EXPLAINABLE.values())


def test_every_unit_has_a_formatter_and_every_family_its_choices() -> None:
    assert set(FORMATTERS) == set(Unit)
    assert set(CHOICES) == set(Family) == {k.family for k in EXPLAINABLE.values()}


def test_stage_conversion_is_explainable_but_not_a_report_kpi() -> None:
    assert "stage_conversion" in EXPLAINABLE and "stage_conversion" not in KPI_KEYS
    assert len(KPIS) == len(EXPLAINABLE) - 1
