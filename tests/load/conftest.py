"""`bench` is not an installed package: put the repository root on the path so that these
tests import it however pytest was started (`python -m pytest` adds it, `pytest` not)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
