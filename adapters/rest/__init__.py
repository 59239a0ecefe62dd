"""A small REST service embedding the tracker, with bearer tokens mapped to roles.

``create_app(tracker, tokens)`` builds the FastAPI app; ``load_tokens(path)`` reads the token
file (TOML or JSON). Run it with ``python -m adapters.rest --tokens tokens.toml``.
"""

from .app import create_app
from .auth import Principal, TokenConfigError, load_tokens

__all__ = ["Principal", "TokenConfigError", "create_app", "load_tokens"]
