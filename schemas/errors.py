"""Errors the office must fix in its own configuration (messages in Chinese)."""


class HomeError(Exception):
    """A problem with the data home the office must fix: home.toml, the registry,
    a legacy catalogue or narrative template. The message says what and where."""
