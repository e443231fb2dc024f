from __future__ import annotations

import json
from pathlib import Path

import pytest

from wallet.audit import AuditLog, verify
from wallet.errors import AuditLogError


def _log(tmp_path: Path, entries: int = 4) -> AuditLog:
    log = AuditLog(tmp_path / "audit.jsonl")
    for i in range(entries):
        log.append({"time": i, "method": "account_signTransaction", "decision": "approved", "value": i})
    return log


def _lines(log: AuditLog) -> list[str]:
    return log.path.read_text().splitlines(keepends=True)


def test_an_untouched_log_verifies_and_reports_its_head(tmp_path: Path) -> None:
    log = _log(tmp_path)
    head = verify(log.path)
    assert head.seq == 4 and head == log.head
    assert verify(log.path, expected_head=head.hash) == head
    with pytest.raises(AuditLogError, match="expected"):
        verify(log.path, expected_head="00" * 32)


def test_an_edited_line_is_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    entry = json.loads(lines[1])
    entry["value"] = 1000
    lines[1] = json.dumps(entry) + "\n"
    log.path.write_text("".join(lines))
    with pytest.raises(AuditLogError, match="line 2: .*edited"):
        verify(log.path)


def test_a_removed_or_reordered_line_is_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    log.path.write_text("".join(lines[:1] + lines[2:]))
    with pytest.raises(AuditLogError, match="line 2"):
        verify(log.path)
    log.path.write_text("".join([lines[1], lines[0], *lines[2:]]))
    with pytest.raises(AuditLogError, match="line 1"):
        verify(log.path)


def test_lines_cut_from_the_end_are_detected_by_the_head_file(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.path.write_text("".join(_lines(log)[:-1]))
    with pytest.raises(AuditLogError, match="cut from the end"):
        verify(log.path)


def test_a_log_one_line_ahead_of_its_head_file_is_a_crash_not_tampering(tmp_path: Path) -> None:
    log = _log(tmp_path)
    head_before = log.head_path.read_bytes()
    log.append({"time": 9, "decision": "approved"})
    log.head_path.write_bytes(head_before)  # as if the signer died between the append and the head update
    assert verify(log.path).seq == 5
    reopened = AuditLog(log.path)
    assert reopened.head.seq == 5 and json.loads(reopened.head_path.read_text())["seq"] == 5


def test_reopening_continues_the_chain(tmp_path: Path) -> None:
    log = _log(tmp_path, 2)
    again = AuditLog(log.path)
    again.append({"time": 5, "decision": "refused"})
    assert verify(log.path).seq == 3


def test_opening_a_tampered_log_fails(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.path.write_text(log.path.read_text().replace('"value":2', '"value":3'))
    with pytest.raises(AuditLogError):
        AuditLog(log.path)


def test_a_deleted_log_whose_head_remains_is_refused_at_start(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.path.unlink()  # deleting the log would otherwise reset the signer's 24-hour limits
    with pytest.raises(AuditLogError, match="missing .* records 4 line"):
        AuditLog(tmp_path / "audit.jsonl")
    fresh = tmp_path / "fresh"
    assert AuditLog(fresh / "audit.jsonl").head.seq == 0  # a new signer with neither file starts empty
