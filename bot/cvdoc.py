"""The employee's CV as a document: ATS-friendly HTML, PDF (WeasyPrint) and DOCX (python-docx).

The stored CV is a dict of sections (see :func:`normalise`). Every heading and
label comes from the catalogs in the CV's own language, which the employee
chooses and which may differ from the language they chat in.

Layout rules, kept on purpose so applicant tracking systems read the CV well:
one column, real text (no images, no layout tables), standard section
headings, contact details as plain lines at the top, nothing that matters in
page headers or footers. Sections appear in the employee's ``order``; a
section that is empty or missing from ``order`` is left out entirely (no empty
heading). Entries keep the employee's order too: work history is *not* sorted
newest first, because the employee may reorder it on purpose.

HTML and DOCX are rendered from one neutral view (:func:`view`), so both
formats carry the same content in the same order.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
import unicodedata
import zipfile
from typing import Any

from babel import Locale
from babel.core import get_global
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot import ROOT, i18n
from bot.i18n import N_

TEMPLATES = ROOT / "bot" / "web" / "templates"

SECTIONS: tuple[str, ...] = (
    "profile_text",
    "work_history",
    "education",
    "skills",
    "languages",
    "driving_licence",
)
HEADINGS = {
    "profile_text": N_("cv.heading.profile"),
    "work_history": N_("cv.heading.work_history"),
    "education": N_("cv.heading.education"),
    "skills": N_("cv.heading.skills"),
    "languages": N_("cv.heading.languages"),
    "driving_licence": N_("cv.heading.driving_licence"),
}
LEVELS = {
    "native": N_("cv.level.native"),
    "fluent": N_("cv.level.fluent"),
    "good": N_("cv.level.good"),
    "basic": N_("cv.level.basic"),
}
PERSONAL = ("name", "place", "phone", "email")
SEPARATOR = " · "
BULLET_MARKS = "-–—•*·"

# one calm look in both formats (the PDF's CSS is in cv.html): a dark teal accent on near-black text
FONT_DOCX = "Arial"  # Liberation Sans is metric-compatible, so Word and the PDF break lines alike
ACCENT = "1D5A6E"
MUTED = "5B6570"


def _text(value: Any) -> str | None:
    """Returns a stripped string, or None for missing, blank or non-text values."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        text = str(value).strip()
        return text or None
    return None


def _year(value: Any) -> int | None:
    """Returns a year as int from an int or a string of digits, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _dicts(value: Any) -> list[dict[str, Any]]:
    """Returns the dict items of a list (anything else is ignored)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _period(value: Any) -> dict[str, Any] | None:
    """Normalises a work period ``{"from": 2015, "to": 2020 | "now"}``; None when empty."""
    if not isinstance(value, dict):
        return None
    end = value.get("to")
    to: int | str | None = "now" if isinstance(end, str) and end.strip().lower() == "now" else _year(end)
    start = _year(value.get("from"))
    if start is None and to is None:
        return None
    return {"from": start, "to": to}


def normalise(data: dict[str, Any]) -> dict[str, Any]:
    """Returns the CV with every key present, defaults filled in and unknown keys dropped.

    Blank strings become None, entries without content are dropped, an unknown
    language level becomes None, and a missing ``order`` becomes :data:`SECTIONS`.
    Applying it twice changes nothing.
    """
    data = data if isinstance(data, dict) else {}
    given = data.get("personal")
    personal_in: dict[str, Any] = given if isinstance(given, dict) else {}
    personal: dict[str, Any] = {key: _text(personal_in.get(key)) for key in PERSONAL}
    personal["name"] = personal["name"] or ""

    work_history = []
    for item in _dicts(data.get("work_history")):
        entry = {
            "employer": _text(item.get("employer")) or "",
            "role": _text(item.get("role")) or "",
            "period": _period(item.get("period")),
            "tasks": _text(item.get("tasks")) or "",
        }
        if entry["employer"] or entry["role"] or entry["tasks"]:
            work_history.append(entry)

    education = []
    for item in _dicts(data.get("education")):
        course = {
            "name": _text(item.get("name")) or "",
            "institution": _text(item.get("institution")) or "",
            "diploma": item.get("diploma") is not False,  # only an explicit false means "no diploma"
            "year": _year(item.get("year")),
        }
        if course["name"] or course["institution"]:
            education.append(course)

    languages = []
    for item in _dicts(data.get("languages")):
        name = _text(item.get("language"))
        level = item.get("level")
        if name:
            languages.append({"language": name, "level": level if level in LEVELS else None})

    skills_in = data.get("skills")
    skills = [s for s in (_text(v) for v in skills_in) if s] if isinstance(skills_in, list) else []

    order_in = data.get("order")
    if isinstance(order_in, list | tuple):
        order = [key for key in dict.fromkeys(k for k in order_in if isinstance(k, str)) if key in SECTIONS]
    else:
        order = list(SECTIONS)

    return {
        "personal": personal,
        "profile_text": _text(data.get("profile_text")),
        "work_history": work_history,
        "education": education,
        "skills": skills,
        "languages": languages,
        "driving_licence": _text(data.get("driving_licence")),
        "order": order,
    }


def _show_period(lang: str, period: dict[str, Any] | None) -> str:
    """Shows a period as ``2015 – nu`` (as the assignments do), or one year alone."""
    if not period:
        return ""
    start, to = period.get("from"), period.get("to")
    end = i18n.t(lang, "assignment.now") if to == "now" else to
    if start is not None and end is not None and str(start) != str(end):
        return f"{start} – {end}"
    return str(start if start is not None else end)


def _lines(text: str) -> list[str]:
    """Splits free text into its non-empty lines, without leading bullet marks."""
    return [line.strip().lstrip(BULLET_MARKS).strip() for line in text.splitlines() if line.strip()]


def _paragraphs(text: str) -> list[str]:
    """Splits free text into paragraphs at blank lines (single line breaks become spaces)."""
    blocks = re.split(r"\n\s*\n", text.strip())
    return [" ".join(line.strip() for line in block.splitlines() if line.strip()) for block in blocks]


def _section(cv: dict[str, Any], key: str, lang: str) -> dict[str, Any] | None:
    """Returns one section's heading and content blocks, or None when it has nothing to show."""
    paragraphs: list[str] = []
    entries: list[dict[str, Any]] = []
    bullets: list[str] = []
    if key == "profile_text" and cv["profile_text"]:
        paragraphs = _paragraphs(cv["profile_text"])
    elif key == "work_history":
        for job in cv["work_history"]:
            title = job["role"] or job["employer"]
            about = [job["employer"] if job["role"] else "", _show_period(lang, job["period"])]
            tasks = _lines(job["tasks"])
            entries.append(
                {
                    "title": title,
                    "meta": SEPARATOR.join(part for part in about if part),
                    "paragraphs": tasks if len(tasks) == 1 else [],
                    "bullets": tasks if len(tasks) > 1 else [],
                }
            )
    elif key == "education":
        for course in cv["education"]:
            parts = [course["institution"] if course["name"] else "", str(course["year"] or "")]
            meta: str = SEPARATOR.join(part for part in parts if part)
            if not course["diploma"]:
                no_diploma = "(" + i18n.t(lang, "cv.no_diploma") + ")"
                meta = f"{meta} {no_diploma}" if meta else no_diploma
            entries.append(
                {
                    "title": course["name"] or course["institution"],
                    "meta": meta,
                    "paragraphs": [],
                    "bullets": [],
                }
            )
    elif key == "skills":
        bullets = list(cv["skills"])
    elif key == "languages":
        for item in cv["languages"]:
            level = item["level"]
            bullets.append(
                i18n.t(
                    lang, "cv.language_level", language=item["language"], level=i18n.t(lang, LEVELS[level])
                )
                if level
                else item["language"]
            )
    elif key == "driving_licence" and cv["driving_licence"]:
        paragraphs = [cv["driving_licence"]]
    if not (paragraphs or entries or bullets):
        return None
    return {
        "key": key,
        "heading": i18n.t(lang, HEADINGS[key]),
        "paragraphs": paragraphs,
        "entries": entries,
        "bullets": bullets,
    }


def view(data: dict[str, Any], lang: str, updated_on: dt.date) -> dict[str, Any]:
    """Returns what every format shows, in order: title, contact lines, sections, update line."""
    code = i18n.resolve(lang)
    language = i18n.languages()[code]
    cv = normalise(data)
    personal = cv["personal"]
    sections = [_section(cv, key, code) for key in cv["order"]]
    return {
        "lang": code,
        "dir": language.direction,
        "rtl": language.rtl,
        "name": personal["name"],
        "title": i18n.t(code, "cv.title", name=personal["name"]).strip(),
        "contact": [personal[key] for key in ("place", "phone", "email") if personal[key]],
        "sections": [section for section in sections if section],
        "updated": i18n.t(code, "cv.updated", date=i18n.format_date(code, updated_on, "long")),
        "updated_on": updated_on,
    }


@functools.cache
def _environment() -> Environment:
    """Returns the jinja2 environment of the templates (autoescaping HTML)."""
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def render_html(data: dict[str, Any], lang: str, updated_on: dt.date) -> str:
    """Renders the CV as a standalone HTML page in the CV language ``lang``."""
    return _environment().get_template("cv.html").render(cv=view(data, lang, updated_on))


def render_pdf(data: dict[str, Any], lang: str, updated_on: dt.date) -> bytes:
    """Renders the CV as an A4 PDF with WeasyPrint (selectable text, tagged with the language)."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=render_html(data, lang, updated_on), base_url=str(TEMPLATES)).write_pdf()
    return pdf


def _language_tag(code: str) -> str:
    """Returns a Word-style language tag with a region (``nl`` → ``nl-NL``) from babel's data."""
    likely = get_global("likely_subtags").get(code, code)
    locale = Locale.parse(likely)
    return f"{locale.language}-{locale.territory}" if locale.territory else locale.language


def _docx_font(style: Any, name: str) -> None:
    """Sets a style's font for every script, overriding the template's theme fonts."""
    _set_fonts(style.element.get_or_add_rPr().get_or_add_rFonts(), name)


def _set_fonts(fonts: Any, name: str) -> None:
    """Sets a ``w:rFonts`` element to one font for every script, dropping theme fonts (they win)."""
    from docx.oxml.ns import qn

    for attribute in ("ascii", "hAnsi", "cs", "eastAsia"):
        fonts.set(qn(f"w:{attribute}"), name)
    for attribute in ("asciiTheme", "hAnsiTheme", "cstheme", "eastAsiaTheme"):
        fonts.attrib.pop(qn(f"w:{attribute}"), None)


def _docx_size(style: Any, points: float) -> None:
    """Sets a style's font size for every script (``w:sz`` and the complex-script ``w:szCs``)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    style.font.size = Pt(points)
    rpr = style.element.get_or_add_rPr()
    size = rpr.find(qn("w:szCs"))
    if size is None:
        size = OxmlElement("w:szCs")
        rpr.find(qn("w:sz")).addnext(size)
    size.set(qn("w:val"), str(round(points * 2)))


def _docx_styles(document: Any, tag: str, rtl: bool) -> None:
    """Gives the built-in styles the CV's calm look, and the proofing language ``tag``."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    styles = document.styles
    for defaults in styles.element.xpath("w:docDefaults/w:rPrDefault/w:rPr"):
        for fonts in defaults.xpath("w:rFonts"):
            _set_fonts(fonts, FONT_DOCX)
        for language in defaults.xpath("w:lang"):
            language.set(qn("w:val"), tag)
            if rtl:
                language.set(qn("w:bidi"), tag)
    normal = styles["Normal"]
    if rtl:  # before any other paragraph property: the schema fixes their order
        normal.element.get_or_add_pPr().append(OxmlElement("w:bidi"))
    _docx_font(normal, FONT_DOCX)
    _docx_size(normal, 10.5)
    normal.font.color.rgb = RGBColor.from_string("1F2328")
    normal.paragraph_format.space_after = Pt(3)
    normal.paragraph_format.line_spacing = 1.15
    for name, size, color, before, after in (
        ("Title", 22, "1F2328", 0, 2),
        ("Heading 1", 12.5, ACCENT, 14, 4),
    ):
        style = styles[name]
        _docx_font(style, FONT_DOCX)
        _docx_size(style, size)
        style.font.bold = True
        style.font.italic = False
        style.font.color.rgb = RGBColor.from_string(color)
        style.paragraph_format.space_before = Pt(before)
        style.paragraph_format.space_after = Pt(after)
        style.paragraph_format.keep_with_next = True
        for border in style.element.xpath("w:pPr/w:pBdr/*"):  # the Title's rule in the accent colour
            border.set(qn("w:color"), ACCENT)
            border.attrib.pop(qn("w:themeColor"), None)


def _docx_paragraph(
    document: Any, text: str, *, bold: bool = False, muted: bool = False, keep: bool = False
) -> Any:
    """Adds a Normal paragraph of one run."""
    from docx.shared import Pt, RGBColor

    paragraph = document.add_paragraph()
    run = paragraph.add_run(text)
    run.bold = bold or None
    if muted:
        run.font.color.rgb = RGBColor.from_string(MUTED)
    paragraph.paragraph_format.keep_with_next = keep or None
    if bold:
        paragraph.paragraph_format.space_before = Pt(6)
        paragraph.paragraph_format.space_after = Pt(0)
    return paragraph


def _fixed_zip(blob: bytes) -> bytes:
    """Rewrites a zip with fixed timestamps, so the same CV always gives the same bytes."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(blob)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def render_docx(data: dict[str, Any], lang: str, updated_on: dt.date) -> bytes:
    """Renders the CV as a Word document built in code: Title, Heading 1 and List Bullet styles.

    The content and order are those of :func:`render_html`; entry titles are bold
    Normal paragraphs (not headings), so only the section headings form the outline.
    """
    from docx import Document
    from docx.shared import Mm, Pt

    cv = view(data, lang, updated_on)
    document = Document()
    _docx_styles(document, _language_tag(cv["lang"]), cv["rtl"])
    for section in document.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin = section.bottom_margin = Mm(18)
        section.left_margin = section.right_margin = Mm(20)

    document.add_paragraph(cv["name"] or cv["title"], style="Title")
    for line in cv["contact"]:
        document.add_paragraph(line).paragraph_format.space_after = Pt(0)
    for block in cv["sections"]:
        document.add_paragraph(block["heading"], style="Heading 1")
        for text in block["paragraphs"]:
            document.add_paragraph(text)
        for entry in block["entries"]:
            follows = bool(entry["meta"] or entry["paragraphs"] or entry["bullets"])
            _docx_paragraph(document, entry["title"], bold=True, keep=follows)
            if entry["meta"]:
                _docx_paragraph(
                    document, entry["meta"], muted=True, keep=bool(entry["paragraphs"] or entry["bullets"])
                )
            for text in entry["paragraphs"]:
                document.add_paragraph(text)
            for text in entry["bullets"]:
                document.add_paragraph(text, style="List Bullet")
        for text in block["bullets"]:
            document.add_paragraph(text, style="List Bullet")
    updated = _docx_paragraph(document, cv["updated"], muted=True)
    updated.paragraph_format.space_before = Pt(18)
    updated.runs[0].font.size = Pt(8.5)

    moment = dt.datetime.combine(updated_on, dt.time(0, 0))
    properties = document.core_properties
    properties.title = cv["title"]
    properties.language = _language_tag(cv["lang"])
    properties.author = cv["name"]
    properties.last_modified_by = cv["name"]
    properties.comments = ""
    properties.subject = ""
    properties.keywords = ""
    properties.category = ""
    properties.revision = 1
    properties.created = moment
    properties.modified = moment
    properties.last_printed = moment
    out = io.BytesIO()
    document.save(out)
    return _fixed_zip(out.getvalue())


def filename(data: dict[str, Any], lang: str, ext: str) -> str:
    """Returns a safe download name: ``CV Piet Jansen`` + ``pdf`` → ``cv-piet-jansen.pdf``.

    Accents are stripped, anything but ASCII letters and digits becomes a dash;
    a name that leaves nothing (e.g. another script) still gives ``cv.<ext>``.
    """
    name = normalise(data)["personal"]["name"]
    label = i18n.t(lang, "cv.file_name", name=name)
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80].strip("-") or "cv"
    suffix = re.sub(r"[^a-z0-9]", "", ext.lower())
    return f"{slug}.{suffix}" if suffix else slug
