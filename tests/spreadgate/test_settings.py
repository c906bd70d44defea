"""Configuration: defaults, file values, flags on top, and every problem reported at once."""

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
