from __future__ import annotations

from pathlib import Path

import pytest

from smm_local.template import Resolver, functions, load_template, parameter_defaults
from smm_runtime.temporal_conn import TemporalConfigError, connect_config

ROOT = Path(__file__).resolve().parents[2]


def test_namespace_defaults_to_smm_hub_core_not_default() -> None:
    assert connect_config({})["namespace"] == "smm-hub-core"


def test_default_namespace_is_refused_unless_explicitly_allowed() -> None:
    with pytest.raises(TemporalConfigError, match="Postiz"):
        connect_config({"TEMPORAL_NAMESPACE": "default"})
    allowed = connect_config({"TEMPORAL_NAMESPACE": "default", "SMM_ALLOW_DEFAULT_NAMESPACE": "1"})
    assert allowed["namespace"] == "default"


def test_temporal_env_config_is_honoured() -> None:
    config = connect_config(
        {
            "TEMPORAL_ADDRESS": "temporal:7233",
            "TEMPORAL_API_KEY": "k",
            "TEMPORAL_NAMESPACE": "smm-hub-core",
        }
    )
    assert config["target_host"] == "temporal:7233"
    assert config["api_key"] == "k"
    assert config["tls"] is True  # an API key implies TLS, as in the Temporal CLI


def test_emulator_reads_functions_from_the_sam_template() -> None:
    template = load_template(ROOT / "template.yaml")
    resolver = Resolver(parameter_defaults(template), {"CreativeBucket": "local-bucket"})
    specs = functions(template, ROOT, resolver)
    render = specs["RenderSegmentFunction"]
    assert render.handler == "functions.render_video.app.segment_handler"
    assert render.code_dir == ROOT / "functions" / "render_video"
    assert render.timeout_s == 900
    assert render.memory_mb == 3008
    assert render.max_retry_attempts == 0  # Temporal owns retries
    assert render.environment["SMM_OUTPUT_BUCKET"] == "local-bucket"
    assert render.environment["TEMPORAL_NAMESPACE"] == "smm-hub-core"
    assert render.unresolved == []
    assert {"AudioMixFunction", "FinalizeVideoFunction", "NoopFunction"} <= set(specs)


def test_the_temporal_api_key_can_come_from_secrets_manager(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # Powertools' own boto3 session
    with mock_aws():
        arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="smm/test/temporal-api-key", SecretString="sk-from-the-vault"
        )["ARN"]
        config = connect_config(
            {
                "SMM_TEMPORAL_API_KEY_SECRET_ARN": arn,
                "AWS_DEFAULT_REGION": "us-east-1",
                "TEMPORAL_ADDRESS": "temporal.example.com:7233",
            }
        )
    assert config["api_key"] == "sk-from-the-vault"
    assert config["tls"] is True
    assert config["namespace"] == "smm-hub-core"


def test_cli_bad_input_is_a_clear_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestrator.cli import main

    monkeypatch.setenv("SMM_LEDGER_TABLE", "ledger")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with pytest.raises(SystemExit) as exit_code:
        main(["credits", "grant", "acme", "-5"])
    assert exit_code.value.code == 2
    assert capsys.readouterr().err.strip() == "error: amount: a grant is positive"
    with pytest.raises(SystemExit) as exit_code:
        main(["approve", "wf-1", "--reviewer", "ana", "--revise", "--changes", "{oops"])
    assert exit_code.value.code == 2
    assert "error: --changes: not valid JSON" in capsys.readouterr().err


def test_the_cli_links_each_workflow_to_the_web_ui_when_one_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from orchestrator.cli.settings import settings

    monkeypatch.delenv("SMM_WEB_UI_URL", raising=False)
    assert settings().workflow_link("payload-posts-1") == ""
    monkeypatch.setenv("SMM_WEB_UI_URL", "https://temporal.example.com/")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "smm-hub-core")
    assert settings().workflow_link("render/a b") == (
        "https://temporal.example.com/namespaces/smm-hub-core/workflows/render%2Fa%20b"
    )
