"""The report's server-side SVG: the top services and "other" over the 12 weeks, drawn without a library."""

from datetime import date, timedelta

from reports.charts import OTHER, service_series, services_chart

STARTS = [date(2026, 11, 16) - timedelta(weeks=k) for k in range(3, -1, -1)]
NAMES = {1: "api", 2: "web", 3: "jobs", 4: "mail"}
HISTORY = {
    1: {STARTS[0]: 10, STARTS[3]: 50},
    2: {STARTS[1]: 30},
    3: {STARTS[2]: 5},
    4: {STARTS[3]: 4},
    9: {STARTS[0]: 1},
}  # 9: a service no longer listed this week


def test_it_keeps_the_top_services_and_adds_up_the_rest_as_other():
    series = service_series(HISTORY, NAMES, STARTS, top=2)
    assert [(s.name, s.values) for s in series] == [
        ("api", [10, 0, 0, 50]),
        ("web", [0, 30, 0, 0]),
        (OTHER, [1, 0, 5, 4]),
    ]


def test_it_draws_no_other_line_when_every_service_is_shown():
    series = service_series({1: HISTORY[1]}, NAMES, STARTS)
    assert [s.name for s in series] == ["api"]


def test_it_draws_one_labelled_line_per_series_on_round_grid_lines():
    weeks = ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
    svg = services_chart(service_series(HISTORY, NAMES, STARTS, top=2), weeks)
    assert svg.count("<polyline") == 3 and svg.count('class="grid"') == 5
    assert [f">{v}</text>" in svg for v in (0, 20, 40, 60, 80)] == [True] * 5  # 50 → steps of 20
    assert ">api <tspan" in svg and ">other <tspan" in svg and ">W47</text>" in svg
    assert 'aria-label="Events per service and week, 4 weeks (totals: api 60; web 30; other 10)"' in svg
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
