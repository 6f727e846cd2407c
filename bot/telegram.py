"""The Telegram channel: python-telegram-bot in front of Rasa's REST channel.

Run by ``koers run`` when ``KOERS_TELEGRAM_TOKEN`` is set (``python -m bot.telegram``).
Polling by default; webhook mode when ``KOERS_TELEGRAM_WEBHOOK_URL`` is set, with
a secret token that Telegram echoes in every request (others get 403). Updates
are deduplicated by ``update_id`` in the database, so a redelivered update is
never processed twice. Replies are sent as plain text (no parse mode), so
nothing a user or the bot writes can break the formatting.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatType, MessageLimit
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import applications, cv, enrolment, i18n
from bot.config import Settings, load_settings
from bot.db import Database
from bot.i18n import N_
from bot.models import (
    ButtonPayload,
    ChannelIdentity,
    Coach,
    CoachMessage,
    Employee,
    ProcessedUpdate,
    Reminder,
    utcnow,
)
from bot.rasa_client import BotMessage, RasaClient, RasaUnavailable

logger = logging.getLogger(__name__)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# reminder kinds and their sentences
# kind → (sentence, button label, button payload)
REMINDERS = {
    "reflection": (N_("reminder.reflection"), N_("reminder.reflection.button"), "/start_reflection"),
    "applications": (N_("reminder.applications"), N_("reminder.applications.button"), "/log_application"),
}
CALLBACK_LIMIT = 64
REMINDER_INTERVAL = 60.0
QUIET_BEFORE, QUIET_FROM = 8, 20  # local hours between which reminders may be sent


def sender_for(user_id: int) -> str:
    """Returns the Rasa sender id of a Telegram user."""
    return f"telegram:{user_id}"


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Splits a long text at line or word boundaries into Telegram-sized parts."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


class Channel:
    """Everything the Telegram handlers share: settings, database, Rasa client."""

    def __init__(self, settings: Settings, db: Database, rasa: RasaClient) -> None:
        self.settings = settings
        self.db = db
        self.rasa = rasa

    def language_of(self, update: Update) -> str:
        """Returns the employee's language, else Telegram's, else the default."""
        user = update.effective_user
        if user is not None:
            with self.db.session() as session:
                binding = enrolment.binding_for(session, sender_for(user.id))
            if binding is not None:
                return i18n.resolve(binding.language)
            if i18n.is_supported((user.language_code or "").split("-")[0]):
                return str(user.language_code).split("-")[0]
        return i18n.resolve(self.settings.default_language)

    def callback_data(self, payload: str) -> str:
        """Returns callback data for a payload, storing long payloads under a short key."""
        if len(payload.encode()) <= CALLBACK_LIMIT:
            return payload
        key = "k:" + hashlib.sha256(payload.encode()).hexdigest()[:24]
        with self.db.session() as session, session.begin():
            if session.get(ButtonPayload, key) is None:
                session.add(ButtonPayload(key=key, payload=payload))
        return key

    def payload_of(self, data: str) -> str | None:
        """Returns the payload behind callback data."""
        if not data.startswith("k:"):
            return data
        with self.db.session() as session:
            row = session.get(ButtonPayload, data)
            return row.payload if row else None

    async def reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
        """Sends one user text to Rasa and delivers the answers to the chat."""
        user, chat = update.effective_user, update.effective_chat
        assert user is not None and chat is not None
        try:
            answers = await self.rasa.send(sender_for(user.id), text, language=self.language_of(update))
            if not answers:
                # every turn of Koers answers; silence means the action server failed
                raise RasaUnavailable("no answer")
        except RasaUnavailable as exc:
            logger.warning("rasa unavailable for a telegram message: %s", exc)
            await context.bot.send_message(chat.id, i18n.t(self.language_of(update), "web.error.unavailable"))
            return
        for answer in answers:
            await self.deliver(context, chat.id, answer)

    async def deliver(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, answer: BotMessage) -> None:
        """Sends one answer: text in parts, buttons as an inline keyboard, files as documents."""
        keyboard = None
        if answer.buttons:
            keyboard = InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(b["title"][:64], callback_data=self.callback_data(b["payload"]))]
                    for b in answer.buttons
                ]
            )
        parts = split_text(answer.text) if answer.text else []
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            await context.bot.send_message(chat_id, part, reply_markup=keyboard if last else None)
        if not parts and keyboard is not None:
            await context.bot.send_message(chat_id, "…", reply_markup=keyboard)
        if answer.attachment:
            await self.send_file(context, chat_id, answer)

    async def send_file(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, answer: BotMessage) -> None:
        """Sends a file as a Telegram document; Koers' own CV links are rendered here and uploaded."""
        link = str(answer.attachment)
        if not link.startswith("/cv/"):
            await context.bot.send_document(chat_id, link)
            return
        found = cv.read_token(self.settings.secret_key, link.removeprefix("/cv/"))
        rendered = await asyncio.to_thread(self.render_cv, found) if found is not None else None
        if rendered is None:
            logger.warning("a CV link in a telegram answer could not be rendered")
            return
        content, name = rendered
        await context.bot.send_document(chat_id, InputFile(content, filename=name))

    def render_cv(self, found: cv.Download) -> tuple[bytes, str] | None:
        """Renders the CV a download token names."""
        with self.db.session() as session:
            row = cv.get_cv(session, found.employee_id)
            return cv.render(session, row, found.fmt) if row is not None else None


def channel_of(context: ContextTypes.DEFAULT_TYPE) -> Channel:
    """Returns the channel object stored in the application."""
    channel: Channel = context.application.bot_data["channel"]
    return channel


async def dedupe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Records the update id; a redelivered update stops here."""
    channel = channel_of(context)
    try:
        with channel.db.session() as session, session.begin():
            session.add(ProcessedUpdate(key=f"telegram:{update.update_id}"))
    except IntegrityError:
        logger.info("update %s was already processed", update.update_id)
        raise ApplicationHandlerStop from None


async def private_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Refuses groups and channels politely; Koers talks one to one."""
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        if update.effective_message is not None and chat.type != ChatType.CHANNEL:
            lang = channel_of(context).language_of(update)
            await update.effective_message.reply_text(i18n.t(lang, "telegram.private_only"))
        raise ApplicationHandlerStop


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Enrols with the deep-link code (t.me/<bot>?start=CODE) or /start CODE."""
    code = context.args[0] if context.args else ""
    await channel_of(context).reply(update, context, f"/start {code}".strip())


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Passes /language xx to the assistant."""
    code = context.args[0] if context.args else ""
    await channel_of(context).reply(update, context, f"/language {code}".strip())


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Passes a text message to the assistant."""
    assert update.message is not None and update.message.text is not None
    await channel_of(context).reply(update, context, update.message.text)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answers the button press (no spinner) and sends its payload to the assistant."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    channel = channel_of(context)
    payload = channel.payload_of(query.data or "")
    if payload is None:
        await context.bot.send_message(
            query.from_user.id, i18n.t(channel.language_of(update), "telegram.old_button")
        )
        return
    await channel.reply(update, context, payload)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tells the user, kindly, that only text can be read here."""
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(
            chat.id, i18n.t(channel_of(context).language_of(update), "telegram.text_only")
        )


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Logs the error with its traceback and tells the user to try again."""
    logger.error("error while handling a telegram update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        lang = channel_of(context).language_of(update)
        with contextlib.suppress(Exception):
            await context.bot.send_message(update.effective_chat.id, i18n.t(lang, "web.error.unavailable"))


def may_send_now(now: dt.datetime) -> bool:
    """Tells whether a reminder may go out now: daytime in Amsterdam, not on Sunday."""
    local = now.astimezone(AMSTERDAM)
    return local.weekday() != 6 and QUIET_BEFORE <= local.hour < QUIET_FROM


async def send_due_reminders(app: Application, db: Database, now: dt.datetime | None = None) -> int:
    """Delivers due reminders to employees on Telegram, each at most once; returns how many."""
    now = now or utcnow()
    with db.session() as session, session.begin():
        applications.plan_reminders(session, now)
    if not may_send_now(now):
        return 0
    with db.session() as session:
        due = session.execute(
            select(Reminder.id, Reminder.kind, ChannelIdentity.sender_id, Employee.language, Employee.id)
            .join(Employee, Employee.id == Reminder.employee_id)
            .join(ChannelIdentity, ChannelIdentity.employee_id == Employee.id)
            .where(Reminder.sent_at.is_(None), Reminder.due_at <= now, ChannelIdentity.channel == "telegram")
        ).all()
    sent = 0
    for reminder_id, kind, sender, lang, employee_id in due:
        # claim first: a crash after this line loses one reminder instead of sending it twice
        with db.session() as session, session.begin():
            result = session.execute(
                update(Reminder)
                .where(Reminder.id == reminder_id, Reminder.sent_at.is_(None))
                .values(sent_at=now)
            )
            claimed = getattr(result, "rowcount", 0)
        if not claimed:
            continue
        chat_id = int(sender.split(":", 1)[1])
        sentence, label, payload = REMINDERS[kind]
        params: dict[str, object] = {}
        if kind == "applications":
            with db.session() as session:
                employee = session.get(Employee, employee_id)
                today = now.astimezone(AMSTERDAM).date()
                week = applications.week_progress(session, employee, today) if employee else None
            if week is None or not week.below:
                continue  # the target was reached after all: nothing to remind
            params = {"count": week.count, "target": week.target}
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(i18n.t(lang, label), callback_data=payload)]])
        await app.bot.send_message(chat_id, i18n.t(lang, sentence, **params), reply_markup=keyboard)
        sent += 1
    return sent


async def send_coach_messages(app: Application, db: Database) -> int:
    """Delivers the coaches' messages to employees on Telegram, each at most once; returns how many."""
    with db.session() as session:
        pending = session.execute(
            select(
                CoachMessage.id, CoachMessage.text, Coach.name, Employee.language, ChannelIdentity.sender_id
            )
            .join(Coach, Coach.id == CoachMessage.coach_id)
            .join(Employee, Employee.id == CoachMessage.employee_id)
            .join(ChannelIdentity, ChannelIdentity.employee_id == Employee.id)
            .where(CoachMessage.telegram_sent_at.is_(None), ChannelIdentity.channel == "telegram")
            .order_by(CoachMessage.id)
        ).all()
    sent = 0
    for message_id, text, coach, lang, sender in pending:
        # claim first: at most once, also with two Telegram processes
        with db.session() as session, session.begin():
            result = session.execute(
                update(CoachMessage)
                .where(CoachMessage.id == message_id, CoachMessage.telegram_sent_at.is_(None))
                .values(telegram_sent_at=utcnow())
            )
            claimed = getattr(result, "rowcount", 0)
        if not claimed:
            continue
        body = i18n.t(lang, "coach_message.from_coach", coach=coach, text=text)
        for part in split_text(body):
            await app.bot.send_message(int(sender.split(":", 1)[1]), part)
        sent += 1
    return sent


def build_application(settings: Settings, db: Database, rasa: RasaClient) -> Application:
    """Builds the python-telegram-bot application with every handler."""
    assert settings.telegram_token, "KOERS_TELEGRAM_TOKEN is not set"
    reminders: dict[str, asyncio.Task[None]] = {}

    async def reminder_loop(app: Application) -> None:
        while True:
            try:
                await send_due_reminders(app, db)
                await send_coach_messages(app, db)
            except Exception:  # one failed round must not end the loop; it is logged
                logger.exception("sending reminders failed")
            await asyncio.sleep(REMINDER_INTERVAL)

    async def post_init(app: Application) -> None:
        reminders["task"] = asyncio.create_task(reminder_loop(app))

    async def post_shutdown(app: Application) -> None:
        task = reminders.get("task")
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await rasa.aclose()

    app = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_api_url.replace("/bot", "/file/bot"))
        .rate_limiter(AIORateLimiter(max_retries=3))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    app.bot_data["channel"] = Channel(settings, db, rasa)
    app.add_handler(TypeHandler(Update, dedupe), group=-2)
    app.add_handler(TypeHandler(Update, private_only), group=-1)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler(["language", "lang"], language))
    app.add_handler(CallbackQueryHandler(button))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, text))
    app.add_handler(MessageHandler(filters.ALL, not_text))
    app.add_error_handler(on_error)
    return app


def webhook_secret(settings: Settings) -> str:
    """Returns the secret token Telegram must echo on every webhook request."""
    return hashlib.sha256(f"telegram-webhook:{settings.secret_key}".encode()).hexdigest()[:48]


def main() -> None:
    """Runs the Telegram channel until stopped."""
    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs request URLs, and Telegram's URLs contain the bot token
    logging.getLogger("httpx").setLevel(logging.WARNING)
    db = Database(settings.database_url)
    app = build_application(settings, db, RasaClient(settings.rasa_url, settings.rasa_token))
    if settings.telegram_webhook_url:
        app.run_webhook(
            listen="127.0.0.1",
            port=settings.telegram_webhook_port,
            url_path="telegram",
            webhook_url=settings.telegram_webhook_url,
            secret_token=webhook_secret(settings),
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
