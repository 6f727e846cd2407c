"""Renders BENCHMARKS.md from the result files the benchmarks wrote.

``make bench`` runs it after ``bench/turns.py``; it also picks up the NLU,
caseload and scale results when they exist (``make bench-nlu``,
``make bench-caseload``, ``make bench-scale``). Each section says when and on
what it was measured and how to measure it again.
"""

from __future__ import annotations

import json
from typing import Any

from bot import ROOT

BENCH = ROOT / "bench"
OUT = ROOT / "BENCHMARKS.md"


def load(name: str) -> dict[str, Any] | None:
    path = BENCH / name
    return json.loads(path.read_text()) if path.is_file() else None


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("–" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def turns_section(r: dict[str, Any]) -> str:
    machine = r["machine"]
    out = [
        "## Turns: Koers against a bare `rasa init` assistant (`make bench`)",
        f"Measured {r['date']} on {machine['platform']}, {machine['cpus']} cores, "
        f"Python {machine['python']}. Both assistants ran at the same time on this machine; the bare one "
        "is `rasa init`'s moodbot (Rasa 3.6.21, no custom actions, in-memory tracker store). Koers ran as "
        "`make run` runs it (SQLite, SQL tracker store, action server, web app). Each Koers conversation "
        "is an employee's visit: greet, menu, an application logged in one sentence plus its channel and "
        "save, progress, thanks, bye.",
        "",
        "### Bars",
        table(
            ["measure", "value", "bar", "met"],
            [[name, b["value"], b["bar"], "yes" if b["met"] else "**no**"] for name, b in r["bars"].items()],
        ),
        "",
        "### Latency and throughput",
    ]
    rows = []
    for run, data in r["turns"].items():
        for who in ("bare", "koers"):
            d = data[who]
            rows.append(
                [
                    run,
                    who,
                    d["turns"],
                    d["p50_ms"],
                    d["p95_ms"],
                    d["p99_ms"],
                    d["turns_per_second"],
                    d["errors"],
                ]
            )
    out.append(table(["run", "assistant", "turns", "p50 ms", "p95 ms", "p99 ms", "turns/s", "errors"], rows))
    long = r["long_history"]
    out += [
        "",
        "### Flat with conversation length",
        f"One employee, {long['turns']} turns over {long['days']} simulated days ({long['sessions']} Rasa "
        f"sessions, {long['events_stored']} tracker events stored): p50 of turns 1–20 "
        f"{long['turns_1_20']['p50_ms']} ms, of turns 481–500 {long['turns_481_500']['p50_ms']} ms "
        f"(ratio {long['p50_ratio_500_to_10']}). Sessions expire after 30 quiet minutes; Rasa loads only the "
        "current session's events, and what must last (profile, flows, language) lives in Koers' tables.",
        "",
        "### Cost",
        table(
            ["measure", "Koers", "bare Rasa"],
            [
                [
                    f"training from scratch (s; Koers: {r['training_seconds'].get('source', 'this run')})",
                    r["training_seconds"]["koers"],
                    r["training_seconds"]["bare"],
                ],
                ["start until ready (s)", r["ready_seconds"]["koers"], r["ready_seconds"]["bare"]],
            ],
        ),
        "",
        "Resident memory under load (MB):",
        "",
    ]
    mem_rows = []
    for run, data in r["memory_mb"].items():
        koers = data["koers"]
        mem_rows.append(
            [
                run,
                *(koers.get(k) for k in ("rasa", "actions", "web", "supervisor", "total")),
                data["bare_rasa"],
            ]
        )
    out.append(
        table(["during", "rasa", "actions", "web", "supervisor", "Koers total", "bare Rasa"], mem_rows)
    )
    return "\n".join(out)


NLU_COLUMNS = ("examples", "intent_accuracy", "intent_macro_f1", "entity_f1")


def nlu_scores(first: str, crisis: str, scored: dict[str, dict[str, Any]], crisis_key: str) -> list[str]:
    """A table of NLU scores (one row per set or language) and the most frequent confusions."""
    rows = [
        [name, *(s[k] for k in NLU_COLUMNS), s[crisis_key], s.get("crisis_net_false_alarms", "–")]
        for name, s in scored.items()
    ]
    out = [
        table([first, "examples", "accuracy", "macro-F1", "entity F1", crisis, "net false alarms"], rows),
        "",
        "Most frequent confusions (gold → predicted):",
        "",
    ]
    for name, s in scored.items():
        pairs = ", ".join(f"{c['gold']}→{c['predicted']} ({c['count']})" for c in s.get("confusions", [])[:5])
        out.append(f"- {name}: {pairs or 'none'}")
    return out


def nlu_section(r: dict[str, Any]) -> str:
    out = [
        "## NLU quality on held-out sets (`make bench-nlu`)",
        f"Measured {r['date']}. Goal: intent macro-F1 ≥ {r['goal']['intent_macro_f1']} (nl, en), "
        f"≥ {r['goal'].get('intent_macro_f1_added_languages', 0.93)} (languages added later) and crisis "
        "recall 1.0 (intent or keyword net). Set A (`heldout_xx.tsv`) and set B (`heldout_b_xx.tsv`) were "
        "written by people who never saw the training data; the errors of set A were read while building "
        "the model, set B's only for the crisis net, so set B is the independent measure.",
        "",
    ]
    return "\n".join(out + nlu_scores("set:language", "crisis recall", r["sets"], "crisis_recall"))


def nlu_cv_section(r: dict[str, Any]) -> str:
    minutes = round(sum(t["seconds"] for t in r["timings"]) / 60, 1)
    out = [
        f"## NLU cross-validation ({r['folds']} folds, `make bench-nlu-cv`)",
        f"Measured {r['date']}. Every training example is held back once (folds stratified by language and "
        f"intent, seed {r['seed']}); {r['folds']} models trained with `nlu/config.yml` ({minutes} min of "
        "training), scored with the rules of the held-out sets (crisis recall: intent or keyword net).",
        "",
    ]
    return "\n".join(out + nlu_scores("language", "crisis recall", r["languages"], "crisis_recall"))


def caseload_section(r: dict[str, Any]) -> str:
    rows = [[page, v["p50_ms"], v["p95_ms"]] for page, v in r["pages"].items()]
    return "\n".join(
        [
            "## Coach caseload at scale (`make bench-caseload`)",
            f"Measured {r['measured_at']} on {r['machine']}, {r['database']}: {r['employees']} employees, "
            f"{r['applications']} applications, {r['rounds']} rounds per view; "
            f"goal p95 ≤ {r['goal_p95_ms']} ms.",
            "",
            table(["view", "p50 ms", "p95 ms"], rows),
        ]
    )


def gate_section(r: dict[str, Any]) -> str:
    machine = r["machine"]
    rows = []
    for setting, rounds in r["settings"].items():
        for n, d in enumerate(rounds, 1):
            label = "no limit" if setting == "0" else setting
            rows.append(
                [
                    label,
                    n,
                    d["p50_ms"],
                    d["p95_ms"],
                    d["p99_ms"],
                    d["seconds"],
                    d["turns_per_second"],
                    d["errors"],
                ]
            )
    return "\n".join(
        [
            "## Turns at once in the Rasa server (`make bench-gate`)",
            f"Measured {r['date']} on {machine['platform']}, {machine['cpus']} cores. Koers started once per "
            f"setting of `KOERS_RASA_TURNS_AT_ONCE`; each round sends {r['conversations']} employees' visits "
            "(the script of `make bench`) at once. The default, 2, comes from this table.",
            "",
            table(
                ["turns at once", "round", "p50 ms", "p95 ms", "p99 ms", "seconds", "turns/s", "errors"], rows
            ),
        ]
    )


def scale_section(r: dict[str, Any]) -> str:
    rows = []
    for leg in ("one_rasa_server", "two_behind_nginx"):
        d = r[leg]
        c = d["check"]
        rows.append(
            [
                leg,
                d["conversations"],
                d["turns"],
                d["turns_per_second"],
                d["p50_ms"],
                d["p95_ms"],
                d["errors"],
                f"{c['stored']}/{c['expected']}",
                c["lost"],
                c["duplicated"],
                c["conversations_out_of_order"],
            ]
        )
    return "\n".join(
        [
            "## Beyond one machine (`make bench-scale`)",
            f"Measured {r['date']}: {r['shape']}; every conversation logs "
            f"{r['applications_per_conversation']} applications. Ready after {r['ready_seconds']} s. "
            f"Throughput two servers ÷ one: {r['throughput_ratio_two_to_one']} (on 2 cores both legs share "
            "the same CPUs: a second server adds capacity only where there are cores to run it).",
            "",
            table(
                [
                    "leg",
                    "conversations",
                    "turns",
                    "turns/s",
                    "p50 ms",
                    "p95 ms",
                    "errors",
                    "stored/expected",
                    "lost",
                    "duplicated",
                    "out of order",
                ],
                rows,
            ),
            "",
            "Memory (MB): " + ", ".join(f"{k} {v}" for k, v in r.get("memory_mb", {}).items()),
        ]
    )


def coach_scale_section(r: dict[str, Any]) -> str:
    rows = []
    for name, d in r["databases"].items():
        worst = max(v["p95_ms"] for v in d["caseload"].values())
        worst_all = max(v["p95_ms"] for v in d["all_employees"].values())
        rows.append(
            [
                name,
                d["rows_total"],
                d["seed_seconds"],
                worst,
                d["employee_page"]["p95_ms"],
                worst_all,
                d["employee_page_all"]["p95_ms"],
                d["report_pdf"]["in_process_seconds"]["p95"],
                d["report_pdf"]["command_seconds"]["median"],
            ]
        )
    sizes = r["sizes"]
    return "\n".join(
        [
            "## Coach side at scale (`make bench-coach`)",
            f"Measured {r['measured_at']} on {r['machine']}: `koers seed` with {sizes['coaches']} coaches, "
            f"{sizes['employees']} employees, {sizes['weeks']} weeks of history; {r['rounds']} requests per "
            "view through the real web app. Bars: caseload p95 ≤ 300 ms, employee page p95 ≤ 200 ms, "
            f"employer PDF ≤ 2 s. All bars met: {'yes' if r['met'] else 'no: ' + ', '.join(r['missed'])}.",
            "",
            table(
                [
                    "database",
                    "rows",
                    "seed s",
                    "caseload p95 ms (coach, 100)",
                    "employee page p95 ms",
                    "caseload p95 ms (all 2,000)",
                    "employee page p95 ms (all)",
                    "PDF p95 s (in process)",
                    "PDF s (`koers report`)",
                ],
                rows,
            ),
        ]
    )


def main() -> None:
    parts = [
        "# Benchmarks",
        "",
        "Written by `bench/report.py` from the result files in `bench/`; rerun the make target named in each "
        "section to measure again. Timings on these shared 2-core machines are noisy, so the turn benchmarks "
        "compare against a bare Rasa measured in the same run. Nothing in `make test` depends on timing.",
    ]
    for name, render in (
        ("results.json", turns_section),
        ("gate-results.json", gate_section),
        ("nlu-results.json", nlu_section),
        ("nlu-cv-results.json", nlu_cv_section),
        ("coach-scale-results.json", coach_scale_section),
        ("caseload-results.json", caseload_section),
        ("scale-results.json", scale_section),
    ):
        data = load(name)
        if data is not None:
            parts += ["", render(data)]
    OUT.write_text("\n".join(parts) + "\n", encoding="utf-8")
    print(f"written {OUT}")


if __name__ == "__main__":
    main()
