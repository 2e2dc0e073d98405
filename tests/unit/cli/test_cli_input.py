"""The genai-operator command line on input that is no manifest at all (issue 17, item 7): a binary file, binary
on stdin, text that is not UTF-8, nesting deeper than any object, endless input (/dev/zero, a pipe that never
ends) and an unreadable file all exit 2 within seconds, with one line naming the input and what is wrong.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from genai_operator.api import loading
from genai_operator.cli.main import main
from support.paths import ROOT


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    assert captured.out == ""
    return code, captured.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)), "binary data (a NUL byte at offset 7), not YAML or JSON"),
        ("kind: ModelDeployment\nname: caf\xe9\n".encode("latin-1"), "not UTF-8 text (byte 0xe9 at offset 31)"),
        (b'{"a": ' * 50_000 + b"1" + b"}" * 50_000, "nested more than 100 levels deep, which no Kubernetes object is"),
        (b"[" * 50_000 + b"]" * 50_000, ""),  # libyaml stops at 1,000 levels: a YAML syntax error naming the line
        (b"a:\n" + b"".join(b"  " * n + b"- \n" for n in range(1, 150)), "nested more than 100 levels deep"),
        (b"- " * 500 + b"x\n", "nested more than 100 levels deep"),
    ],
)
@pytest.mark.parametrize("command", ["plan", "render"])
def test_input_that_is_no_manifest_exits_2_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, content: bytes, message: str
) -> None:
    path = tmp_path / "input.yaml"
    path.write_bytes(content)
    code, err = run([command, "-f", str(path)], capsys)
    assert code == 2
    expected = f"error: {path}: {message}" if message else f"error: {path}:1:1001: YAML syntax error: exceeded maximum"
    assert err.startswith(expected) and err.count("\n") == 1, err


def test_binary_on_stdin_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"kind: \xff\xfe\n")))
    code, err = run(["plan", "-f", "-"], capsys)
    assert (
        code == 2 and err == "error: <stdin>: not UTF-8 text (byte 0xff at offset 6); save it as UTF-8 YAML or JSON\n"
    )


def test_endless_input_stops_at_the_size_limit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(loading, "MAX_INPUT_BYTES", 1 << 20)  # the real 128 MiB takes a moment longer
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"# comment\n" * 200_000)))
    code, err = run(["plan", "-f", "-"], capsys)
    assert code == 2 and err.startswith("error: <stdin>: more than 1 MiB, far larger than manifests are")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("stdin", [False, True])
def test_dev_zero_exits_2_at_once(stdin: bool) -> None:
    """The real command, as a user runs it: `-f /dev/zero`, and /dev/zero piped in."""
    argv = [sys.executable, "-m", "genai_operator", "plan", "-f", "-" if stdin else "/dev/zero"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "operator")}
    with open("/dev/zero", "rb") as zero:
        done = subprocess.run(
            argv,
            stdin=zero if stdin else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
    label = "<stdin>" if stdin else "/dev/zero"
    assert (done.returncode, done.stderr) == (
        2,
        f"error: {label}: binary data (a NUL byte at offset 0), not YAML or JSON; pass a manifest file\n",
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text("kind: ModelDeployment\n")
    path.chmod(0)
    code, err = run(["plan", "-f", str(path)], capsys)
    assert code == 2 and err.startswith(f"error: {path}: cannot read it (Permission denied)")


def test_a_file_that_fails_to_read_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root can read anything, an I/O error stands in for every OSError (EACCES, EIO, a vanished mount)."""
    path = tmp_path / "m.yaml"
    path.write_text("kind: ModelDeployment\n")

    def broken(self: Path, *args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", broken)
    code, err = run(["plan", "-f", str(path)], capsys)
    assert (
        code == 2 and err == f"error: {path}: cannot read it (Permission denied); pass a readable YAML or JSON file\n"
    )
