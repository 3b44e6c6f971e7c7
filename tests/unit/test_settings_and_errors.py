from __future__ import annotations

from pathlib import Path

import pytest

from noria.errors import ALL_ERRORS, InvalidArgument, NoriaError, error_class_for
from noria.settings import Settings, load_settings


def test_defaults_live_under_dot_noria_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.resolved_store_uri() == f"sqlite:///{tmp_path / '.noria' / 'noria.db'}"
    assert settings.resolved_artifact_uri() == str(tmp_path / ".noria" / "artifacts")


def test_environment_overrides_and_blank_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NORIA_STORE_URI", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("NORIA_ARTIFACT_URI", "  ")
    monkeypatch.setenv("NORIA_USER", "alice")
    settings = load_settings(home=Path("/srv/noria"))
    assert settings.resolved_store_uri() == "postgresql+psycopg://u@h/db"
    assert settings.resolved_artifact_uri() == "/srv/noria/artifacts"
    assert settings.user == "alice"


def test_toml_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "noria.toml"
    config.write_text('home = "/data/noria"\nuser = "from-file"\n')
    monkeypatch.setenv("NORIA_CONFIG", str(config))
    monkeypatch.setenv("NORIA_USER", "from-env")
    settings = load_settings()
    assert settings.home == Path("/data/noria")
    assert settings.user == "from-env"


def test_a_remote_store_sends_artifacts_through_the_server() -> None:
    settings = Settings(store_uri="http://127.0.0.1:5005")
    assert settings.resolved_artifact_uri() is None


def test_bad_setting_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NORIA_HTTP_TIMEOUT", "soon")
    with pytest.raises(InvalidArgument) as caught:
        load_settings()
    assert "http_timeout='soon'" in str(caught.value)
    assert "NORIA_HTTP_TIMEOUT" in str(caught.value)


def test_unknown_key_in_toml_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "noria.toml"
    config.write_text('stor_uri = "sqlite:///x.db"\n')
    monkeypatch.setenv("NORIA_CONFIG", str(config))
    with pytest.raises(InvalidArgument, match="stor_uri"):
        load_settings()


def test_error_codes_are_unique_and_round_trip() -> None:
    codes = [cls.error_code for cls in ALL_ERRORS]
    assert len(codes) == len(set(codes))
    for cls in ALL_ERRORS:
        assert error_class_for(cls.error_code) is cls
        assert issubclass(cls, NoriaError)
    assert error_class_for("SOMETHING_NEW") is NoriaError
