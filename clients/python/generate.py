"""Regenerate the Python stubs in tradepit_client/v1 from proto/tradepit/v1/*.proto.

protoc names Python modules after proto file paths (`tradepit.v1`), so the imports
between generated modules are rewritten to live under `tradepit_client.v1`. Run it
with `make proto`; tests check that the committed stubs are up to date.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

HERE = Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent.parent / "proto"
TARGET = HERE / "tradepit_client" / "v1"
IMPORT = re.compile(r"\bfrom tradepit\.v1 import\b|\bimport tradepit\.v1\.")


def generate(target: Path = TARGET) -> list[Path]:
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.glob("tradepit/v1/*.proto"))
    include = str(Path(protoc.__file__).parent / "_proto")
    # mypy-protobuf's plugins sit beside this interpreter, which may not be on PATH.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    with tempfile.TemporaryDirectory() as scratch:
        code = protoc.main([
            "grpc_tools.protoc", f"-I{PROTO_ROOT}", f"-I{include}",
            f"--python_out={scratch}", f"--grpc_python_out={scratch}",
            f"--mypy_out={scratch}", f"--mypy_grpc_out={scratch}", *protos,
        ])
        if code != 0:
            raise SystemExit(f"protoc failed with exit code {code}")
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for source in sorted((Path(scratch) / "tradepit" / "v1").iterdir()):
            text = IMPORT.sub(lambda m: m.group(0).replace("tradepit.v1", "tradepit_client.v1"),
                              source.read_text())
            destination = target / source.name
            destination.write_text(text)
            written.append(destination)
    init = target / "__init__.py"
    if not init.exists():
        init.write_text('"""Generated stubs for tradepit.v1 (see generate.py)."""\n')
    return written


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET
    if out != TARGET and out.exists():
        shutil.rmtree(out)
    for path in generate(out):
        print(path.relative_to(HERE) if path.is_relative_to(HERE) else path)
