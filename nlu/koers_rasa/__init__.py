"""Koers' extensions loaded into the Rasa server (this package runs in .venv-rasa).

Importing the package (Rasa does, to load ``KoersTrackerStore`` from
``endpoints.yml``) also installs :func:`cached_action_validation`,
:func:`quiet_user_text_warnings` and :func:`bounded_rest_messages`.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def _response_validator() -> Any:
    """Builds the validator of action-server responses once (the schema is checked once)."""
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """Validates an action server's response like Rasa does, without re-checking the schema each time."""
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    error = best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the "
        "Action endpoint is valid. For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def cached_action_validation() -> None:
    """Makes Rasa reuse one validator for every custom-action response.

    Rasa 3.6 calls ``jsonschema.validate`` per action, which checks the schema
    against its meta-schema each time: about 35 ms of CPU per action with
    jsonschema 4.17 on these machines. The same validation with a validator
    built once gives the same result for a fraction of the cost.
    """
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def quiet_user_text_warnings() -> None:
    """Keeps user text out of the logs.

    Rasa warns about a message that starts with ``/`` but is no known intent
    ("/start CODE", or anything a user types) and quotes the whole message —
    an invite code or personal words would end up in the log file.
    """
    import warnings

    warnings.filterwarnings("ignore", message=r"Failed to parse arguments in line")


MAX_MESSAGE = 4096  # Telegram's own limit; the web chat refuses more than 4,000


def _extract_message(self: Any, request: Any) -> Any:
    """Returns the REST message, cut to ``MAX_MESSAGE`` characters."""
    message = request.json.get("message", None)
    return message[:MAX_MESSAGE] if isinstance(message, str) else message


def bounded_rest_messages() -> None:
    """Cuts REST messages to 4,096 characters before Rasa reads them.

    Every user message is kept in the tracker and sent to the action server
    with it; a stream of 60–100 KB messages made that request grow until the
    server fell over. No person types more than a Telegram message at once.
    """
    from rasa.core.channels.rest import RestInput

    RestInput._extract_message = _extract_message  # type: ignore[method-assign]


cached_action_validation()
quiet_user_text_warnings()
bounded_rest_messages()
