"""Failure samples at scale: import a file of them (or of good baseline outputs), and measure what
the failures share against the baseline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from incident_tui.domain import timeline as words
from incident_tui.domain.models import EventKind, FailureSample
from incident_tui.domain.phrases import LengthStats, PhraseScore, length_stats, rank_phrases
from incident_tui.domain.sample_files import Fields, SampleFileError, SampleRecord, parse_samples
from incident_tui.domain.text import clean
from incident_tui.services.incidents import IncidentService, ServiceError
from incident_tui.store.storage import transaction

MAX_FILE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class CommonGround:
    """What failing samples share that good ones do not, for outputs and for inputs."""

    outputs: list[PhraseScore]
    inputs: list[PhraseScore]
    failing_n: int
    good_n: int
    input_lengths: LengthStats | None

    def to_json(self) -> dict[str, object]:
        return {
            "outputs": [p.to_json() for p in self.outputs],
            "inputs": [p.to_json() for p in self.inputs],
            "failing_n": self.failing_n,
            "good_n": self.good_n,
            "input_lengths": self.input_lengths.to_json() if self.input_lengths else None,
        }


class SampleService:
    def __init__(self, incidents: IncidentService) -> None:
        self.incidents = incidents

    def import_file(self, incident_id: str, path: Path, *, good: bool = False, fields: Fields = Fields()) -> int:
        """Read ``path`` whole, then write every sample and one timeline line in one transaction."""
        incident = self.incidents.get(incident_id)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ServiceError(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; split it")
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ServiceError(f"{path}: {exc.strerror or exc}") from None
        try:
            records = parse_samples(text, path.name, fields)
        except SampleFileError as exc:
            raise ServiceError(f"{path}: {exc}; nothing imported") from None
        return self.import_records(incident.id, records, good=good, source=path.name)

    def import_records(self, incident_id: str, records: list[SampleRecord], *, good: bool, source: str) -> int:
        """Write parsed samples and one timeline line in one transaction."""
        incident = self.incidents.get(incident_id)
        now = self.incidents.clock()
        author = self.incidents.author
        samples = [
            FailureSample(incident.id, clean(r.input), clean(r.output), clean(r.note), at=now, author=author, good=good)
            for r in records
        ]
        with transaction(self.incidents.db):
            self.incidents.repo.add_samples(samples)
            self.incidents.stamp(
                incident, EventKind.SAMPLE, words.samples_imported(len(samples), good, clean(source, multiline=False)),
                at=now, author=author, meta={"count": len(samples), "good": good},
            )
        return len(samples)

    def common(self, incident_id: str, *, limit: int = 20) -> CommonGround:
        samples = self.incidents.samples(incident_id)
        failing = [s for s in samples if not s.good]
        good = [s for s in samples if s.good]
        return CommonGround(
            outputs=rank_phrases([s.output for s in failing], [s.output for s in good], limit=limit),
            inputs=rank_phrases([s.input for s in failing if s.input], [s.input for s in good if s.input],
                                limit=limit),
            failing_n=len(failing),
            good_n=len(good),
            input_lengths=length_stats([s.input for s in failing], [s.input for s in good]),
        )
