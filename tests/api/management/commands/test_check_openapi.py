import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from opencx.api.management.commands.check_openapi import DEFAULT_PATH, render_schema


def test_committed_file_matches_the_code(capsys):
    call_command("check_openapi")
    assert "matches" in capsys.readouterr().out


def test_drift_fails_naming_the_fix(tmp_path):
    path = tmp_path / "openapi.json"
    schema = json.loads(DEFAULT_PATH.read_text())
    schema["info"]["title"] = "Something else"
    path.write_text(json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    with pytest.raises(CommandError) as raised:
        call_command("check_openapi", path=path)
    assert raised.value.returncode == 1
    assert "make openapi" in str(raised.value)
    assert "Something else" in str(raised.value)


def test_missing_file_fails(tmp_path):
    with pytest.raises(CommandError, match="is missing"):
        call_command("check_openapi", path=tmp_path / "openapi.json")


def test_write_then_check_passes(tmp_path):
    path = tmp_path / "docs" / "openapi.json"
    call_command("check_openapi", write=True, path=path)
    assert path.read_text() == render_schema()
    call_command("check_openapi", path=path)


def test_served_document_is_the_committed_one(client):
    served = client.get("/api/v1/openapi.json").json()
    assert served == json.loads(DEFAULT_PATH.read_text())
