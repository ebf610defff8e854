import hashlib
import hmac
import os
import stat
from pathlib import Path

import pytest

from cspkit.errors import WorkspaceError
from cspkit.privacy.keys import (
    KEY_BYTES,
    check_key_fingerprint,
    create_key,
    key_fingerprint,
    key_permissions_ok,
    load_key,
)


def test_create_key_writes_32_random_bytes_as_hex_for_the_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "key"
    create_key(path)
    text = path.read_text(encoding="ascii")
    assert len(text.strip()) == 2 * KEY_BYTES == 64
    assert bytes.fromhex(text.strip()) == load_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key_permissions_ok(path)


def test_two_keys_differ(tmp_path: Path) -> None:
    create_key(tmp_path / "a")
    create_key(tmp_path / "b")
    assert load_key(tmp_path / "a") != load_key(tmp_path / "b")


def test_create_key_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "key"
    create_key(path)
    before = path.read_bytes()
    with pytest.raises(WorkspaceError, match="already exists"):
        create_key(path)
    assert path.read_bytes() == before


def test_create_key_in_a_missing_folder_is_a_workspace_error(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="Cannot create the key file"):
        create_key(tmp_path / "nowhere" / "key")


def test_load_key_missing(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="is missing"):
        load_key(tmp_path / "key")


@pytest.mark.parametrize("content", ["", "not hex at all", "ab" * 31, "ab" * 33, "zz" * 32])
def test_load_key_malformed(tmp_path: Path, content: str) -> None:
    path = tmp_path / "key"
    path.write_text(content)
    with pytest.raises(WorkspaceError, match="damaged"):
        load_key(path)


def test_load_key_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_bytes(b"\xff\xfe" * 40)
    with pytest.raises(WorkspaceError, match="Cannot read the key file"):
        load_key(path)


def test_load_key_tolerates_surrounding_whitespace(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("  " + "0f" * 32 + "\r\n")
    assert load_key(path) == b"\x0f" * 32


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_a_key_readable_by_others_still_loads_but_is_flagged(tmp_path: Path) -> None:
    path = tmp_path / "key"
    create_key(path)
    path.chmod(0o644)
    assert not key_permissions_ok(path)
    assert len(load_key(path)) == KEY_BYTES
    path.chmod(0o620)
    assert not key_permissions_ok(path)


def test_fingerprint_is_short_stable_and_keyed() -> None:
    key = bytes(range(32))
    expected = hmac.new(key, b"cspkit-key-fingerprint", hashlib.sha256).hexdigest()[:16]
    assert key_fingerprint(key) == expected
    assert len(key_fingerprint(key)) == 16
    assert key_fingerprint(bytes(32)) != expected
    assert key.hex()[:16] not in key_fingerprint(key)


def test_check_key_fingerprint() -> None:
    key = bytes(range(32))
    check_key_fingerprint(key, key_fingerprint(key))
    with pytest.raises(WorkspaceError, match="new pseudonyms will not link to old ones"):
        check_key_fingerprint(bytes(32), key_fingerprint(key))
