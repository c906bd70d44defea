"""Configuration: defaults, file values, flags on top, and every problem reported at once."""

import tomllib
from pathlib import Path

import pytest

from spreadgate import settings


def test_defaults_listen_on_loopback_with_sqlite_in_the_data_folder() -> None:
    conf = settings.load()
    assert conf.listen == ("127.0.0.1", 8080)
    assert conf.db_url.startswith("sqlite:///") and conf.db_url.endswith("var/spreadgate.db")


def test_a_file_sets_values_and_flags_override_them(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[gateway]\nlisten = "0.0.0.0:9000"\n[processor]\ntimeout_s = 5\n')
    conf = settings.load(path, {"gateway_listen": "127.0.0.1:1", "database_url": None})
    assert conf.gateway_listen == "127.0.0.1:1"
    assert conf.processor_timeout_s == 5.0


def test_every_problem_is_reported_with_file_section_and_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[gateway]\nlisten = 3\nlisen = "x"\n[nope]\na = 1\n[log]\nlevel = "LOUD"\n')
    with pytest.raises(settings.ConfigError) as info:
        settings.load(path)
    text = "\n".join(info.value.problems)
    assert f"{path}: [gateway] listen: expected str" in text
    assert f"{path}: [gateway] lisen: unknown key" in text
    assert f"{path}: [nope]: unknown section" in text
    assert "[log] level: unknown level 'LOUD'" in text


def test_a_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[gateway\n")
    with pytest.raises(settings.ConfigError, match=str(path)):
        settings.load(path)


def test_the_sample_configuration_is_valid_and_documents_every_key() -> None:
    sample = Path(__file__).parents[2] / "config" / "spreadgate.toml"
    settings.load(sample)
    text = sample.read_text()
    for key in settings.SCHEMA:
        assert f"{key.name} =" in text, key.name


def test_routes_fan_uploads_out_to_more_groups_and_bad_routes_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[routes]\n"/legal/" = ["archive", "uploadfiles"]\n"/legal/eu/" = ["eu"]\n')
    conf = settings.load(path)
    assert conf.groups_for("/legal/eu/a.doc") == ("uploadfiles", "archive", "eu")
    assert conf.groups_for("/other/a.doc") == ("uploadfiles",)
    path.write_text('[routes]\n"legal" = ["a"]\n"/x/" = ["a#b"]\n"/y/" = "z"\n')
    with pytest.raises(settings.ConfigError) as info:
        settings.load(path)
    assert len(info.value.problems) == 3


def test_the_sample_holds_exactly_the_schemas_keys_with_their_defaults_and_meanings() -> None:
    text = (Path(__file__).parents[2] / "config" / "spreadgate.toml").read_text()
    sample = tomllib.loads(text)
    found = {(section, name): value for section, table in sample.items() for name, value in table.items()}
    assert found == {(key.section, key.name): key.default for key in settings.SCHEMA}
    assert [key.name for key in settings.SCHEMA if f"# {key.help}" not in text] == []


def test_the_environment_overrides_the_file_and_flags_override_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[database]\nurl = "sqlite:///from-file.db"\n[gateway]\nallow_anonymous_remote = true\n')
    secret = "postgresql+psycopg://sg:s3cret@db.example.net/spreadgate"
    environ = {"SPREADGATE_DATABASE_URL": secret, "SPREADGATE_PROCESSOR_WORKERS": "3",
               "SPREADGATE_GATEWAY_ALLOW_ANONYMOUS_REMOTE": "false", "SPREADGATE_URL": "not a key"}
    conf = settings.load(path, {}, environ)
    assert (conf.db_url, conf.processor_workers, conf.gateway_allow_anonymous_remote) == (secret, 3, False)
    assert settings.load(path, {"database_url": "sqlite:///flag.db"}, environ).db_url == "sqlite:///flag.db"
    assert settings.load(path).db_url == "sqlite:///from-file.db"
    assert [settings.env_name(k) for k in settings.SCHEMA if k.section == "database"] == ["SPREADGATE_DATABASE_URL"]


def test_bad_environment_values_are_reported_with_the_variables_name() -> None:
    environ = {"SPREADGATE_PROCESSOR_WORKERS": "many", "SPREADGATE_GATEWAY_ALLOW_ANONYMOUS_REMOTE": "maybe",
               "SPREADGATE_DATABASE_URL": "s3cret-is-not-a-url", "SPREADGATE_LOG_LEVEL": "LOUD"}
    with pytest.raises(settings.ConfigError) as info:
        settings.load(None, {}, environ)
    assert info.value.problems == [
        ("environment SPREADGATE_GATEWAY_ALLOW_ANONYMOUS_REMOTE: [gateway] allow_anonymous_remote: "
         "expected bool, got 'maybe'"),
        "environment SPREADGATE_PROCESSOR_WORKERS: [processor] workers: expected int, got 'many'",
        "environment SPREADGATE_LOG_LEVEL: [log] level: unknown level 'LOUD'",
        ("environment SPREADGATE_DATABASE_URL: [database] url: "
         "not a SQLAlchemy URL (dialect+driver://user:password@host/database)"),
    ]


@pytest.mark.parametrize(("section", "line", "why"), [
    ("spread", 'daemon = "localhost"', "[spread] daemon: expected PORT or PORT@HOST, got 'localhost'"),
    ("spread", 'daemon = "70000@h"', "[spread] daemon: expected PORT or PORT@HOST"),
    ("spread", "port = 65536", "[spread] port: expected a TCP port (0 for any free one), got 65536"),
    ("gateway", "max_upload_mb = -1", "[gateway] max_upload_mb: must be 0 (no limit) or more, got -1"),
    ("gateway", "request_timeout_s = 0", "[gateway] request_timeout_s: must be positive, got 0.0"),
    ("gateway", 'data_dir = ""', "[gateway] data_dir: must name a folder"),
    ("processor", "workers = 0", "[processor] workers: must be positive, got 0"),
    ("database", 'url = "db.example.net"', "[database] url: not a SQLAlchemy URL"),
])
def test_a_bad_value_is_reported_with_the_file_section_and_key(
        tmp_path: Path, section: str, line: str, why: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[{section}]\n{line}\n")
    with pytest.raises(settings.ConfigError) as info:
        settings.load(path)
    [problem] = info.value.problems
    assert problem.startswith(f"{path}: {why}")


def test_a_bad_flag_is_reported_as_coming_from_the_command_line() -> None:
    with pytest.raises(settings.ConfigError) as info:
        settings.load(None, {"gateway_listen": "nowhere"})
    assert info.value.problems == ["command line: [gateway] listen: expected HOST:PORT, got 'nowhere'"]
