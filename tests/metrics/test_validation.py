"""Validation of the YAML model: every rule of metrics/rules.py (and the parser's own checks)
reports `file:line: message`, with 'did you mean' where a close name exists; every problem is
collected in one pass; `cockpit check` exits 1 on errors and 0 on a good model."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from metrics import rules
from metrics.registry import check_model, load_model
from warehouse.errors import ModelError

from .hospital import MODEL_DIR

ROOT = Path(__file__).resolve().parents[2]

DIMENSIONS = """\
enums:
  - {name: visit_type, zh: 就诊类型, en: Visit type, values: {outpatient: 门诊, emergency: 急诊}}
settings:
  - {name: temp_cancel_hours, default: 24, description: hours}
"""

THEME = """\
theme: visits
zh: 就诊
en: Visits
facts:
  - name: visit
    table: fact_visit
    time: visit_ts
    org: {department: f.dept_id, doctor: f.doctor_id}
    enums: [visit_type]
    measures:
      - {name: opd_visit_count, agg: count, filter: "visit_type = 'outpatient'"}
      - {name: opd_appointment_count, agg: count, filter: "is_appointment"}
    materializations:
      - name: daily
        grain: day
        dimensions: [department, doctor]
        measures: [opd_visit_count]
  - name: discharge
    table: fact_inpatient
    time: f.discharge_ts
    org: {department: f.discharge_dept_id}
    measures:
      - {name: discharge_count, agg: count}
metrics:
  - id: opd_visits
    zh: 门诊人次
    en: Outpatient visits
    kind: simple
    measure: opd_visit_count
    unit: 人次
    format: integer
    direction: up
    standard: 统计
    panel: t
    description: outpatient visits
  - id: appointment_rate
    zh: 预约率
    en: Appointment rate
    kind: ratio
    numerator: opd_appointment_count
    denominator: opd_visit_count
    unit: "%"
    format: percent
    direction: up
    standard: 国考#22
    panel: t
    description: booked share
"""


def write_model(folder: Path, theme: str = THEME, dims: str = DIMENSIONS,
                extra: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dimensions.yaml").write_text(dims, encoding="utf-8")
    (folder / "visits.yaml").write_text(theme, encoding="utf-8")
    for name, text in (extra or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line containing `needle`."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    assert len(hits) >= nth, f"{needle!r} not in the test YAML"
    return hits[nth - 1]


def errors(folder: Path) -> list[str]:
    _, issues = check_model(folder)
    return [i.message for i in issues if i.level == "error"]


def loc(folder: Path, file: str, line: int) -> str:
    return f"{folder / file}:{line}: "


def only_error(folder: Path) -> str:
    errs = errors(folder)
    assert len(errs) == 1, errs
    return errs[0]


def test_base_model_is_clean(tmp_path):
    _, issues = check_model(write_model(tmp_path))
    assert issues == []


# -- the parser (pydantic, YAML) --------------------------------------------------------------
def test_unknown_key(tmp_path):
    theme = THEME.replace("    unit: 人次\n", "    unit: 人次\n    colour: red\n")
    f = write_model(tmp_path, theme)
    msg = only_error(f)
    assert msg.startswith(loc(f, "visits.yaml", line_of(theme, "colour: red")))
    assert "unknown key 'colour'" in msg


def test_missing_required_key(tmp_path):
    theme = THEME.replace("    unit: 人次\n", "")
    f = write_model(tmp_path, theme)
    msg = only_error(f)
    assert msg.startswith(loc(f, "visits.yaml", line_of(theme, "- id: opd_visits")))
    assert "missing required key 'unit'" in msg


def test_wrong_literal_names_field_and_value(tmp_path):
    theme = THEME.replace("kind: simple", "kind: simpel")
    f = write_model(tmp_path, theme)
    msg = only_error(f)
    assert msg.startswith(loc(f, "visits.yaml", line_of(theme, "kind: simpel")))
    assert "'simpel'" in msg and "kind" in msg


def test_yaml_syntax_error_has_line(tmp_path):
    theme = THEME.replace("    panel: t\n    description: outpatient visits\n",
                          "    panel: [t\n    description: outpatient visits\n", 1)
    f = write_model(tmp_path, theme)
    msg = only_error(f)
    assert msg.startswith(str(f / "visits.yaml") + ":")
    line = int(msg.split(":")[1])
    assert line_of(theme, "panel: [t") <= line <= line_of(theme, "panel: [t") + 2


def test_duplicate_yaml_key_is_reported_with_line(tmp_path):
    theme = THEME.replace("    unit: 人次\n", "    unit: 人次\n    unit: 次\n")
    f = write_model(tmp_path, theme)
    msg = only_error(f)
    assert msg.startswith(loc(f, "visits.yaml", line_of(theme, "unit: 次")))
    assert "duplicate key 'unit'" in msg


def test_duplicate_metric_id(tmp_path):
    other = THEME.split("metrics:\n")[1]
    extra = "theme: more\nzh: 更多\nen: More\nmetrics:\n" + other.split("  - id: appointment_rate")[0]
    f = write_model(tmp_path, extra={"zz_more.yaml": extra})
    msg = only_error(f)
    assert msg.startswith(loc(f, "zz_more.yaml", line_of(extra, "- id: opd_visits")))
    assert "metric 'opd_visits' is defined twice" in msg
    assert f"also at {f / 'visits.yaml'}:{line_of(THEME, '- id: opd_visits')}" in msg


def test_duplicate_measure_name(tmp_path):
    theme = THEME.replace("      - {name: discharge_count, agg: count}",
                          "      - {name: discharge_count, agg: count}\n"
                          "      - {name: opd_visit_count, agg: count}")
    f = write_model(tmp_path, theme)
    msg = only_error(f)
    assert msg.startswith(loc(f, "visits.yaml", line_of(theme, "opd_visit_count, agg", 2)))
    assert "measure 'opd_visit_count' is defined twice" in msg


# -- one test per rule class ------------------------------------------------------------------
FACT_LINE = line_of(THEME, "- name: visit")
METRIC_LINE = line_of(THEME, "- id: opd_visits")
RATIO_LINE = line_of(THEME, "- id: appointment_rate")

CASES = {
    # rule class: (old text, new text, line, message fragments)
    "FactTablesExist": ("table: fact_visit", "table: fact_visits", FACT_LINE,
                        ["fact 'visit': unknown table 'fact_visits'",
                         "(did you mean 'fact_visit'?)"]),
    "ExpressionsParse": ("filter: \"is_appointment\"", "filter: \"is_apointment\"", FACT_LINE,
                         ["fact 'visit' measure opd_appointment_count.filter: unknown column "
                          "'is_apointment'", "(did you mean 'is_appointment'?)"]),
    "MetricReferences": ("measure: opd_visit_count", "measure: opd_visits_count", METRIC_LINE,
                         ["metric 'opd_visits': unknown measure 'opd_visits_count'",
                          "(did you mean 'opd_visit_count'?)"]),
    "NoCycles": None,  # below: needs two metrics
    "FactDimensions": ("enums: [visit_type]", "enums: [visit_type, payer]", FACT_LINE,
                       ["fact 'visit': enum dimension 'payer' is not declared in dimensions.yaml",
                        "fact 'visit': enum dimension 'payer' is not a column of fact_visit"]),
    "MaterializationsValid": ("measures: [opd_visit_count]",
                              "measures: [opd_visit_count, discharge_count]", FACT_LINE,
                              ["materialization 'daily': measure 'discharge_count' is not a "
                               "measure of fact 'visit'"]),
    "MetricPresentation": ("    description: booked share\n",
                           "    description: booked share\n    band: [0.9, 0.5]\n", RATIO_LINE,
                           ["metric 'appointment_rate': band must be [lo, hi] with lo <= hi, "
                            "found [0.9, 0.5]"]),
    "OrgDeclared": ("org: {department: f.dept_id, doctor: f.doctor_id}",
                    "org: {doctor: f.doctor_id}", FACT_LINE,
                    ["fact 'visit': org needs 'department' (or 'campus' for a fact without "
                     "departments)"]),
    "SettingsKnown": ("filter: \"is_appointment\"",
                      "filter: \"is_appointment and 1 < {{temp_cancel_hour}}\"", FACT_LINE,
                      ["fact 'visit': unknown setting 'temp_cancel_hour'",
                       "(did you mean 'temp_cancel_hours'?)"]),
}


def test_every_rule_has_a_case():
    assert {type(r).__name__ for r in rules.RULES} == set(CASES)


@pytest.mark.parametrize("rule", [r for r, c in CASES.items() if c is not None])
def test_rule_reports_file_line_and_suggestion(tmp_path, rule):
    old, new, line, fragments = CASES[rule]
    assert old in THEME
    f = write_model(tmp_path, THEME.replace(old, new))
    errs = errors(f)
    for frag in fragments:
        hits = [e for e in errs if frag in e]
        assert hits, f"{frag!r} not in {errs}"
        assert all(h.startswith(loc(f, "visits.yaml", line)) for h in hits), hits
    rule_cls = next(type(r) for r in rules.RULES if type(r).__name__ == rule)
    from metrics.registry import parse_files
    model, problems = parse_files(f)
    assert problems == []
    assert any(fragments[0] in i.message for i in rule_cls().check(model))


def test_cycle_in_derived_metrics(tmp_path):
    extra = """\
theme: derived
zh: 派生
en: Derived
metrics:
  - id: a_plus
    zh: a
    en: a
    kind: derived
    expr: b_plus + 1
    unit: x
    format: integer
    direction: up
    standard: s
    panel: t
    description: d
  - id: b_plus
    zh: b
    en: b
    kind: derived
    expr: a_plus + opd_visits
    unit: x
    format: integer
    direction: up
    standard: s
    panel: t
    description: d
"""
    f = write_model(tmp_path, extra={"derived.yaml": extra})
    errs = errors(f)
    a = [e for e in errs if "metric 'a_plus' depends on itself" in e]
    assert a and a[0].startswith(loc(f, "derived.yaml", line_of(extra, "- id: a_plus")))
    assert "a_plus -> b_plus -> a_plus" in a[0]
    assert any("metric 'b_plus' depends on itself: b_plus -> a_plus -> b_plus" in e for e in errs)


def test_materialization_dimension_the_fact_lacks(tmp_path):
    theme = THEME.replace("dimensions: [department, doctor]", "dimensions: [department, doctr, drg]")
    f = write_model(tmp_path, theme)
    errs = errors(f)
    assert any(e.startswith(loc(f, "visits.yaml", FACT_LINE)) and
               "materialization 'daily': fact 'visit' does not carry dimension 'doctr' "
               "(did you mean 'doctor'?)" in e for e in errs), errs
    assert any("does not carry dimension 'drg'" in e for e in errs), errs


def test_ratio_part_that_is_a_metric(tmp_path):
    theme = THEME.replace("denominator: opd_visit_count", "denominator: opd_visits")
    f = write_model(tmp_path, theme)
    msg = only_error(f)
    assert msg.startswith(loc(f, "visits.yaml", RATIO_LINE))
    assert "a ratio's parts are measures; 'opd_visits' is a metric" in msg


def test_kind_needs_its_fields(tmp_path):
    theme = THEME.replace("    numerator: opd_appointment_count\n", "")
    f = write_model(tmp_path, theme)
    assert any(e.startswith(loc(f, "visits.yaml", RATIO_LINE)) and
               "metric 'appointment_rate': kind ratio needs 'numerator'" in e
               for e in errors(f))


def test_band_direction_without_band_is_a_warning(tmp_path):
    theme = THEME.replace("    direction: up\n    standard: 统计", "    direction: band\n    standard: 统计")
    f = write_model(tmp_path, theme)
    _, issues = check_model(f)
    assert [i.level for i in issues] == ["warning"]
    assert "direction band without a band" in issues[0].message


# -- one pass ---------------------------------------------------------------------------------
def test_parse_problems_in_two_files_are_all_reported(tmp_path):
    theme = THEME.replace("    unit: 人次\n", "    unit: 人次\n    colour: red\n")
    dims = DIMENSIONS + "  - {name: x, default: 1, description: y, extra_key: 2}\n"
    f = write_model(tmp_path, theme, dims)
    errs = errors(f)
    assert len(errs) == 2, errs
    assert any(e.startswith(loc(f, "visits.yaml", line_of(theme, "colour"))) for e in errs)
    assert any(e.startswith(loc(f, "dimensions.yaml", line_of(dims, "extra_key"))) and
               "unknown key 'extra_key'" in e for e in errs)


def test_rule_problems_in_two_files_are_all_reported(tmp_path):
    theme = THEME.replace("table: fact_visit", "table: fact_visitt").replace(
        "measure: opd_visit_count", "measure: opd_visit_cnt")
    extra = ("theme: more\nzh: 更多\nen: More\nmetrics:\n  - id: ed\n    zh: 急诊\n    en: ED\n"
             "    kind: simple\n    measure: ed_count\n    unit: x\n    format: integer\n"
             "    direction: up\n    band: [2, 1]\n    standard: s\n    panel: t\n"
             "    description: d\n")
    f = write_model(tmp_path, theme, extra={"more.yaml": extra})
    errs = errors(f)
    assert any("unknown table 'fact_visitt'" in e for e in errs)
    assert any("unknown measure 'opd_visit_cnt'" in e for e in errs)
    assert any(e.startswith(loc(f, "more.yaml", 5)) and "unknown measure 'ed_count'" in e
               for e in errs)
    assert any(e.startswith(loc(f, "more.yaml", 5)) and "band must be" in e for e in errs)
    with pytest.raises(ModelError) as e:
        load_model(f)
    assert len(e.value.problems) == len(errs)


def test_the_test_model_is_valid():
    _, issues = check_model(MODEL_DIR)
    assert issues == []


# -- cockpit check --------------------------------------------------------------------------
def _check_cli(folder: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "cockpit.cli", "check", str(folder)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def test_cockpit_check_exit_codes(tmp_path):
    good = _check_cli(write_model(tmp_path / "good"))
    assert good.returncode == 0, good.stderr
    assert "ok: 2 metrics" in good.stdout
    bad_dir = write_model(tmp_path / "bad", THEME.replace("measure: opd_visit_count",
                                                          "measure: opd_visit_cnt"))
    bad = _check_cli(bad_dir)
    assert bad.returncode == 1
    assert f"{bad_dir / 'visits.yaml'}:{METRIC_LINE}: metric 'opd_visits': unknown measure " \
           "'opd_visit_cnt' (did you mean 'opd_visit_count'?)" in bad.stderr
    assert "1 error(s)" in bad.stderr


def test_check_command_through_typer(tmp_path):
    from typer.testing import CliRunner

    from cockpit import cli

    cli._register_all()
    runner = CliRunner()
    ok = runner.invoke(cli.app, ["check", str(write_model(tmp_path / "good"))])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(cli.app, ["check", str(write_model(
        tmp_path / "bad", THEME.replace("table: fact_visit", "table: fact_vist")))])
    assert bad.exit_code == 1
    assert "unknown table 'fact_vist' (did you mean 'fact_visit'?)" in bad.output
