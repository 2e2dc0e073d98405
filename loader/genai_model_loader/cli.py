"""The command line: `python -m genai_model_loader --plan '<JSON>' [--termination-log PATH]`.

Exit codes: 0 every item is in place, 1 an item failed, 2 the plan or the arguments are unusable. On failure one
line `<Reason>: <item> <uri>: <what happened and the fix>` goes to the termination log, where
`kubectl describe pod` shows it."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
from collections.abc import Mapping, Sequence

from genai_model_loader import __version__, limits
from genai_model_loader.errors import LoaderError, PlanError, Reason
from genai_model_loader.fetch_mode import fetch
from genai_model_loader.plan import PlanItem, parse_plan
from genai_model_loader.progress import format_bytes
from genai_model_loader.retry import RetryPolicy
from genai_model_loader.source_uris import parse_source
from genai_model_loader.verify_mode import verify

log = logging.getLogger("genai_model_loader")
TERMINATION_LOG = "/dev/termination-log"
# The kubelet keeps 4096 bytes of the termination message; one line well under that stays readable.
MAX_MESSAGE_BYTES = 1024


class _StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is at the time of the record (tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def main(
    argv: Sequence[str] | None = None, *, retry: RetryPolicy | None = None, env: Mapping[str, str] | None = None
) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m genai_model_loader",
        description="Fetch model weights into the model cache, or verify a mounted model.",
    )
    parser.add_argument(
        "--plan", required=True, help="JSON list of {name, uri, dest, file?, ggufType?, mode?, keep?, link?}"
    )
    parser.add_argument("--termination-log", default=TERMINATION_LOG, help=f"default {TERMINATION_LOG}")
    parser.add_argument("--version", action="version", version=f"genai-model-loader {__version__}")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage error (or --help, --version)
        return int(exit_.code or 0)
    _configure_logging()
    environment = os.environ if env is None else env
    try:
        items = parse_plan(args.plan)
        limits.from_env(environment)  # a bad setting fails here, before any item, not in the middle
    except PlanError as err:
        return _fail(args.termination_log, f"{Reason.INVALID_PLAN}: {err}", 2)
    policy = retry or RetryPolicy()
    # Every uri is read before anything is fetched: a typo in the last adapter should not cost a 40 GiB download.
    for item in items:
        try:
            if item.mode == "fetch":
                parse_source(item.uri)
        except LoaderError as err:
            return _fail(args.termination_log, _line(err, item), 1)
    outcomes: list[tuple[str, bool, int]] = []
    for item in items:
        try:
            outcomes.append((item.name, *_run(item, environment, policy)))
        except LoaderError as err:
            return _fail(args.termination_log, _line(err, item), 1)
        except OSError as err:
            return _fail(args.termination_log, _line(_from_os_error(err), item), 1)
    _write_termination_log(args.termination_log, _success_line(outcomes))
    return 0


def _run(item: PlanItem, env: Mapping[str, str], policy: RetryPolicy) -> tuple[bool, int]:
    """(served from the cache or a mount, bytes) of one item."""
    if item.mode == "verify":
        log.info("%s: verified %s", item.name, verify(item))
        return True, 0
    return fetch(item, env, policy)


def _success_line(outcomes: list[tuple[str, bool, int]]) -> str:
    """What the operator shows in ModelLoaded: CacheHit when nothing was downloaded, else Fetched."""
    fetched = [name for name, hit, _ in outcomes if not hit]
    total = sum(size for _, _, size in outcomes)
    names = ", ".join(name for name, _, _ in outcomes)
    if fetched:
        return f"Fetched: {', '.join(fetched)} downloaded; {names} in place ({format_bytes(total)})"
    return f"CacheHit: {names} in place from the cache or a mount ({format_bytes(total)}), nothing downloaded"


def _line(err: LoaderError, item: PlanItem) -> str:
    return f"{err.reason}: {item.name} {item.uri}: {err.detail}"


def _from_os_error(err: OSError) -> LoaderError:
    """A file system failure outside the download loop (creating dest, the lock, the marker)."""
    where = err.filename or "the cache volume"
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return LoaderError(Reason.NO_SPACE, f"{where}: {err.strerror}; raise the pool's cache size")
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return LoaderError(
            Reason.FORBIDDEN,
            f"cannot write {where} ({err.strerror}); the cache volume must be "
            "writable by the pod's user (set the pod's fsGroup)",
        )
    return LoaderError(Reason.NETWORK_ERROR, f"{where}: {err.strerror or err}")


def _fail(termination_log: str, line: str, code: int) -> int:
    log.error("%s", line)
    _write_termination_log(termination_log, line)
    return code


def _write_termination_log(termination_log: str, line: str) -> None:
    data = line.encode("utf-8")[: MAX_MESSAGE_BYTES - 1].decode("utf-8", "ignore")
    try:
        with open(termination_log, "w", encoding="utf-8") as out:
            out.write(data + "\n")
    except OSError as err:  # outside Kubernetes there is no /dev/termination-log
        log.debug("cannot write the termination log %s: %s", termination_log, err)


def _configure_logging() -> None:
    for handler in [h for h in log.handlers if isinstance(h, _StderrHandler)]:
        log.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
