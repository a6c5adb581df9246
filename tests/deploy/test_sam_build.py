"""`sam build` without Docker, and every function within Lambda's 250 MB (unzipped, with
its layers)."""

from __future__ import annotations

import os
import subprocess
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
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sam-build")
    done = subprocess.run(
        [
            str(SAM),
            "build",
            "--template",
            str(ROOT / "template.yaml"),
            "--build-dir",
            str(out),
            "--cache-dir",
            str(out.parent / "sam-cache"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Build Succeeded" in done.stdout
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
