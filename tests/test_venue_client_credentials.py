"""The API key: from the environment or a 0600 file, refused otherwise, never printed."""

from __future__ import annotations

import os
import pickle

import pytest

from host.venue_client.credentials import (
    ApiKey,
    BadKey,
    InsecureKeyFile,
    MissingKey,
    load_api_key,
)

SECRET = "pf_live_0123456789abcdef"


def _key_file(tmp_path, mode: int, text: str = SECRET + "\n"):
    path = tmp_path / "venue.key"
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_from_the_environment(monkeypatch):
    monkeypatch.setenv("TICKWIRE_API_KEY", f"  {SECRET}\n")
    key = load_api_key()
    assert key.reveal() == SECRET and key.source == "env TICKWIRE_API_KEY"
    monkeypatch.setenv("OTHER_KEY", "pf_other")
    assert load_api_key(env="OTHER_KEY").reveal() == "pf_other"


def test_missing_everywhere(monkeypatch):
    monkeypatch.delenv("TICKWIRE_API_KEY", raising=False)
    with pytest.raises(MissingKey) as caught:
        load_api_key()
    assert caught.value.reason == "missing_key"
    monkeypatch.setenv("TICKWIRE_API_KEY", "   ")
    with pytest.raises(MissingKey):
        load_api_key()


def test_from_a_0600_file_which_wins_over_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TICKWIRE_API_KEY", "pf_from_env")
    key = load_api_key(path=_key_file(tmp_path, 0o600))
    assert key.reveal() == SECRET and key.source.startswith("file ")
    assert load_api_key(path=_key_file(tmp_path, 0o400)).reveal() == SECRET


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666, 0o610, 0o601])
def test_a_file_others_can_read_is_refused(tmp_path, mode):
    with pytest.raises(InsecureKeyFile) as caught:
        load_api_key(path=_key_file(tmp_path, mode))
    assert caught.value.reason == "insecure_key_file"
    assert SECRET not in str(caught.value)


def test_symlinks_directories_and_missing_files_are_refused(tmp_path):
    target = _key_file(tmp_path, 0o600)
    link = tmp_path / "link.key"
    link.symlink_to(target)
    with pytest.raises(InsecureKeyFile):
        load_api_key(path=link)
    with pytest.raises(InsecureKeyFile):
        load_api_key(path=tmp_path)
    with pytest.raises(MissingKey):
        load_api_key(path=tmp_path / "absent.key")


@pytest.mark.parametrize("text", ["", "\n", "two words", "x" * 300, "k\x00ey", "ключ"])
def test_unusable_key_text_is_refused_without_echoing_it(tmp_path, text):
    with pytest.raises(BadKey) as caught:
        load_api_key(path=_key_file(tmp_path, 0o600, text))
    assert caught.value.reason == "bad_key"
    if text.strip():
        assert text.strip() not in str(caught.value)


def test_the_key_does_not_print_itself():
    key = ApiKey(SECRET, source="test")
    for shown in (repr(key), str(key), f"{key}", f"{key!r}", repr([key]), repr({"k": key})):
        assert SECRET not in shown
    assert key == ApiKey(SECRET) and key != ApiKey("pf_other")
    with pytest.raises(TypeError):
        pickle.dumps(key)
