"""The supervisor key `switchboard dev` stores is readable by its owner only, from the moment
the file exists: no chmod after the write (which left it world-readable in between)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from switchboard.dev import write_private


def _no_chmod(*args, **kwargs):
    raise AssertionError("the key's file must be created private, not made private afterwards")


@pytest.mark.parametrize("existing", [False, True], ids=["new file", "file left world-readable"])
def test_the_key_file_is_owner_only_whatever_the_umask(tmp_path: Path, monkeypatch, existing: bool):
    key_file = tmp_path / "supervisor.key"
    if existing:
        key_file.write_text("old\n")
        key_file.chmod(0o644)
    monkeypatch.setattr(Path, "chmod", _no_chmod)
    monkeypatch.setattr(os, "chmod", _no_chmod)
    previous = os.umask(0)
    try:
        write_private(key_file, "secret\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text() == "secret\n"
