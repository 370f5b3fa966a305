"""Find installed Vosk models and download official ones safely.

A kiosk must never end up with half a model: a download goes to a temporary file, is checked
(size, SHA-256 when known, zip integrity), unpacked into a temporary folder with every member's
path checked, and only then renamed into place. Nothing here imports vosk, so `kiosk models list`
works without it.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import shutil
import stat
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from kiosk.errors import ModelError

_LOGGER = logging.getLogger(__name__)

ENV_MODEL = "KIOSK_VOSK_MODEL"
"""Environment variable naming a Vosk model folder (searched after models/ and the config)."""
ENV_BASE_URL = "KIOSK_MODEL_BASE_URL"
"""Environment variable replacing the download site (a mirror, or a local server in tests)."""
DEFAULT_BASE_URL = "https://alphacephei.com/vosk/models"

ProgressCallback = Callable[[int, int | None], None]
"""Called as progress(bytes_done, bytes_total_or_None) while downloading."""

_CHUNK = 256 * 1024
_MAX_UNPACKED_BYTES = 16 * 1024**3
"""Refuse archives claiming more than this when unpacked (zip bombs, absurd downloads)."""


@dataclass(frozen=True)
class CatalogEntry:
    """One downloadable model."""

    name: str
    """Short name used on the command line, e.g. "small-en-us"."""
    folder: str
    """Top folder inside the zip, which is also the installed folder name."""
    size_bytes: int | None
    """Exact archive size, when known; a download of another size is refused."""
    sha256: str | None
    """Archive SHA-256, when known (Alpha Cephei publishes only MD5s)."""
    language: str
    """Language tag of the model, e.g. "en-us"."""

    @property
    def filename(self) -> str:
        return f"{self.folder}.zip"


CATALOG: dict[str, CatalogEntry] = {
    # Size and SHA-256 of the unchanged official archives as recorded independently by several
    # projects (e.g. the LFS object of rhasspy/vosk-models on Hugging Face).
    "small-en-us": CatalogEntry(
        "small-en-us",
        "vosk-model-small-en-us-0.15",
        41_205_931,
        "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
        "en-us",
    ),
    "lgraph-en-us": CatalogEntry(
        "lgraph-en-us",
        "vosk-model-en-us-0.22-lgraph",
        130_557_655,
        "d9838b4aaa82a75c4a17f5aca300eaca129aaab2a7cbf951bafbb500eb9c4334",
        "en-us",
    ),
}


@dataclass(frozen=True)
class ModelInfo:
    """One folder under models/, as `kiosk models list` shows it."""

    name: str
    """Folder name."""
    path: Path
    """Absolute folder path."""
    size_mb: float
    """Disk use of the folder in MB (10**6 bytes)."""
    valid: bool
    """True when the folder has the files a Vosk model needs."""
    language: str | None
    """Language guessed from the folder name (e.g. "en-us"), None when it cannot be told."""
    problems: tuple[str, ...] = ()
    """Why the folder is not a valid model."""


def model_problems(path: Path) -> list[str]:
    """Return what is missing for `path` to be a Vosk model (empty list: it looks valid).

    Checked before vosk sees the folder, because vosk prints pages of Kaldi errors (or worse) on a
    broken model instead of saying which file is missing.
    """
    if not path.is_dir():
        return [f"{path} is not a folder"]
    problems = []
    for rel in ("am/final.mdl", "conf/model.conf"):
        file = path / rel
        if not file.is_file() or file.stat().st_size == 0:
            problems.append(f"missing or empty {rel}")
    graph = path / "graph"
    static = (graph / "HCLG.fst").is_file()
    lookahead = (graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file()
    if not (static or lookahead):
        problems.append("missing graph/HCLG.fst (or graph/HCLr.fst with graph/Gr.fst)")
    return problems


def is_vosk_model(path: Path) -> bool:
    return not model_problems(path)


def _first_model_in(path: Path) -> Path | None:
    """The folder itself when it is a model, else its first (by name) model subfolder."""
    if is_vosk_model(path):
        return path
    if not path.is_dir():
        return None
    for child in sorted(path.iterdir()):
        if not child.name.startswith(".") and is_vosk_model(child):
            return child
    return None


def find_vosk_model(project_models: Path, configured: Path | None, env: Mapping[str, str] | None = None) -> Path | None:
    """Pick the Vosk model to use: models/ first, then the configured folder, then $KIOSK_VOSK_MODEL.

    A folder that is named but not a model is logged and skipped, so the kiosk can still fall back
    to PocketSphinx instead of failing.
    """
    env = os.environ if env is None else env
    candidates: list[tuple[str, Path]] = [("models folder", project_models)]
    if configured is not None:
        candidates.append(("configured model_path", configured))
    if env.get(ENV_MODEL):
        candidates.append((ENV_MODEL, Path(env[ENV_MODEL])))
    for origin, folder in candidates:
        found = _first_model_in(folder.expanduser())
        if found is not None:
            _LOGGER.debug("Using Vosk model %s (from %s)", found, origin)
            return found.resolve()
        if origin != "models folder":
            _LOGGER.warning("%s %s holds no valid Vosk model", origin, folder)
    return None


def _guess_language(folder: str) -> str | None:
    match = re.match(r"vosk-model-(?:small-)?([a-z]{2,3}(?:-[a-z]{2})?)(?:-|$)", folder.lower())
    return match.group(1) if match else None


def _disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def list_models(project_models: Path) -> list[ModelInfo]:
    """Describe every folder under models/ (valid or not), so a person sees why one is ignored."""
    if not project_models.is_dir():
        return []
    infos = []
    for child in sorted(project_models.iterdir()):
        if child.name.startswith(".") or not child.is_dir():
            continue
        problems = tuple(model_problems(child))
        infos.append(
            ModelInfo(
                name=child.name,
                path=child.resolve(),
                size_mb=round(_disk_bytes(child) / 1e6, 1),
                valid=not problems,
                language=_guess_language(child.name),
                problems=problems,
            )
        )
    return infos


def text_progress_bar(stream: TextIO | None = None, width: int = 30) -> ProgressCallback:
    """A dependency-free progress bar: `[#####.....]  45%  18.1/40.2 MB`, redrawn in place."""
    out = stream if stream is not None else sys.stderr
    last: list[int] = [-1]

    def show(done: int, total: int | None) -> None:
        if total:
            percent = min(100, done * 100 // total)
            if percent == last[0]:
                return
            last[0] = percent
            filled = width * percent // 100
            line = f"[{'#' * filled}{'.' * (width - filled)}] {percent:3d}%  {done / 1e6:.1f}/{total / 1e6:.1f} MB"
        else:
            megabytes = done // 1_000_000
            if megabytes == last[0]:
                return
            last[0] = megabytes
            line = f"{done / 1e6:.1f} MB"
        out.write("\r" + line)
        if total and done >= total:
            out.write("\n")
        out.flush()

    return show


def _open(url: str, timeout: float, dest_dir: Path) -> http.client.HTTPResponse:
    """Open the URL, turning every network failure into one plain-words ModelError."""
    host = urllib.parse.urlsplit(url).netloc or url
    hint = f"Copy a model folder into {dest_dir}/ instead."
    try:
        response: http.client.HTTPResponse = urllib.request.urlopen(url, timeout=timeout)  # noqa: S310
    except urllib.error.HTTPError as exc:
        raise ModelError(f"download of {url} failed: HTTP {exc.code} {exc.reason}. {hint}") from exc
    except urllib.error.URLError as exc:
        raise ModelError(f"cannot reach {host} ({exc.reason}) — is this machine offline? {hint}") from exc
    except ValueError as exc:
        raise ModelError(f"cannot download from {url!r}: {exc}") from exc
    except OSError as exc:  # timeouts, resets and refusals outside urllib's URLError
        raise ModelError(f"cannot reach {host} ({exc}) — is this machine offline? {hint}") from exc
    return response


def _fetch(
    url: str, target: Path, entry: CatalogEntry, timeout: float, progress: ProgressCallback, dest_dir: Path
) -> None:
    """Stream the archive to `target`, checking its length and SHA-256 on the way."""
    digest = hashlib.sha256()
    done = 0
    with _open(url, timeout, dest_dir) as response:
        header = response.headers.get("Content-Length")
        announced = int(header) if header and header.isdigit() else None
        if announced is not None and entry.size_bytes is not None and announced != entry.size_bytes:
            raise ModelError(
                f"{url} is {announced} bytes but {entry.name} should be {entry.size_bytes}; "
                "refusing an archive that is not the catalogued one"
            )
        total = announced if announced is not None else entry.size_bytes
        limit = total if total is not None else _MAX_UNPACKED_BYTES
        progress(0, total)
        try:
            with target.open("wb") as out:
                while chunk := response.read(_CHUNK):
                    done += len(chunk)
                    if done > limit:
                        raise ModelError(f"{url} sent more data than expected ({limit} bytes)")
                    digest.update(chunk)
                    out.write(chunk)
                    progress(done, total)
        except (http.client.HTTPException, OSError) as exc:
            raise ModelError(f"download of {url} broke off after {done} bytes ({exc}); try again") from exc
    expected = [n for n in (announced, entry.size_bytes) if n is not None]
    if any(done != n for n in expected):
        raise ModelError(f"download of {url} is incomplete: got {done} bytes, expected {expected[0]}; try again")
    if entry.sha256 is not None and digest.hexdigest() != entry.sha256.lower():
        raise ModelError(f"download of {url} is corrupt: SHA-256 {digest.hexdigest()} != {entry.sha256}")


def _extract_safely(archive: Path, into: Path) -> None:
    """Unpack after checking every member: no absolute paths, no escapes, no links, sane size."""
    try:
        with zipfile.ZipFile(archive) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise ModelError(f"the downloaded archive is corrupt (bad member {bad!r}); try again")
            members = zf.infolist()
            if sum(m.file_size for m in members) > _MAX_UNPACKED_BYTES:
                raise ModelError("the archive unpacks to an implausible size; refusing it")
            root = into.resolve()
            for member in members:
                name = member.filename
                mode = member.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise ModelError(f"the archive contains a symbolic link {name!r}; refusing it")
                dest = (root / name).resolve()
                if "\\" in name or name.startswith("/") or not dest.is_relative_to(root) or dest == root:
                    raise ModelError(f"the archive member {name!r} points outside the model folder; refusing it")
            for member in members:
                dest = root / member.filename
                if member.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, dest.open("wb") as out:
                    shutil.copyfileobj(src, out, _CHUNK)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise ModelError(f"the downloaded file is not a valid zip archive ({exc}); try again") from exc


def _install(unpacked: Path, target: Path, force: bool) -> None:
    """Move the checked model into place; with force, swap out the old one only once the new is ready."""
    if not target.exists():
        os.replace(unpacked, target)
        return
    if not force:
        raise ModelError(f"{target} already exists; use force to replace it")
    old = Path(tempfile.mkdtemp(dir=target.parent, prefix=".old-"))
    os.replace(target, old / target.name)
    try:
        os.replace(unpacked, target)
    except OSError:
        os.replace(old / target.name, target)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def download_model(
    name: str,
    dest_dir: Path,
    base_url: str | None = None,
    progress: ProgressCallback | None = None,
    timeout: float = 30,
    *,
    force: bool = False,
    catalog: Mapping[str, CatalogEntry] | None = None,
) -> Path:
    """Download catalogue model `name` into `dest_dir`/<folder> and return that folder.

    `base_url` (else $KIOSK_MODEL_BASE_URL, else the official site) lets a mirror or a test server
    stand in; `catalog` lets tests describe their own archive. `progress` defaults to a text bar
    on stderr. A valid model already in place is returned untouched unless `force` is set.
    """
    catalog = CATALOG if catalog is None else catalog
    if name not in catalog:
        raise ModelError(f"unknown model {name!r}; known models: {', '.join(sorted(catalog))}")
    entry = catalog[name]
    target = dest_dir / entry.folder
    if target.exists() and not force:
        if is_vosk_model(target):
            _LOGGER.info("%s is already installed at %s", name, target)
            return target.resolve()
        raise ModelError(f"{target} exists but is not a valid model; remove it or use force")
    base = base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    url = f"{base.rstrip('/')}/{urllib.parse.quote(entry.filename)}"
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, archive_name = tempfile.mkstemp(dir=dest_dir, prefix=".download-", suffix=".zip")
    os.close(fd)
    archive = Path(archive_name)
    staging = Path(tempfile.mkdtemp(dir=dest_dir, prefix=".extract-"))
    try:
        _LOGGER.info("Downloading %s", url)
        _fetch(url, archive, entry, timeout, progress or text_progress_bar(), dest_dir)
        _extract_safely(archive, staging)
        archive.unlink()
        unpacked = staging / entry.folder
        if not unpacked.is_dir():
            raise ModelError(f"the archive has no top folder {entry.folder!r}; it is not {name}")
        problems = model_problems(unpacked)
        if problems:
            raise ModelError(f"the archive does not hold a usable Vosk model: {'; '.join(problems)}")
        _install(unpacked, target, force)
    finally:
        archive.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
    _LOGGER.info("Installed %s at %s", name, target)
    return target.resolve()
