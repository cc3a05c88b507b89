"""Demo data: a real prompt regression replayed as a live incident, plus a few others.

The OpenHands CodeAct system prompt's v05 ("use view command", #5506) cost SWE-Bench
performance and was reverted by v06 (== v04). Here it is an active P1: detected by an
alert, triaged, rolled back to v4, being diagnosed. Every line is written through the
services with a moving clock, so the demo reads exactly like a real incident would.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

from incident_tui.domain.errors import IncidentTuiError
from incident_tui.config import Config
from incident_tui.domain.models import Stage
from incident_tui.domain.times import local_now
from incident_tui.services.incidents import IncidentService
from incident_tui.services.prompts import PromptService
from incident_tui.store.storage import transaction
from incident_tui.store.stores import Database, Stores

OPENHANDS = "openhands-codeact-system-prompt"


class DemoError(IncidentTuiError, ValueError):
    """The demo refuses to seed a database that already holds incidents."""


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def default_demo_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("incident-tui")) / "demo.json"


def reset_demo_file(path: Path) -> None:
    """Remove the default demo database and its side files (journal, lock), so the demo starts fresh."""
    for candidate in [path, *path.parent.glob(path.name + ".*")]:
        if candidate.is_file():
            candidate.unlink()


SUPPORT_V6 = """You are a customer-support summarizer for Acme Store.
Summarize the conversation below for the next agent in at most 5 bullet points.

Rules:
- State the customer's problem and what was already tried.
- Refunds: only mention a refund if the agent explicitly offered one. Quote the amount exactly.
- Never promise refunds, credits or timelines that are not in the conversation.
- If the policy is unclear, write "policy check needed".
- Keep order numbers and dates exactly as written.
"""

SUPPORT_V7 = """You are a friendly customer-support summarizer for Acme Store.
Summarize the conversation below for the next agent in at most 5 bullet points.

Rules:
- State the customer's problem and what was already tried.
- Be helpful: tell the next agent what the customer is entitled to.
- Keep order numbers and dates exactly as written.
- End with a one-line suggested resolution.
"""

FAQ_V11 = """Answer the user's question using only the FAQ excerpts provided.
Answer in 2-3 sentences. If the excerpts do not contain the answer, say you don't know.
"""

FAQ_V12 = """Answer the user's question using only the FAQ excerpts provided.
Be thorough and cover related topics the user may also want to know about.
If the excerpts do not contain the answer, say you don't know.
"""


def _data_dir() -> Path:
    return Path(str(resources.files("incident_tui") / "data" / "openhands"))


def seed_demo(db: Stores | Database, *, incidents: int = 0, now: datetime | None = None, seed: int = 7) -> str:
    """Fill an empty database with the demo; returns a one-line summary.

    ``incidents`` adds that many synthetic incidents (about 50 events each) for scale tests.
    Refuses a database that already has incidents, so a real database is never mixed up.
    """
    stores = Stores.of(db)
    if stores.incidents.incident_count():
        raise DemoError("this database already has incidents; give the demo a new file with --db")
    now = now or local_now()
    clock = _Clock(now)
    prompts = PromptService(stores, clock=clock)
    service = IncidentService(stores, config=Config(user="ana"), clock=clock, prompts=prompts)

    # A bulk load: one compaction at the end, as the journal would otherwise be compacted
    # again and again while the snapshot grows; the seeded database then opens as a quiet one.
    with stores.bulk_load():
        _seed_prompts(prompts, clock, now)
        clock.now = now
        _openhands_changes(service, now)
        _openhands_incident(service, clock, now)
        _support_incident(service, clock, now)
        _faq_incident(service, clock, now)
        _closed_incident(service, clock, now)
        if incidents:
            _synthetic(stores.db, service, clock, now, incidents, random.Random(seed))
    clock.now = now
    total, events = stores.incidents.incident_count(), stores.incidents.event_count()
    return f"{total} incidents, {events} timeline events, {len(prompts.list_prompts())} prompts"


def _seed_prompts(prompts: PromptService, clock: _Clock, now: datetime) -> None:
    versions = prompts.import_dir(_data_dir(), OPENHANDS)
    # Production followed each commit of the real history until the regression, which the
    # demo deploys two hours ago; v6 (the real revert) is registered but not yet live.
    for v in versions[:4]:
        prompts.move_label(OPENHANDS, "production", v.version, "release-bot", v.note or "release", at=v.created_at)
    prompts.move_label(OPENHANDS, "last-known-good", 4, "release-bot", "SWE-Bench eval passed",
                       at=versions[3].created_at + timedelta(hours=2))
    prompts.move_label(OPENHANDS, "production", 5, "release-bot", "Adjust prompt to use view command (#5506)",
                       at=now - timedelta(hours=2, minutes=20))
    for prompt_id, texts, first in (
        ("support-summary", [SUPPORT_V6, SUPPORT_V7], 6),
        ("faq-answer", [FAQ_V11, FAQ_V12], 11),
    ):
        for n in range(1, first):  # older revisions, so the version numbers match the story
            clock.now = now - timedelta(days=90 - n)
            prompts.add(prompt_id, f"{texts[0]}\n# revision {n}\n", author="bo", note=f"revision {n}")
        for offset, text in enumerate(texts):
            clock.now = now - timedelta(days=3 - offset, hours=1)
            added = prompts.add(prompt_id, text, author="bo", note=f"revision {first + offset}")
            assert added is not None  # each demo text differs from the one before it
            prompts.move_label(prompt_id, "production", added.version, "bo", f"release {added.version}",
                               at=clock.now + timedelta(minutes=5))
    prompts.move_label("support-summary", "production", 7, "bo", "friendlier tone", at=now - timedelta(hours=5))


def _at(clock: _Clock, now: datetime, **ago) -> datetime:
    clock.now = now - timedelta(**ago)
    return clock.now


def _openhands_incident(service: IncidentService, clock: _Clock, now: datetime) -> None:
    _at(clock, now, hours=1, minutes=42)
    inc = service.declare(
        title="SWE-Bench resolve rate fell from 41% to 29% after the view-command prompt change",
        prompt_id=OPENHANDS, severity="P1", detected_by="alert",
        started_at=now - timedelta(hours=2, minutes=14),
    )
    _at(clock, now, hours=1, minutes=40)
    service.note(inc.id, 'Alert "swe_bench_resolve_rate < 35% (1h window)" fired from the nightly-eval canary',
                 star=True)
    _at(clock, now, hours=1, minutes=36)
    service.set_people(inc.id, commander="ana", scribe="bo", responders=["cy", "dee"])
    _at(clock, now, hours=1, minutes=33)
    service.note(inc.id, "Failing runs end after 'view' on directories; agent never opens the file it edits",
                 star=True, author="cy")
    _at(clock, now, hours=1, minutes=30)
    service.triage(inc.id, "prompt-quality",
                   "v5 tells the agent to start exploring the file system with the view command; "
                   "it now explores instead of editing")
    _at(clock, now, hours=1, minutes=27)
    service.rollback(inc.id, to_version=4)
    _at(clock, now, hours=1, minutes=5)
    service.note(inc.id, "Canary back to 40% on the last 200 tasks after the rollback", star=True, author="dee")
    service.milestone(inc.id, "impact-resolved")
    _at(clock, now, minutes=52)
    service.advance(inc.id, Stage.DIAGNOSE)
    for text, output in (
        ("Fix failing test in utils/date.py", "I'll view the directory first.\nview /workspace/utils\n"
         "The directory contains several files. Let me view the directory structure again."),
        ("Add a --dry-run flag to the CLI", "Let me view the directory first.\nview /workspace\n"
         "Let me view the directory structure again to find the CLI."),
        ("Repair broken import in models/__init__.py", "I'll view the directory first.\nview /workspace/models\n"
         "I need to view the directory structure again before editing."),
    ):
        _at(clock, now, minutes=45)
        service.add_sample(inc.id, input=text, output=output, note="stops after viewing, never edits")
    _at(clock, now, minutes=40)
    _openhands_samples(service, inc.id, random.Random(5506))
    _at(clock, now, minutes=30)
    service.note(inc.id, "Diff v4 → v5: one added line, 'start exploring the file system with your view command'; "
                 "see pane 3",
                 author="cy")


TASKS = ["Fix failing test in", "Add a --dry-run flag to", "Repair broken import in", "Handle empty input in",
         "Add type hints to", "Fix off-by-one error in", "Rename deprecated argument in", "Add logging to"]
FILES = ["utils/date.py", "cli/main.py", "models/__init__.py", "api/routes.py", "core/cache.py", "io/csv_reader.py",
         "auth/tokens.py", "jobs/scheduler.py"]


def _openhands_samples(service: IncidentService, incident_id: str, rng: random.Random) -> None:
    """Eval transcripts around the regression: v5's failures keep viewing; v4's good runs open and edit."""
    from incident_tui.domain.sample_files import SampleRecord
    from incident_tui.services.samples import SampleService

    def task() -> tuple[str, str]:
        path = rng.choice(FILES)
        return f"{rng.choice(TASKS)} {path}", path

    failing, good = [], []
    for _ in range(48):
        text, path = task()
        folder = path.rsplit("/", 1)[0]
        loop = rng.choice(["Let me view the directory structure again.", "I will view the directory first.",
                           "Let me view the directory structure again to be sure."])
        failing.append(SampleRecord(
            f"{text}. The repository is at /workspace.",
            f"I'll start exploring the file system with the view command.\nview /workspace/{folder}\n{loop}\n"
            f"view /workspace\n{loop} The task is not finished.",
        ))
    for _ in range(48):
        text, path = task()
        good.append(SampleRecord(
            f"{text}. The repository is at /workspace.",
            f"Let me open {path} and make the change.\nstr_replace_editor open /workspace/{path}\n"
            f"I edited {path}; the tests pass now.",
        ))
    samples = SampleService(service)
    samples.import_records(incident_id, good, good=True, source="eval-v4-passing.jsonl")
    samples.import_records(incident_id, failing, good=False, source="eval-v5-failing.jsonl")


def _openhands_changes(service: IncidentService, now: datetime) -> None:
    """What else changed around the regression, so "what changed" has more than one answer to weigh."""
    from incident_tui.services.changes import ChangeService

    changes = ChangeService(service)
    changes.add(kind="model", summary="Eval fleet moved to the new model snapshot (same alias)",
                at=now - timedelta(hours=30), link="https://example.com/changes/model-snapshot")
    changes.add(kind="deploy", summary="openhands agent release 0.16.0 to the eval fleet", prompt_id=OPENHANDS,
                at=now - timedelta(hours=2, minutes=25))
    changes.add(kind="config", summary="max_iterations 100 → 120 while investigating", prompt_id=OPENHANDS,
                at=now - timedelta(hours=1, minutes=10))


def _support_incident(service: IncidentService, clock: _Clock, now: datetime) -> None:
    _at(clock, now, hours=3, minutes=10)
    inc = service.declare(
        title="Support summaries promise refunds the agent never offered",
        prompt_id="support-summary", severity="P2", detected_by="user-report",
        started_at=now - timedelta(hours=4, minutes=55),
    )
    _at(clock, now, hours=3, minutes=5)
    service.note(inc.id, "CS lead (EU): 14 tickets today where the summary says 'entitled to a full refund'",
                 star=True)
    _at(clock, now, hours=2, minutes=58)
    service.triage(inc.id, "prompt-quality", "v7 dropped the 'never promise refunds' rule and added "
                   "'tell the agent what the customer is entitled to'")
    _at(clock, now, hours=2, minutes=55)
    service.kill_switch(inc.id)
    _at(clock, now, hours=2, minutes=40)
    service.note(inc.id, "Summaries disabled; agents read raw transcripts. Handle time +40s", author="bo")


def _faq_incident(service: IncidentService, clock: _Clock, now: datetime) -> None:
    _at(clock, now, days=1, hours=2)
    inc = service.declare(
        title="FAQ answers tripled in length, users abandon the widget",
        prompt_id="faq-answer", severity="P3", detected_by="downstream",
        started_at=now - timedelta(days=1, hours=9),
    )
    _at(clock, now, days=1, hours=1, minutes=40)
    service.note(inc.id, "Median answer 212 tokens (was 70); widget abandonment 18% → 27%")
    _at(clock, now, hours=20)
    service.advance(inc.id, Stage.TRIAGE)
    service.note(inc.id, "Model provider also rolled a new snapshot yesterday — two suspects", author="cy")


def _closed_incident(service: IncidentService, clock: _Clock, now: datetime) -> None:
    _at(clock, now, days=9, hours=4)
    inc = service.declare(
        title="Summaries cut off mid-sentence", prompt_id="support-summary", version=5, severity="P3",
        detected_by="manual", started_at=now - timedelta(days=9, hours=6),
    )
    _at(clock, now, days=9, hours=3, minutes=50)
    service.triage(inc.id, "api", "provider lowered the default max_tokens")
    _at(clock, now, days=9, hours=3, minutes=20)
    service.milestone(inc.id, "impact-resolved")
    service.milestone(inc.id, "root-cause", text="provider changed default max_tokens from 1024 to 256; "
                      "we relied on the default")
    _at(clock, now, days=8)
    service.advance(inc.id, Stage.POSTMORTEM)
    service.milestone(inc.id, "closed")


SYNTHETIC_BATCH = 100


def _synthetic(db, service: IncidentService, clock: _Clock, now: datetime, count: int, rng: random.Random) -> None:
    """Many incidents of ~50 events each, mostly closed, spread over the last 90 days."""
    phrases = ["checked eval dashboard", "paged prompt owner", "sampled 20 outputs", "rollback verified in canary",
               "customer escalation linked", "latency normal, quality not", "comparing with yesterday's traffic"]
    registered: set[str] = set()
    # One transaction (one journal record, one fsync) per batch of incidents, not per incident:
    # the seed's cost is then the work of building the documents, linear in their number.
    for first in range(0, count, SYNTHETIC_BATCH):
        with transaction(db):
            for n in range(first, min(count, first + SYNTHETIC_BATCH)):
                _synthetic_incident(service, clock, now, n, rng, phrases, registered)
    clock.now = now


def _synthetic_incident(service: IncidentService, clock: _Clock, now: datetime, n: int, rng: random.Random,
                        phrases: list[str], registered: set[str]) -> None:
    start = now - timedelta(days=rng.uniform(0.1, 90))
    clock.now = start + timedelta(minutes=rng.randint(1, 90))
    prompt_id, version = f"prompt-{rng.randint(1, 40)}", rng.randint(2, 30)
    if prompt_id not in registered:  # containment acts only on registered versions
        service.prompts.add_texts(prompt_id, [f"{prompt_id}\nrevision {v}\n" for v in range(1, 31)],
                                  author="bo", note="synthetic")
        registered.add(prompt_id)
    # The failing version was deployed just before impact started.
    service.prompts.move_label(prompt_id, "production", version, "release-bot", "release",
                               at=start - timedelta(minutes=5))
    inc = service.declare(
        title=f"Synthetic quality drop #{n + 1}", prompt_id=prompt_id,
        version=version, severity=rng.choice(["P1", "P2", "P3", "P3"]),
        detected_by=rng.choice(["alert", "user-report", "downstream", "manual"]), started_at=start,
    )
    service.triage(inc.id, rng.choice(["prompt-quality", "api", "upstream-data", "model-behaviour"]),
                   rng.choice(["new version dropped a rule", "provider changed defaults", "stale context"]))
    if rng.random() < 0.7:
        clock.now += timedelta(minutes=rng.randint(2, 40))
        (service.rollback if rng.random() < 0.6 else service.kill_switch)(inc.id)
    for _ in range(44):
        clock.now += timedelta(minutes=rng.randint(1, 6))
        service.note(inc.id, f"{rng.choice(phrases)} ({rng.randint(1, 999)})", star=rng.random() < 0.1)
    if rng.random() < 0.85:
        service.milestone(inc.id, "impact-resolved")
        service.milestone(inc.id, "root-cause", text="synthetic cause")
        service.milestone(inc.id, "closed")
