"""The CV document: the same content in PDF, HTML and DOCX, in the CV's own language and order."""

from __future__ import annotations

import copy
import datetime as dt
import io
from typing import Any

import docx
import pypdf
import pytest

from bot import cvdoc, i18n

DAY = dt.date(2026, 11, 12)
FULL: dict[str, Any] = {
    "personal": {
        "name": "Piet Jansen",
        "place": "Utrecht",
        "phone": "06-12345678",
        "email": "piet.jansen@example.nl",
    },
    "profile_text": "Ervaren planner die rust brengt in drukke dagen.",
    "work_history": [
        {
            "employer": "PostNL",
            "role": "Planner",
            "period": {"from": 2015, "to": "now"},
            "tasks": "- Routes plannen\n- Chauffeurs inroosteren",
        },
        {
            "employer": "Jansen & Zn",
            "role": "Magazijnmedewerker",
            "period": {"from": 2008, "to": 2015},
            "tasks": "Orders verzamelen en controleren",
        },
    ],
    "education": [
        {"name": "MBO Logistiek", "institution": "ROC Midden-Nederland", "diploma": True, "year": 2008},
        {"name": "HBO Bedrijfskunde", "institution": "Hogeschool Utrecht", "diploma": False, "year": 2012},
    ],
    "skills": ["Roosters maken", "Excel", "Klantcontact"],
    "languages": [
        {"language": "Nederlands", "level": "native"},
        {"language": "Engels", "level": "good"},
    ],
    "driving_licence": "B, C",
    "order": list(cvdoc.SECTIONS),
}
HEADING_IDS = {
    "profile_text": "cv.heading.profile",
    "work_history": "cv.heading.work_history",
    "education": "cv.heading.education",
    "skills": "cv.heading.skills",
    "languages": "cv.heading.languages",
    "driving_licence": "cv.heading.driving_licence",
}
CONTENT = (
    "Piet Jansen",
    "Utrecht",
    "06-12345678",
    "piet.jansen@example.nl",
    "Ervaren planner die rust brengt in drukke dagen.",
    "PostNL",
    "Planner",
    "Routes plannen",
    "Chauffeurs inroosteren",
    "Jansen & Zn",
    "Magazijnmedewerker",
    "2008 – 2015",
    "Orders verzamelen en controleren",
    "MBO Logistiek",
    "ROC Midden-Nederland",
    "HBO Bedrijfskunde",
    "Hogeschool Utrecht",
    "Roosters maken",
    "Excel",
    "Klantcontact",
    "B, C",
)


def pdf_text(data: dict[str, Any], lang: str) -> str:
    """Renders to PDF and returns the text a recruiter's ATS would extract."""
    reader = pypdf.PdfReader(io.BytesIO(cvdoc.render_pdf(data, lang, DAY)))
    return "\n".join(page.extract_text() for page in reader.pages)


def docx_paragraphs(data: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """Renders to DOCX and returns (style name, text) of every paragraph."""
    document = docx.Document(io.BytesIO(cvdoc.render_docx(data, lang, DAY)))
    return [(p.style.name if p.style is not None else "", p.text) for p in document.paragraphs]


def headings(lang: str) -> dict[str, str]:
    """Returns section key → heading text in ``lang``."""
    return {key: i18n.t(lang, message) for key, message in HEADING_IDS.items()}


def positions(text: str, needles: list[str]) -> list[int]:
    """Returns where each needle first occurs in ``text`` (each must occur)."""
    found = [text.find(needle) for needle in needles]
    assert -1 not in found, [n for n, at in zip(needles, found, strict=True) if at < 0]
    return found


def test_the_catalogs_have_the_cv_sentences() -> None:
    assert headings("nl") == {
        "profile_text": "Profiel",
        "work_history": "Werkervaring",
        "education": "Opleidingen",
        "skills": "Vaardigheden",
        "languages": "Talen",
        "driving_licence": "Rijbewijs",
    }
    assert headings("en")["driving_licence"] == "Driving licence"
    assert i18n.t("nl", "cv.updated", date="x") == "Bijgewerkt op x"


def test_full_dutch_cv_as_pdf() -> None:
    text = pdf_text(FULL, "nl")
    for needle in CONTENT:
        assert needle in text, needle
    assert "2015 – nu" in text
    assert "(zonder diploma)" in text
    assert "Nederlands: moedertaal" in text and "Engels: goed" in text
    assert "Bijgewerkt op 12 november 2026" in text
    assert i18n.format_date("nl", DAY) in text
    expected = headings("nl")
    order = positions(text, [expected[key] for key in cvdoc.SECTIONS])
    assert order == sorted(order)
    # entries keep the employee's order (not re-sorted by date)
    assert text.index("PostNL") < text.index("Jansen & Zn")
    assert text.index("MBO Logistiek") < text.index("HBO Bedrijfskunde")
    # contact lines come first, as plain text
    assert max(positions(text, ["Piet Jansen", "06-12345678", "piet.jansen@example.nl"])) < order[0]


def test_reordered_cv_follows_its_order_and_hides_unlisted_sections() -> None:
    data = copy.deepcopy(FULL)
    data["order"] = ["skills", "driving_licence", "work_history", "profile_text", "education"]
    data["work_history"].reverse()
    text = pdf_text(data, "nl")
    expected = headings("nl")
    order = positions(text, [expected[key] for key in data["order"]])
    assert order == sorted(order)
    assert "Talen" not in text and "moedertaal" not in text  # not in order → not shown
    assert text.index("Jansen & Zn") < text.index("PostNL")
    paragraphs = docx_paragraphs(data, "nl")
    assert [text for style, text in paragraphs if style == "Heading 1"] == [
        expected[key] for key in data["order"]
    ]


def test_english_cv_has_english_labels_only() -> None:
    text = pdf_text(FULL, "en")
    expected = headings("en")
    order = positions(text, [expected[key] for key in cvdoc.SECTIONS])
    assert order == sorted(order)
    assert expected == {
        "profile_text": "Profile",
        "work_history": "Work experience",
        "education": "Education",
        "skills": "Skills",
        "languages": "Languages",
        "driving_licence": "Driving licence",
    }
    for dutch in headings("nl").values():
        assert dutch not in text
    assert "2015 – now" in text and "(no diploma)" in text
    assert "Nederlands: native speaker" in text
    assert "Updated on November 12, 2026" in text
    assert 'lang="en"' in cvdoc.render_html(FULL, "en", DAY)
    assert 'lang="nl"' in cvdoc.render_html(FULL, "nl", DAY)


def test_docx_has_the_same_content_and_structure() -> None:
    raw = cvdoc.render_docx(FULL, "nl", DAY)
    assert raw == cvdoc.render_docx(FULL, "nl", DAY)  # the same CV gives the same bytes
    document = docx.Document(io.BytesIO(raw))
    paragraphs = [(p.style.name if p.style is not None else "", p.text) for p in document.paragraphs]
    texts = "\n".join(text for _style, text in paragraphs)
    for needle in (*CONTENT, "2015 – nu", "(zonder diploma)", "Nederlands: moedertaal"):
        assert needle in texts, needle
    assert paragraphs[0] == ("Title", "Piet Jansen")
    expected = headings("nl")
    assert [text for style, text in paragraphs if style == "Heading 1"] == [
        expected[key] for key in cvdoc.SECTIONS
    ]
    bullets = [text for style, text in paragraphs if style == "List Bullet"]
    assert bullets[:2] == ["Routes plannen", "Chauffeurs inroosteren"]
    assert "Excel" in bullets
    assert paragraphs[-1][1] == "Bijgewerkt op 12 november 2026"
    properties = document.core_properties
    assert properties.title == "Curriculum vitae Piet Jansen"
    assert properties.language == "nl-NL"
    assert properties.author == "Piet Jansen"
    assert "python-docx" not in (properties.comments or "")
    assert not document.inline_shapes and not document.tables  # text only, no layout tables
    assert all(not section.header.paragraphs[0].text for section in document.sections)


def test_docx_in_english() -> None:
    document = docx.Document(io.BytesIO(cvdoc.render_docx(FULL, "en", DAY)))
    paragraphs = [(p.style.name if p.style is not None else "", p.text) for p in document.paragraphs]
    assert [text for style, text in paragraphs if style == "Heading 1"] == list(headings("en").values())
    assert ("Normal", "PostNL · 2015 – now") in paragraphs
    assert document.core_properties.title == "Curriculum vitae Piet Jansen"
    assert document.core_properties.language == "en-US"


def test_html_is_ats_friendly() -> None:
    html = cvdoc.render_html(FULL, "nl", DAY)
    assert "<img" not in html and "<table" not in html
    assert "<title>Curriculum vitae Piet Jansen</title>" in html
    assert html.count("<h2>") == len(cvdoc.SECTIONS)


def test_empty_sections_leave_no_heading() -> None:
    data = copy.deepcopy(FULL)
    data["skills"] = []
    data["profile_text"] = "   "
    data["education"] = [{"name": "", "institution": ""}]
    del data["languages"]
    data["driving_licence"] = None
    text = pdf_text(data, "nl")
    for key in ("skills", "profile_text", "education", "languages", "driving_licence"):
        assert headings("nl")[key] not in text, key
    assert "Werkervaring" in text
    assert [text for style, text in docx_paragraphs(data, "nl") if style == "Heading 1"] == ["Werkervaring"]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_minimal_cv_renders_in_both_formats(lang: str) -> None:
    data = {"personal": {"name": "An de Vries"}}
    text = pdf_text(data, lang)
    assert "An de Vries" in text
    for heading in (*headings("nl").values(), *headings("en").values()):
        assert heading not in text
    paragraphs = docx_paragraphs(data, lang)
    assert paragraphs[0] == ("Title", "An de Vries")
    assert not [text for style, text in paragraphs if style.startswith("Heading")]
    assert "<h2>" not in cvdoc.render_html(data, lang, DAY)


def test_an_empty_cv_still_renders() -> None:
    assert "Curriculum vitae" in pdf_text({}, "nl")
    assert docx_paragraphs({}, "nl")[0] == ("Title", "Curriculum vitae")


def test_markup_is_shown_literally() -> None:
    data = copy.deepcopy(FULL)
    data["personal"]["name"] = "<script>alert(1)</script> Jansen"
    data["skills"] = ["<b>vet</b>"]
    html = cvdoc.render_html(data, "nl", DAY)
    assert "<script>" not in html and "<b>vet" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Jansen" in html
    assert "Jansen &amp; Zn" in html
    text = pdf_text(data, "nl")
    assert "<script>alert(1)</script> Jansen" in text
    assert "<b>vet</b>" in text and "Jansen & Zn" in text
    paragraphs = docx_paragraphs(data, "nl")
    assert paragraphs[0][1] == "<script>alert(1)</script> Jansen"


def test_normalise_fills_defaults_and_drops_unknown_keys() -> None:
    cv = cvdoc.normalise(
        {
            "personal": {"name": " Piet ", "phone": "", "secret": "x"},
            "health": "never shown",
            "work_history": [{"employer": "PostNL", "period": {"from": "2015", "to": "NOW"}, "x": 1}, {}],
            "education": [{"name": "MBO", "year": "2008"}],
            "skills": ["Excel", " ", 3],
            "languages": [{"language": "Pools", "level": "expert"}],
            "order": ["skills", "bogus", "skills", "education"],
        }
    )
    assert set(cv) == {"personal", *cvdoc.SECTIONS, "order"}
    assert cv["personal"] == {"name": "Piet", "place": None, "phone": None, "email": None}
    assert cv["work_history"] == [
        {"employer": "PostNL", "role": "", "period": {"from": 2015, "to": "now"}, "tasks": ""}
    ]
    assert cv["education"] == [{"name": "MBO", "institution": "", "diploma": True, "year": 2008}]
    assert cv["skills"] == ["Excel", "3"]
    assert cv["languages"] == [{"language": "Pools", "level": None}]
    assert cv["order"] == ["skills", "education"]
    assert cvdoc.normalise(cv) == cv
    assert cvdoc.normalise({})["order"] == list(cvdoc.SECTIONS)
    assert cvdoc.normalise({"order": []})["order"] == []


def test_filename_is_safe() -> None:
    assert cvdoc.filename(FULL, "nl", "pdf") == "cv-piet-jansen.pdf"
    name = cvdoc.filename({"personal": {"name": "Renée / Çelik-O'Brien\\..\\x"}}, "en", ".DOCX")
    assert name == "cv-renee-celik-o-brien-x.docx"
    assert cvdoc.filename({}, "nl", "pdf") == "cv.pdf"
    assert cvdoc.filename({"personal": {"name": "محمد"}}, "nl", "pdf") == "cv.pdf"
    long = cvdoc.filename({"personal": {"name": "a" * 300}}, "nl", "pdf")
    assert len(long) <= 90 and "/" not in long and " " not in long


@pytest.mark.parametrize(
    ("lang", "name", "skill"),
    [("ar", "أحمد العلي", "التخطيط"), ("pl", "Zażółć Gęśląjaźń", "planowanie tras")],
)
def test_arabic_and_polish_cvs_render_with_their_own_headings(lang: str, name: str, skill: str) -> None:
    from bot import i18n

    data = {
        "personal": {"name": name, "place": "Utrecht"},
        "work_history": [
            {"employer": "PostNL", "role": skill, "period": {"from": 2015, "to": "now"}, "tasks": skill}
        ],
        "skills": [skill, "Excel"],
        "order": list(cvdoc.SECTIONS),
    }
    html = cvdoc.render_html(data, lang, dt.date(2026, 11, 26))
    direction = "rtl" if lang == "ar" else "ltr"
    assert f'lang="{lang}"' in html and f'dir="{direction}"' in html
    pdf = cvdoc.render_pdf(data, lang, dt.date(2026, 11, 26))
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert name in text and skill in text and "PostNL" in text
    assert i18n.t(lang, "cv.heading.work_history") in text
    assert i18n.t(lang, "cv.heading.skills") in text
