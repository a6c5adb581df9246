"""`sam build` without Docker (`make artifacts`), and every function within Lambda's 250 MB
(unzipped, with its layers)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from smm_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
SAM = ROOT / ".tools" / "sam" / "bin" / "sam"
LIMIT = 250 * 1024 * 1024

pytestmark = pytest.mark.deploy


def size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


@pytest.fixture(scope="module")
def build_dir() -> Path:
    """What `make artifacts` built with `sam build` (set-up does it; the local stack runs the
    functions from it)."""
    out = ROOT / ".aws-sam" / "build"
    assert (out / "template.yaml").exists(), "no artifacts: run `make artifacts`"
    assert "Build Succeeded" in (ROOT / ".aws-sam" / "build.log").read_text()
    return out


def test_every_function_fits_lambdas_unzipped_limit_with_its_layers(build_dir: Path) -> None:
    template = load_template(ROOT / "template.yaml")
    report = []
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        layers = [ref["Ref"] for ref in resource["Properties"].get("Layers", [])]
        total = size(build_dir / name) + sum(size(build_dir / layer) for layer in layers)
        report.append(f"{name}: {total / 1e6:.1f} MB with {', '.join(layers) or 'no layers'}")
        assert total < LIMIT, report[-1]
    print("\n" + "\n".join(report))


def test_the_handlers_are_where_the_template_says(build_dir: Path) -> None:
    template = load_template(ROOT / "template.yaml")
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            module = resource["Properties"]["Handler"].rsplit(".", 1)[0].replace(".", "/")
            assert any((build_dir / name / f"{module}{ext}").exists() for ext in (".py", ".mjs")), (
                name
            )
    assert (build_dir / "FfmpegLayer" / "bin" / "ffmpeg").stat().st_mode & 0o111
    assert (build_dir / "RuntimeLayer" / "python" / "smm_runtime" / "runner.py").exists()
    # The image function ships compiled JavaScript and its runtime packages, not the compiler.
    image = build_dir / "RenderImageFunction"
    assert (image / "dist" / "contract.mjs").exists() and not (image / "src").exists()
    assert (image / "node_modules" / "satori").exists()
    assert not (image / "node_modules" / "typescript").exists()


def test_the_runtime_layer_carries_exactly_the_locked_versions(build_dir: Path) -> None:
    """What `sam build` put in the layer is what requirements.lock (i.e. uv.lock) says."""
    lock = dict(
        line.split("==")
        for line in (ROOT / "layers" / "runtime" / "requirements.lock").read_text().split()
        if "==" in line
    )
    built = {}
    for info in (build_dir / "RuntimeLayer" / "python").glob("*.dist-info"):
        name, version = info.name.removesuffix(".dist-info").rsplit("-", 1)
        built[name.lower().replace("_", "-")] = version
    assert built == lock


def test_the_runtime_layer_keeps_the_aws_apis_the_functions_call(build_dir: Path) -> None:
    """The layer trims botocore's service models to the APIs the code calls: a client for
    any other would fail in Lambda with UnknownServiceError."""
    called = {"secretsmanager"}  # Powertools' parameters.get_secret (smm_runtime)
    for source in [*(ROOT / "functions").rglob("*.py"), *(ROOT / "layers").rglob("*.py")]:
        if "node_modules" not in source.parts and ".wheel" not in source.parts:
            called |= set(re.findall(r'boto3\.client\(\s*"([a-z0-9-]+)"', source.read_text()))
    kept = {
        p.name for p in (build_dir / "RuntimeLayer/python/botocore/data").iterdir() if p.is_dir()
    }
    assert called <= kept, f"the runtime layer lacks {sorted(called - kept)}: add to AWS_SERVICES"
