"""The kiosk's screen: a local web page that mirrors the voice session and sends presses back.

Why a web page: a full-screen browser is the one display every kiosk box has; it scales type and
contrast without a toolkit, and its accessibility tree can be checked (axe) in tests. Events reach
the page as server-sent events: one-way, reconnecting by themselves, no library on the page.
Presses come back as small JSON posts that become the same `Command`s the voice loop carries out,
so the screen and the voice drive one session.

The server runs on its own thread and asyncio loop so the voice loop never waits for a browser;
each browser gets its own `EventBus` subscription, so a stalled one only loses its own events.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import queue
import re
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiohttp import web

from kiosk.config import ScreenSettings
from kiosk.errors import KioskError
from kiosk.events import COMMANDS, Command, Commands, EventBus, KioskEvent

_LOGGER = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent / "web"
_STATIC_NAME = re.compile(r"[A-Za-z0-9_-]+\.(?:html|css|js|svg|png)")
"""Static names are plain file names of kiosk/web: no slashes, no dots but the extension's."""
_REPLAYED = ("state", "menu", "heard", "say", "sentence", "stopped", "reset")
"""Kinds replayed (oldest first) to a browser that connects late, so it shows the current session."""
_HEADERS = {
    # Everything comes from this server: the page works with no network and loads nothing else.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _frame(event: KioskEvent) -> bytes:
    """One SSE message; json.dumps never emits a raw newline, so one `data:` line is enough."""
    return b"data: " + json.dumps(dataclasses.asdict(event), ensure_ascii=False).encode() + b"\n\n"


def _take(inbox: queue.Queue[KioskEvent], timeout: float) -> list[KioskEvent]:
    """Wait (on a worker thread) for the next event, then take whatever else is already waiting."""
    try:
        events = [inbox.get(timeout=timeout)]
    except queue.Empty:
        return []
    while len(events) < 50:
        try:
            events.append(inbox.get_nowait())
        except queue.Empty:
            break
    return events


def start_screen(settings: ScreenSettings, bus: EventBus, commands: Commands, menu: list[str]) -> Screen | None:
    """Start the screen if enabled; a port in use or any server failure leaves the kiosk running without it."""
    if not settings.enabled:
        return None
    screen = Screen(bus, commands, menu, settings.host, settings.port)
    try:
        screen.start()
    except (KioskError, OSError) as exc:
        _LOGGER.warning("the kiosk screen is not available (%s); voice and captions carry on", exc)
        return None
    print(f"kiosk screen: {screen.url}", file=sys.stderr, flush=True)
    return screen


class Screen:
    """The HTTP server behind the kiosk screen, started and stopped by the kiosk."""

    POLL_S = 0.25
    """How often a quiet event stream checks for shutdown or a vanished browser."""
    HEARTBEAT_S = 10.0
    """A comment line this often keeps proxies and the browser from timing the stream out."""

    def __init__(self, bus: EventBus, commands: Commands, menu: list[str], host: str = "127.0.0.1",
                 port: int = 8765) -> None:
        self.host = host
        self.port = port
        """The real port once started (port 0 asks the system for a free one)."""
        self._bus = bus
        self._commands = commands
        self._menu = tuple(menu)
        self._closing = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> None:
        """Listen, serve on a background thread, and return once the page can be fetched."""
        if self._thread is not None:
            raise RuntimeError("screen already started")
        try:
            sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(16)
        except OSError as exc:  # the one failure an operator can fix: say which address
            raise KioskError(f"The screen cannot listen on {self.host}:{self.port}: {exc.strerror or exc}") from exc
        self.port = sock.getsockname()[1]
        self._closing.clear()
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="screen-events")
        ready = threading.Event()
        failed: list[BaseException] = []
        self._thread = threading.Thread(target=self._serve, args=(sock, ready, failed), name="screen", daemon=True)
        self._thread.start()
        ready.wait()
        if failed:
            self.stop()
            raise KioskError(f"The screen could not start: {failed[0]}") from failed[0]
        _LOGGER.info("Screen at %s", self.url)

    def stop(self) -> None:
        """Close every event stream and the server; safe to call twice."""
        thread, loop, pool = self._thread, self._loop, self._pool
        if thread is None:
            return
        self._closing.set()
        if loop is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        if pool is not None:
            pool.shutdown(wait=True)
        self._thread = self._loop = self._pool = None

    def _serve(self, sock: socket.socket, ready: threading.Event, failed: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        runner = web.AppRunner(self._app(), access_log=None)
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.SockSite(runner, sock).start())
        except Exception as exc:  # reported to start(), which raises it on the caller's thread
            failed.append(exc)
            sock.close()
            loop.close()
            ready.set()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())  # streams end within POLL_S, seeing _closing
            loop.close()

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/events", self._events)
        app.router.add_post("/command", self._command)
        app.on_response_prepare.append(self._secure)
        return app

    @staticmethod
    async def _secure(request: web.Request, response: web.StreamResponse) -> None:
        for name, value in _HEADERS.items():
            response.headers.setdefault(name, value)

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(WEB_DIR / "index.html")

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = WEB_DIR / name
        if not _STATIC_NAME.fullmatch(name) or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    def _snapshot(self) -> list[KioskEvent]:
        """The latest event of each kind, oldest first: replaying them rebuilds the current screen.

        The constructor's menu stands in (at 0, "known but not offered") until the loop sends one.
        """
        last = dict(self._bus.last)
        events = [last[kind] for kind in _REPLAYED if kind in last]
        if "menu" not in last:
            events.append(KioskEvent("menu", items=self._menu, at=0.0))
        return sorted(events, key=lambda event: event.at)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
        await response.prepare(request)
        inbox = self._bus.subscribe()  # before the snapshot, so nothing falls between the two
        loop = asyncio.get_running_loop()
        quiet = 0.0
        try:
            await response.write(b"retry: 1000\n\n" + b"".join(_frame(e) for e in self._snapshot()))
            while not self._closing.is_set():
                events = await loop.run_in_executor(self._pool, _take, inbox, self.POLL_S)
                if events:
                    await response.write(b"".join(_frame(e) for e in events))
                    quiet = 0.0
                    continue
                if request.transport is None or request.transport.is_closing():
                    break
                quiet += self.POLL_S
                if quiet >= self.HEARTBEAT_S:
                    await response.write(b": keep-alive\n\n")
                    quiet = 0.0
        except ConnectionResetError:
            pass  # the browser went away; nothing to tell it
        finally:
            self._bus.unsubscribe(inbox)
        return response

    async def _command(self, request: web.Request) -> web.Response:
        """A press on the screen. JSON only: a cross-site form cannot post JSON without a preflight."""
        if request.content_type != "application/json":
            raise web.HTTPUnsupportedMediaType(text="send JSON")
        try:
            body = await request.json()
        except ValueError as exc:
            raise web.HTTPBadRequest(text="body is not JSON") from exc
        name = body.get("name") if isinstance(body, dict) else None
        number = body.get("number", 0) if isinstance(body, dict) else 0
        if not isinstance(name, str) or name not in COMMANDS:
            raise web.HTTPBadRequest(text=f"unknown command {name!r}; known: {', '.join(COMMANDS)}")
        if number is None:
            number = 0
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise web.HTTPBadRequest(text="number must be a whole number, 0 or more")
        if not self._commands.put(Command(name, number)):
            raise web.HTTPServiceUnavailable(text="the kiosk is busy; try again")
        _LOGGER.debug("Screen command %s %d", name, number)
        return web.json_response({"ok": True})
