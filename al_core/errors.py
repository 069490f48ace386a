"""Exceptions that carry a message meant for the user (the CLI prints them on one line)."""


class AlflowError(Exception):
    """Base class for errors caused by input or state the user can fix."""


class WorkspaceError(AlflowError):
    """The workspace is missing, malformed, or locked by another writer."""


class InputFileError(AlflowError):
    """A file cannot be read at all: wrong encoding, broken syntax, missing columns."""


class ConfigError(AlflowError):
    """A setting or name is invalid."""
