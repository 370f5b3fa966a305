"""One small error hierarchy: the CLI turns any KioskError into a one-line message."""


class KioskError(Exception):
    """Base class for every error the kiosk reports to a person in plain words."""


class ConfigError(KioskError):
    """The configuration names an unknown key or a value that is not allowed."""


class ContentError(KioskError):
    """A source document or the knowledge base could not be read or built."""


class AudioError(KioskError):
    """An audio file or device could not be read, opened or understood."""


class ModelError(KioskError):
    """A speech model is missing, broken, or could not be downloaded."""
