"""Atomic file writes: nothing half-written is ever left where a reader expects a whole file."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import torch

from .errors import GanlabError


def usual_permissions(path: Path) -> None:
    """Give a file made by mkstemp (0600) or a folder made by mkdtemp (0700) the permissions the umask gives new
    ones (0644 / 0755 under umask 022), so another user (a grader) can read what ganlab wrote."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the same directory; on success it is renamed onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        usual_permissions(tmp)  # mkstemp makes 0600
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_yaml(path: str | os.PathLike, what: str = "config file") -> Any:
    """Parse a YAML file; a missing or malformed one is a one-line error naming it as ``what``."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise GanlabError(f"{what} {path} does not exist")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise GanlabError(f"{what} {path} is not valid YAML: {str(exc).splitlines()[0]}") from None


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file; a missing or malformed one is a one-line error naming it."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise GanlabError(f"{path} is not a readable JSON file ({type(exc).__name__})") from None


def torch_save(obj: Any, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        try:
            torch.save(obj, tmp)
        except RuntimeError as exc:  # torch's zip writer reports a full disk as "file write failed"
            free = shutil.disk_usage(Path(tmp).parent).free
            raise GanlabError(f"could not write {path}: {str(exc).strip().splitlines()[-1]} "
                              f"({free / 2 ** 20:.1f} MiB free on its disk; is it full?)") from None


def torch_load(path: str | os.PathLike) -> Any:
    """Load a checkpoint without executing code (weights_only); a file that is not one (truncated, foreign,
    or needing code to load) is a one-line error, never torch's hint to load it unsafely."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise GanlabError(f"checkpoint {path} does not exist") from None
    except Exception as exc:  # zip, pickle and unpickler errors of every kind
        raise GanlabError(f"{path} is not a loadable weights-only checkpoint ({type(exc).__name__}): it is "
                          f"truncated, or not written by ganlab (or torch.save of plain tensors)") from None


def check_finite(state: dict, path: str | os.PathLike, what: str = "weights") -> None:
    """Refuse a state_dict with a NaN or infinite tensor (it would generate black or white images)."""
    bad = [k for k, v in state.items() if torch.is_tensor(v) and v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise GanlabError(f"{path}: the {what} hold non-finite values (NaN or inf) in {', '.join(bad[:3])}"
                          f"{' …' if len(bad) > 3 else ''}; use a checkpoint from before training diverged")


def append_line(path: str | os.PathLike, line: str) -> None:
    """Append one line and flush it to disk (a crash loses at most the line being written)."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(line.rstrip("\n") + "\n")
        f.flush()
        os.fsync(f.fileno())
