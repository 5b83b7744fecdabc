#!/usr/bin/env python3
"""Generate the table of historical events in docs/history.md from the baseline scenario.

Reads scenarios/baseline/scenario.toml (or --scenario), following its `include` lists, and writes a
Markdown table of every event -- date, id, title, kind, how it happens (a decision and its window, an
option of a choice, or a scheduled event with the reason it lies outside the agents' choices), and
the source-essay paragraphs it cites (or, for a context event, its reference) -- sorted by date,
followed by the table of choices, between the markers

    <!-- events:begin -->
    <!-- events:end -->

of docs/history.md (or --doc). Everything outside the markers is left as it is.

    history_table.py            rewrite the table in docs/history.md
    history_table.py --stdout   print the generated table instead
    history_table.py --check    exit 1 if the table in the doc is not what would be generated,
                                or if any event lacks a non-empty `source` (a context event: a
                                `reference`), or a scheduled event lacks `exogenous`

Standard library only (Python 3.11+, tomllib). Paths default to the repository this file is in, so
it can be run from any directory, e.g. `/usr/bin/python3 analysis/history_table.py --check`.
"""
from __future__ import annotations

import argparse
import difflib
import pathlib
import re
import sys
import tomllib

REPO = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_SCENARIO = REPO / "scenarios" / "baseline" / "scenario.toml"
DEFAULT_DOC = REPO / "docs" / "history.md"
BEGIN = "<!-- events:begin -->"
END = "<!-- events:end -->"
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class ScenarioProblem(Exception):
    """The scenario files cannot be read."""


def load_events(entry: pathlib.Path, choices: list[dict] | None = None) -> list[dict]:
    """All [[events]] of the entry file and the files it includes, depth first, in reading order;
    their [[choices]] are appended to `choices` when given."""
    events: list[dict] = []
    stack: list[pathlib.Path] = []
    seen: set[pathlib.Path] = set()

    def read(path: pathlib.Path) -> None:
        path = path.resolve()
        if path in stack:
            chain = " -> ".join(p.name for p in stack + [path])
            raise ScenarioProblem(f"include cycle: {chain}")
        if path in seen:
            raise ScenarioProblem(f"{path} is included more than once")
        seen.add(path)
        try:
            with open(path, "rb") as f:
                doc = tomllib.load(f)
        except OSError as e:
            raise ScenarioProblem(f"cannot read {path}: {e.strerror}") from e
        except tomllib.TOMLDecodeError as e:
            raise ScenarioProblem(f"invalid TOML in {path}: {e}") from e
        stack.append(path)
        # Reading order as in the simulator's loader: a file's own tables, then its includes, depth
        # first. Here it only breaks ties between events of the same month.
        includes = doc.get("include", [])
        if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
            raise ScenarioProblem(f"{path}: 'include' must be a list of file paths")
        own = doc.get("events", [])
        if not isinstance(own, list) or not all(isinstance(e, dict) for e in own):
            raise ScenarioProblem(f"{path}: 'events' must be an array of tables ([[events]])")
        for e in own:
            e = dict(e)
            e["_file"] = path
            events.append(e)
        if choices is not None:
            for c in doc.get("choices", []):
                choices.append(dict(c))
        for inc in includes:
            read(path.parent / inc)
        stack.pop()

    read(entry)
    return events


def source_problems(events: list[dict], options: set[str] = frozenset()) -> list[str]:
    """Events whose `source` is missing, empty or not a list of paragraph numbers (a context event:
    without `reference`), and scheduled events without the reason they are scheduled."""
    problems = []
    for e in events:
        src = e.get("source")
        name = e.get("id", "<event without id>")
        scheduled = not isinstance(e.get("decision"), dict) and name not in options
        if scheduled and not str(e.get("exogenous", "")).strip():
            problems.append(f"{e['_file'].name}: scheduled event '{name}' does not say why it lies outside the "
                            "agents' choices ('exogenous')")
        if e.get("context") is True:
            if not str(e.get("reference", "")).strip():
                problems.append(f"{e['_file'].name}: context event '{name}' has no reference")
        elif not isinstance(src, list) or not src:
            problems.append(f"{e['_file'].name}: event '{name}' has no source paragraphs")
        elif not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in src):
            problems.append(f"{e['_file'].name}: event '{name}': source must hold paragraph numbers >= 1")
    return problems


def cell(text: object) -> str:
    """A value made safe for one Markdown table cell."""
    s = " ".join(str(text).split())
    return s.replace("\\", "\\\\").replace("|", "\\|")


def month_key(e: dict) -> tuple[int, int]:
    m = MONTH.match(str(e.get("date", "")))
    if not m:
        raise ScenarioProblem(f"{e['_file'].name}: event '{e.get('id')}' has no valid date (YYYY-MM)")
    return int(m.group(1)), int(m.group(2))


def how(e: dict, option_of: dict[str, str]) -> str:
    d = e.get("decision")
    if e.get("id") in option_of:
        return f"option of choice `{option_of[e['id']]}`"
    if isinstance(d, dict):
        text = f"decision, {d.get('from', '?')} to {d.get('to', '?')}"
        if d.get("near_certain"):
            text += f"; near-certain: {d['near_certain']}"
        return text
    parts = ["scheduled"]
    jitter = e.get("jitter_months", 0)
    if jitter:
        parts.append(f"±{jitter} mo")
    p = e.get("probability", 1)
    if p != 1:
        parts.append(f"p = {p}")
    text = ", ".join(parts)
    if e.get("exogenous"):
        text += f": {e['exogenous']}"
    return text


def table(events: list[dict], choices: list[dict]) -> str:
    order = sorted(range(len(events)), key=lambda k: (month_key(events[k]), k))
    option_of = {o: c.get("id", "?") for c in choices for o in c.get("options", [])}
    decisions = sum(1 for e in events if isinstance(e.get("decision"), dict) and e.get("id") not in option_of)
    options = sum(1 for e in events if e.get("id") in option_of)
    context = sum(1 for e in events if e.get("context") is True)
    lines = [
        f"{len(events)} events: {decisions} decisions, {options} options of {len(choices)} choices, "
        f"{len(events) - decisions - options} scheduled; {context} of them context events from outside the essay. "
        "Generated by `analysis/history_table.py` from `scenarios/baseline/`; do not edit by hand.",
        "",
        "| date | id | title | kind | how it happens | source ¶ (or reference) |",
        "|---|---|---|---|---|---|",
    ]
    for k in order:
        e = events[k]
        src = e.get("source") if isinstance(e.get("source"), list) else []
        cited = ", ".join(str(n) for n in src)
        if e.get("context") is True:
            cited = (cited + "; " if cited else "") + "context: " + str(e.get("reference", ""))
        lines.append(
            "| {date} | `{id}` | {title} | {kind} | {how} | {src} |".format(
                date=cell(e.get("date", "")),
                id=cell(e.get("id", "")),
                title=cell(e.get("title", "")),
                kind=cell(e.get("kind", "")),
                how=cell(how(e, option_of)),
                src=cell(cited),
            )
        )
    lines += ["", "| choice | window | who chooses | options (and \"none\") | source ¶ |", "|---|---|---|---|---|"]
    for c in sorted(choices, key=lambda c: (c.get("from", ""), c.get("id", ""))):
        lines.append("| `{id}`: {title} | {f} to {t} | {actor} | {opts} | {src} |".format(
            id=cell(c.get("id", "")), title=cell(c.get("title", "")), f=cell(c.get("from", "")), t=cell(c.get("to", "")),
            actor=cell(c.get("actor", "")), opts=cell(", ".join(f"`{o}`" for o in c.get("options", []))),
            src=cell(", ".join(str(n) for n in c.get("source", [])))))
    return "\n".join(lines) + "\n"


def split_doc(text: str, doc: pathlib.Path) -> tuple[str, str, str]:
    """(before and including BEGIN, between, from END on); raises if the markers are not there once each."""
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise ScenarioProblem(f"{doc} must contain the markers {BEGIN} and {END} exactly once each")
    head, rest = text.split(BEGIN, 1)
    between, tail = rest.split(END, 1)
    return head + BEGIN, between, END + tail


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=pathlib.Path, default=DEFAULT_SCENARIO, help="entry scenario file")
    ap.add_argument("--doc", type=pathlib.Path, default=DEFAULT_DOC, help="Markdown file holding the markers")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="verify the doc instead of rewriting it")
    mode.add_argument("--stdout", action="store_true", help="print the generated table")
    args = ap.parse_args(argv)

    try:
        choices: list[dict] = []
        events = load_events(args.scenario, choices)
        problems = source_problems(events, {o for c in choices for o in c.get("options", [])})
        generated = table(events, choices)
    except ScenarioProblem as e:
        print(f"history_table: {e}", file=sys.stderr)
        return 1

    if args.stdout:
        print(generated, end="")
        for p in problems:
            print(f"history_table: {p}", file=sys.stderr)
        return 1 if problems else 0

    block = "\n" + generated
    try:
        text = args.doc.read_text(encoding="utf-8")
        head, between, tail = split_doc(text, args.doc)
    except OSError as e:
        print(f"history_table: cannot read {args.doc}: {e.strerror}", file=sys.stderr)
        return 1
    except ScenarioProblem as e:
        print(f"history_table: {e}", file=sys.stderr)
        return 1

    if args.check:
        status = 0
        for p in problems:
            print(f"history_table: {p}", file=sys.stderr)
            status = 1
        if between != block:
            diff = difflib.unified_diff(
                between.splitlines(keepends=True), block.splitlines(keepends=True),
                fromfile=f"{args.doc} (current)", tofile=f"{args.doc} (generated)")
            sys.stderr.writelines(diff)
            print(f"history_table: the event table in {args.doc} is out of date; "
                  f"run {pathlib.Path(__file__).name} to regenerate it", file=sys.stderr)
            status = 1
        if status == 0:
            print(f"history_table: {args.doc} is up to date ({len(events)} events)")
        return status

    if between != block:
        args.doc.write_text(head + block + tail, encoding="utf-8")
        print(f"history_table: wrote {len(events)} events to {args.doc}")
    else:
        print(f"history_table: {args.doc} already up to date ({len(events)} events)")
    for p in problems:
        print(f"history_table: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
