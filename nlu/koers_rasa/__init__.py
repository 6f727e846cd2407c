"""Koers' extensions loaded into the Rasa server (this package runs in .venv-rasa).

Importing the package (Rasa does, to load ``KoersTrackerStore`` from
``endpoints.yml``) also installs :func:`cached_action_validation`, :func:`cached_event_types`,
:func:`quiet_user_text_warnings`, :func:`bounded_rest_messages`,
:func:`tell_when_actions_fail`, :func:`tell_when_turns_fail` and :func:`turns_in_order`.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import functools
import logging
import os
import sys
from collections.abc import Awaitable, Callable
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


# how many turns the Rasa server works on at once; the others wait their turn (0: no limit)
TURNS_AT_ONCE = int(os.environ.get("KOERS_RASA_TURNS_AT_ONCE", "2"))
# a turn whose call to the action server takes longer gives its place up until the answer is there
PATIENCE_SECONDS = float(os.environ.get("KOERS_RASA_ACTION_PATIENCE", "1.0"))


class TurnGate:
    """Admits turns to the Rasa server's event loop: ``at_once`` places, started turns first.

    New turns get a place in the order they arrived. A turn that gave its place
    up (to wait for a slow action) gets the next free place before any new turn.
    """

    def __init__(self, at_once: int) -> None:
        self.free = at_once
        self.new: collections.deque[asyncio.Future[None]] = collections.deque()
        self.resumed: collections.deque[asyncio.Future[None]] = collections.deque()

    async def acquire(self, resume: bool = False) -> None:
        if self.free > 0 and not self.resumed and (resume or not self.new):
            self.free -= 1
            return
        place: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self.resumed if resume else self.new).append(place)
        try:
            await place
        except asyncio.CancelledError:
            if place.done() and not place.cancelled():  # given a place, then cancelled: hand it on
                self.release()
            raise

    def release(self) -> None:
        self.free += 1
        while self.free > 0:
            queue = self.resumed or self.new
            if not queue:
                return
            place = queue.popleft()
            if place.done():  # its turn was cancelled while waiting
                continue
            self.free -= 1
            place.set_result(None)


# the gate of the turn this task is working on, while it holds a place
_HOLDING: contextvars.ContextVar[TurnGate | None] = contextvars.ContextVar("koers_turn_gate", default=None)


def turns_in_order(at_once: int = TURNS_AT_ONCE, patience: float = PATIENCE_SECONDS) -> None:
    """Lets the Rasa server work on ``at_once`` turns at a time; the others wait in arrival order.

    The Rasa server does its work (reading the tracker, NLU, the policies,
    saving) on one event loop. Without a limit, every message that arrives is
    started at once, and a Koers turn that called the action server queued
    again behind all of them: under a rush of 100 conversations a turn with two
    action calls waited three times behind the other 99, and the slowest turns
    took six times the median. With a few places, a started turn finishes
    quickly and the waiting is shared evenly, first come, first served.

    Measured on 2 cores with 100 conversations of 8 turns at once (``make
    bench-gate``, BENCHMARKS.md; 3 rounds per setting, two runs), p95 of all
    turns: no limit 2.3-5.7 s (in the bad rounds the slowest turns took seven
    times the median); 1 place 2.0-2.7 s, but in one run 15-20 % fewer turns
    per second; 2 places 1.8-2.3 s at the best throughput; 3 places 2.0-3.6 s.
    The default is 2: one turn uses the Rasa server while another waits for
    the action server, so both cores stay busy.

    A place is held during a call to the action server only for ``patience``
    seconds: a slow or hanging action (a locked row, a long PDF) gives its
    place up, so it cannot hold the others up, and gets the next free place
    before any new turn when its answer is there.

    Every channel (REST, the web chat, Telegram) comes in through
    ``handle_message``, so all share the one line; the per-conversation lock
    (taken before this) still keeps each conversation's turns in order.
    """
    if at_once <= 0:
        return
    from rasa.core.processor import MessageProcessor
    from rasa.utils.endpoints import EndpointConfig

    MessageProcessor.handle_message = gated(MessageProcessor.handle_message, at_once)
    EndpointConfig.request = outside_the_gate(EndpointConfig.request, patience)


def gated(handle: Callable[..., Awaitable[Any]], at_once: int) -> Callable[..., Awaitable[Any]]:
    """Wraps a turn's handler: it waits for a place at the gate of its event loop and works in it."""
    gates: dict[asyncio.AbstractEventLoop, TurnGate] = {}

    async def handle_message(*args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        gate = gates.get(loop) or gates.setdefault(loop, TurnGate(at_once))
        await gate.acquire()
        token = _HOLDING.set(gate)
        try:
            return await handle(*args, **kwargs)
        finally:
            if _HOLDING.get() is gate:
                gate.release()
            _HOLDING.reset(token)

    return handle_message


def outside_the_gate(
    request: Callable[..., Awaitable[Any]], patience: float
) -> Callable[..., Awaitable[Any]]:
    """Wraps a call to another server: after ``patience`` seconds the turn gives its place up."""

    async def request_with_patience(*args: Any, **kwargs: Any) -> Any:
        gate = _HOLDING.get()
        if gate is None:  # not inside a turn: just the request
            return await request(*args, **kwargs)
        call = asyncio.ensure_future(request(*args, **kwargs))
        try:
            await asyncio.wait({call}, timeout=patience)
        except asyncio.CancelledError:
            call.cancel()
            raise
        if call.done():
            return call.result()
        gate.release()
        _HOLDING.set(None)
        try:
            return await call
        finally:
            await gate.acquire(resume=True)
            _HOLDING.set(gate)

    return request_with_patience


cached_action_validation()
cached_event_types()
quiet_user_text_warnings()
bounded_rest_messages()
tell_when_actions_fail()
tell_when_turns_fail()
turns_in_order()
