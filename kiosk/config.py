"""Settings: one frozen dataclass tree built once from defaults <- TOML file <- environment <- flags.

Unknown keys and bad values are rejected with a message naming the key and what is allowed, so an
operator's typo never silently changes how the kiosk behaves.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.errors import ConfigError
from kiosk.loop import LISTEN_MODES, VoiceSettings
from kiosk.matcher import MatchSettings
from kiosk.oplog import PrivacySettings
from kiosk.scanning import ScanSettings

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "dystonia-kiosk" / "kiosk.toml"


@dataclass(frozen=True)
class SpeechSettings:
    rate: int = 150
    """Words per minute at the start of each visit (visitors may change it; it resets after)."""
    volume: float = 0.9
    """0..1 at the start of each visit."""
    voice: str = ""
    """pyttsx3/espeak-ng voice id or name part; empty for the default English voice."""
    enabled: bool = True


@dataclass(frozen=True)
class RecognitionSettings:
    engine: str = "auto"
    """auto (Vosk when a model is installed, else PocketSphinx), vosk, or pocketsphinx."""
    model_path: str = ""
    """A Vosk model folder outside models/ (also: environment KIOSK_VOSK_MODEL)."""
    denoise: bool = True
    """Subtract steady background noise (a fan, hiss) before recognition, live and from files."""


@dataclass(frozen=True)
class ScreenSettings:
    enabled: bool = True
    """Serve the kiosk screen (a page a browser shows full-screen) while the kiosk runs."""
    host: str = "127.0.0.1"
    """Only this machine can see it; bind elsewhere only on purpose."""
    port: int = 8765


@dataclass(frozen=True)
class Settings:
    content_dir: Path = PROJECT_DIR / "content"
    models_dir: Path = PROJECT_DIR / "models"
    match: MatchSettings = field(default_factory=MatchSettings)
    speech: SpeechSettings = field(default_factory=SpeechSettings)
    recognition: RecognitionSettings = field(default_factory=RecognitionSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    scan: ScanSettings = field(default_factory=ScanSettings)
    screen: ScreenSettings = field(default_factory=ScreenSettings)


ENGINES = ("auto", "vosk", "pocketsphinx")
ENV = {"KIOSK_CONTENT": ("content_dir",), "KIOSK_ENGINE": ("recognition", "engine"),
       "KIOSK_VOSK_MODEL": ("recognition", "model_path")}


def _convert(key: str, value: Any, current: Any) -> Any:
    """Coerce a TOML/env value to the type of the default, or say what is wrong."""
    try:
        if isinstance(current, bool):
            if isinstance(value, str):
                if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(value)
                return value.lower() in ("1", "true", "yes", "on")
            return bool(value)
        if isinstance(current, Path):
            return Path(str(value)).expanduser()
        if isinstance(current, (int, float)) and not isinstance(value, (int, float, str)):
            raise ValueError(value)
        converted = type(current)(value)
        if isinstance(converted, float) and not math.isfinite(converted):
            raise ValueError(value)
        return converted
    except (TypeError, ValueError, OverflowError, RuntimeError):  # RuntimeError: "~nosuchuser"
        kind = "path" if isinstance(current, Path) else type(current).__name__
        raise ConfigError(f"config key {key}: {value!r} is not a usable {kind}") from None


def _merge(obj: Any, data: dict[str, Any], prefix: str = "") -> Any:
    names = {f.name: f for f in dataclasses.fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if key not in names:
            raise ConfigError(f"unknown config key {full!r}; allowed: {', '.join(sorted(names))}")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"config key {full!r} must be a table ([{full}])")
            changes[key] = _merge(current, value, f"{full}.")
        else:
            changes[key] = _convert(full, value, current)
    return dataclasses.replace(obj, **changes)


def _validate(settings: Settings) -> None:
    m, s = settings.match, settings.speech
    if settings.recognition.engine not in ENGINES:
        raise ConfigError(f"recognition.engine: {settings.recognition.engine!r}; allowed: {', '.join(ENGINES)}")
    if not (0.0 <= m.confirm_at <= m.answer_at <= 1.0 and 0.0 <= m.spoken_confirm_at <= m.answer_at):
        raise ConfigError("match: need 0 <= confirm_at, spoken_confirm_at <= answer_at <= 1")
    if not 60 <= s.rate <= 400:
        raise ConfigError(f"speech.rate: {s.rate}; allowed 60..400 words per minute")
    v = settings.voice
    if v.listen_mode not in LISTEN_MODES:
        raise ConfigError(f"voice.listen_mode: {v.listen_mode!r}; allowed: {', '.join(LISTEN_MODES)}")
    if not 0 <= v.vad_mode <= 3:
        raise ConfigError(f"voice.vad_mode: {v.vad_mode}; allowed 0..3 (3 is the strictest)")
    if v.cue not in ("tone", "word", "none"):
        raise ConfigError(f"voice.cue: {v.cue!r}; allowed: tone, word, none")
    if not 0.5 <= v.endpoint.silence_s <= 10:
        raise ConfigError(f"voice.endpoint.silence_s: {v.endpoint.silence_s}; allowed 0.5..10 seconds")
    if not 0 <= settings.screen.port <= 65535:
        raise ConfigError(f"screen.port: {settings.screen.port}; allowed 0..65535")
    if not 1 <= settings.privacy.retention_days <= 3650:
        raise ConfigError(f"privacy.retention_days: {settings.privacy.retention_days}; allowed 1..3650")
    if not 0.0 <= s.volume <= 1.0:
        raise ConfigError(f"speech.volume: {s.volume}; allowed 0..1")


def load_settings(config_file: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Defaults <- config file <- environment <- overrides (from command-line flags)."""
    settings = Settings()
    path = config_file or (Path(os.environ["KIOSK_CONFIG"]) if os.environ.get("KIOSK_CONFIG") else DEFAULT_CONFIG)
    if config_file is not None or path.is_file():
        try:
            settings = _merge(settings, tomllib.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} not found") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {path}: {exc}") from None
        except RecursionError:
            raise ConfigError(f"config file {path}: nested too deeply") from None
        except OSError as exc:
            raise ConfigError(f"config file {path} cannot be read ({exc.strerror})") from None
    for var, keys in ENV.items():
        if os.environ.get(var):
            settings = _merge(settings, _nest(keys, os.environ[var]))
    for dotted, value in (overrides or {}).items():
        if value is not None:
            settings = _merge(settings, _nest(tuple(dotted.split(".")), value))
    _validate(settings)
    return settings


def _nest(keys: tuple[str, ...], value: Any) -> dict[str, Any]:
    for key in reversed(keys):
        value = {key: value}
    return dict(value)


def as_toml(settings: Any, table: str = "") -> str:
    """The effective settings, printable as a config file (nested settings become [a.b] tables)."""
    lines: list[str] = [f"\n[{table}]"] if table else []
    nested: list[str] = []
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if dataclasses.is_dataclass(value):
            nested.append(as_toml(value, f"{table}.{f.name}" if table else f.name))
        else:
            lines.append(f"{f.name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n" + "".join(nested)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
