"""Koers' extensions loaded into the Rasa server (this package runs in .venv-rasa).

Importing the package (Rasa does, to load ``KoersTrackerStore`` from
``endpoints.yml``) also installs :func:`cached_action_validation`, :func:`cached_event_types`,
:func:`quiet_user_text_warnings`, :func:`bounded_rest_messages`,
:func:`tell_when_actions_fail` and :func:`tell_when_turns_fail`.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
logger = logging.getLogger(__name__)


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


# set while one action runs: did a call to the action server fail?
_ACTION_FAILED: contextvars.ContextVar[bool] = contextvars.ContextVar("koers_action_failed", default=False)


def _unavailable_text(language: str | None) -> str:
    """The catalog's "can't answer right now" sentence in the user's language.

    Read through ``bot.i18n`` (pure Python and babel, both in this environment),
    so the one language registry and the one set of catalogs serve Rasa too.
    """
    if str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))
    from bot import i18n

    return i18n.t(language, "web.error.unavailable")


def tell_when_actions_fail() -> None:
    """Answers the user kindly when the action server cannot be reached or fails.

    Rasa 3.6 logs a failed custom action, drops its events and goes on predicting,
    so the user hears nothing (and a form may call the dead server ten times).
    With this, a failed call ends the turn: the user reads, in their language,
    that the message was not processed and to try again in a minute; the
    conversation listens again with the form still active, so once the action
    server is back the same answer continues the form where it was. Nothing
    half-done is stored: each action's database work is one transaction, and
    repeated writes are idempotent (application drafts carry their key).
    """
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.events import ActionExecuted, BotUttered

    remote_run = RemoteAction.run
    run_action = MessageProcessor._run_action

    async def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await remote_run(self, *args, **kwargs)
        except ActionExecutionRejection:
            raise
        except Exception:
            _ACTION_FAILED.set(True)
            raise

    async def _run_action(
        self: Any, action: Any, tracker: Any, output_channel: Any, nlg: Any, prediction: Any
    ) -> bool:
        token = _ACTION_FAILED.set(False)
        try:
            go_on: bool = await run_action(self, action, tracker, output_channel, nlg, prediction)
            failed = _ACTION_FAILED.get()
        finally:
            _ACTION_FAILED.reset(token)
        if not failed:
            return go_on
        text = _unavailable_text(tracker.get_slot("language"))
        tracker.update(BotUttered(text))
        tracker.update(ActionExecuted("action_listen"))
        await output_channel.send_text_message(tracker.sender_id, text)
        return False

    RemoteAction.run = run
    MessageProcessor._run_action = _run_action


async def _language_of(processor: Any, message: Any) -> str | None:
    """The user's language: from our channels' metadata, else from the stored tracker if reachable."""
    metadata = message.metadata if isinstance(message.metadata, dict) else {}
    if metadata.get("language"):
        return str(metadata["language"])
    try:
        tracker = await processor.tracker_store.retrieve(message.sender_id)
    except Exception:  # the database may be what failed
        return None
    language = tracker.get_slot("language") if tracker is not None else None
    return str(language) if language else None


def tell_when_turns_fail() -> None:
    """Answers the user kindly when a whole turn fails (the database is down, say).

    Rasa would log the exception (quoting the user's message) and answer with
    nothing. Here the log gets only the kind of error, and the user reads in
    their language (sent by our channels as message metadata) that the message
    was not processed. Nothing is half-stored: the tracker is saved only after a
    whole turn, and our own writes are transactions. When the database is back,
    the next message works again (pools check connections before use).
    """
    from rasa.core.processor import MessageProcessor

    handle = MessageProcessor.handle_message

    async def handle_message(self: Any, message: Any) -> Any:
        try:
            return await handle(self, message)
        except Exception as exc:
            logger.error("a turn failed and the user was told to try again: %s", type(exc).__name__)
            text = _unavailable_text(await _language_of(self, message))
            await message.output_channel.send_text_message(message.sender_id, text)
            return None

    MessageProcessor.handle_message = handle_message


@functools.cache
def _event_types() -> dict[str, Any]:
    """Every known event class by its type name, the first found winning (as in Rasa)."""
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

    found: dict[str, Any] = {}
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        found.setdefault(cls.type_name, cls)
    return found


def cached_event_types() -> None:
    """Makes Rasa look up an event's class in a table built once.

    Rasa 3.6 walks the whole class tree of ``Event`` (with ``inspect.isabstract``
    on each) for every stored event it reads back: about 6 % of the Rasa
    server's CPU per turn. A name missing from the table (an event class
    imported later) goes to Rasa's own lookup, which also raises for unknown names.
    """
    from rasa.shared.core.events import Event

    resolve = Event.resolve_by_type

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        return _event_types().get(type_name) or resolve(type_name, default)

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]


cached_action_validation()
cached_event_types()
quiet_user_text_warnings()
bounded_rest_messages()
tell_when_actions_fail()
tell_when_turns_fail()
