"""TRADEPIT_BOOK picks the backend; a missing extension is loud when Rust is asked for."""

import os
import subprocess
import sys

import pytest

# Importing with the extension blocked simulates a machine where it did not build.
BLOCK_NATIVE = "import sys; sys.modules['tradepit._native'] = None; "
REPORT = "import tradepit.book as b; print(b.BACKEND, b.Book.__module__)"


def _run(code: str, choice: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TRADEPIT_BOOK"}
    if choice is not None:
        env["TRADEPIT_BOOK"] = choice
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [(None, "rust tradepit._native"), ("rust", "rust tradepit._native"),
     ("python", "python tradepit.book.pure"), ("PYTHON", "python tradepit.book.pure")],
)
def test_the_environment_variable_selects_the_backend(choice, expected):
    result = _run(REPORT, choice)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_unset_falls_back_to_python_with_a_warning_when_the_extension_is_missing():
    result = _run(BLOCK_NATIVE + REPORT, None)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "python tradepit.book.pure"
    assert "falling back to the pure-Python book" in result.stderr


def test_asking_for_rust_without_the_extension_is_a_clear_error():
    result = _run(BLOCK_NATIVE + REPORT, "rust")
    assert result.returncode != 0
    assert "TRADEPIT_BOOK=rust but the Rust extension tradepit._native is not built" in (
        result.stderr)


def test_an_unknown_backend_name_is_refused():
    result = _run(REPORT, "java")
    assert result.returncode != 0
    assert "TRADEPIT_BOOK must be one of rust, python, got 'java'" in result.stderr


def test_both_backends_export_the_same_public_api():
    from tradepit.book import load_backend

    names = ["Book", "Event", "Order"]
    members = {"apply_batch", "amend", "best_ask", "best_bid", "cancel", "depth", "end_session",
               "get_order", "lot_size", "next_order_id", "orders", "sequence", "state_hash",
               "submit", "tick_size", "validate"}
    for backend in ("rust", "python"):
        module = load_backend(backend)
        assert all(hasattr(module, name) for name in names)
        assert members <= set(dir(module.Book)), backend
