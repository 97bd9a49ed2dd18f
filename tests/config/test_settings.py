import os
import subprocess
import sys


def _run_check(env_overrides: dict, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENCX_DATA_DIR": str(tmp_path), **env_overrides}
    for name in ("DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "opencx.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = _run_check(
        {
            "SECRET_KEY": "x" * 64 + "production-secret-not-for-tests-only",
            "ALLOWED_HOSTS": "cx.example.com",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _print_setting(name: str, env: dict) -> str:
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'opencx.config.settings'; "
        f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_embedded_mode_generates_a_secret_key_once(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["OPENCX_DATA_DIR"] = str(tmp_path)
    first, second = _print_setting("SECRET_KEY", env), _print_setting("SECRET_KEY", env)
    assert first == second and len(first) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_debug_is_off_unless_asked(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env["OPENCX_DATA_DIR"] = str(tmp_path)
    assert _print_setting("DEBUG", env) == "False"
    assert _print_setting("DEBUG", {**env, "DEBUG": "true"}) == "True"


def test_postgresql_binds_parameters_on_the_server_unless_switched_off(tmp_path, monkeypatch):
    from opencx.config.database import databases

    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/opencx")
    monkeypatch.delenv("DATABASE_SERVER_SIDE_BINDING", raising=False)
    assert databases(tmp_path)["default"]["OPTIONS"]["server_side_binding"] is True
    monkeypatch.setenv("DATABASE_SERVER_SIDE_BINDING", "false")
    assert databases(tmp_path)["default"]["OPTIONS"]["server_side_binding"] is False
    monkeypatch.delenv("DATABASE_URL")
    assert "server_side_binding" not in databases(tmp_path)["default"]["OPTIONS"]
