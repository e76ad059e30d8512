"""Extraction in the eleven other languages: the same code, each language's own words.

Sentences written for the test, modelled on how each language's outlets report truces.
Published: Wednesday 6 March 2024, 09:00 UTC (tests/workers/truce/helpers.py); Israel,
Lebanon and Ukraine on UTC+2, Moscow UTC+3, Baku UTC+4, Bogotá UTC-5.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from core.models import Label
from tests.workers.truce.conftest import Extract
from tests.workers.truce.helpers import utc

GAZA = ("gaza-israel",)
SUDAN = ("sudan",)
UKRAINE = ("ukraine",)
KARABAKH = ("nagorno-karabakh",)
LEBANON = ("lebanon",)

# (lang, regions, label, title, text, expected fields)
CASES: list[tuple[str, tuple[str, ...], Label, str, str, dict[str, Any]]] = [
    # Polish
    ("pl", GAZA, "ceasefire",
     "Rozejm w Strefie Gazy wejdzie w życie w piątek o 7 rano czasu lokalnego", "",
     {"kind": "agreed", "starts": utc(2024, 3, 8, 5)}),
    ("pl", SUDAN, "ceasefire", "Rozejm w Sudanie przedłużony o kolejne 72 godziny", "",
     {"kind": "extended", "duration_h": 72}),
    ("pl", SUDAN, "ceasefire", "Trzydniowe zawieszenie broni w Sudanie zakończyło się", "",
     {"kind": "expired", "duration_h": 72}),
    ("pl", GAZA, "ceasefire", "Izrael i Hamas uzgodniły czterodniowy rozejm od soboty", "",
     {"kind": "agreed", "duration_h": 96, "starts": utc(2024, 3, 8, 22)}),
    ("pl", UKRAINE, "violation", "Ukraina oskarża Rosję o ostrzał Chersonia mimo rozejmu",
     "W ostrzale zginęło pięć osób, a 12 zostało rannych.",
     {"kind": "violated", "accuser": "Ukraine", "accused": "Russia", "attack": "shelling",
      "place": "Chersonia", "killed": 5, "wounded": 12}),
    # Russian
    ("ru", UKRAINE, "ceasefire",
     "Режим прекращения огня вступит в силу с 12:00 по Москве в субботу", "",
     {"kind": "agreed", "starts": utc(2024, 3, 9, 9)}),
    ("ru", SUDAN, "ceasefire", "Стороны договорились о 72-часовом перемирии", "",
     {"kind": "agreed", "duration_h": 72}),
    ("ru", SUDAN, "ceasefire", "Трехдневное перемирие в Судане вступило в силу", "",
     {"kind": "starts", "duration_h": 72}),
    ("ru", SUDAN, "ceasefire", "Перемирие в Судане продлили еще на три дня", "",
     {"kind": "extended", "duration_h": 72}),
    ("ru", KARABAKH, "violation",
     "Азербайджан обвинил Армению в обстреле позиций в Тертерском районе", "",
     {"kind": "violated", "accuser": "Azerbaijan", "accused": "Armenia", "attack": "shelling",
      "place": "Тертерском"}),
    # Ukrainian
    ("uk", UKRAINE, "ceasefire",
     "Перемир'я набуде чинності о 18:00 за київським часом у неділю", "",
     {"kind": "agreed", "starts": utc(2024, 3, 10, 16)}),
    ("uk", SUDAN, "ceasefire", "Сторони в Судані погодили триденне перемир'я", "",
     {"kind": "agreed", "duration_h": 72}),
    ("uk", UKRAINE, "violation", "Україна звинуватила Росію в обстрілі Херсона попри перемир'я",
     "Внаслідок атаки 3 людей загинули.",
     {"accuser": "Ukraine", "accused": "Russia", "attack": "shelling", "place": "Херсона",
      "killed": 3}),
    # Arabic
    ("ar", GAZA, "ceasefire",
     "دخل وقف إطلاق النار في غزة حيز التنفيذ عند الساعة الثامنة صباحا بالتوقيت المحلي", "",
     {"kind": "starts", "starts": utc(2024, 3, 6, 6)}),
    ("ar", SUDAN, "ceasefire", "اتفق الطرفان على هدنة إنسانية لمدة خمسة أيام", "",
     {"kind": "agreed", "duration_h": 120}),
    ("ar", SUDAN, "ceasefire", "تمديد الهدنة في السودان لمدة 72 ساعة", "",
     {"kind": "extended", "duration_h": 72}),
    ("ar", GAZA, "violation", "اتهم الجيش الإسرائيلي حركة حماس بخرق وقف إطلاق النار في رفح",
     "وأسفر القصف عن مقتل 5 أشخاص وإصابة 12 آخرين.",
     {"accuser": "Israel", "accused": "Hamas", "place": "رفح", "killed": 5, "wounded": 12}),
    # French
    ("fr", LEBANON, "ceasefire", "Le cessez-le-feu entrera en vigueur dimanche à minuit", "",
     {"kind": "agreed", "starts": utc(2024, 3, 10, 22)}),
    ("fr", GAZA, "ceasefire", "La trêve à Gaza prolongée de deux jours", "",
     {"kind": "extended", "duration_h": 48}),
    ("fr", GAZA, "ceasefire", "Israël et le Hamas concluent une trêve de quatre jours", "",
     {"kind": "agreed", "duration_h": 96}),
    ("fr", ("syria",), "violation", "L'armée russe accuse les rebelles syriens de violer la trêve",
     "", {"accuser": "Russia", "accused": "Syrian opposition"}),
    # Spanish
    ("es", ("colombia",), "ceasefire",
     "El alto el fuego entrará en vigor a las 12:00 hora local del viernes", "",
     {"kind": "agreed", "starts": utc(2024, 3, 8, 17)}),
    ("es", GAZA, "ceasefire", "Israel y Hamás pactan una tregua de 72 horas", "",
     {"kind": "agreed", "duration_h": 72}),
    ("es", ("yemen",), "ceasefire",
     "Las partes en Yemen prorrogan la tregua por otros dos meses", "",
     {"kind": "extended", "duration_h": 1440}),
    ("es", KARABAKH, "violation", "Armenia acusó a Azerbaiyán de violar el alto el fuego", "",
     {"accuser": "Armenia", "accused": "Azerbaijan"}),
    # German
    ("de", GAZA, "ceasefire", "Die Waffenruhe soll ab Sonntagmittag in Kraft treten", "",
     {"kind": "agreed", "starts": utc(2024, 3, 10, 10)}),
    ("de", SUDAN, "ceasefire", "Armee und RSF vereinbaren dreitägige Waffenruhe", "",
     {"kind": "agreed", "duration_h": 72}),
    ("de", SUDAN, "ceasefire", "Die Waffenruhe wurde um weitere drei Tage verlängert", "",
     {"kind": "extended", "duration_h": 72}),
    ("de", GAZA, "violation",
     "Israel und die Hamas werfen sich gegenseitig Verstöße gegen die Waffenruhe vor", "",
     {"accuser": "", "accused": ""}),
    ("de", UKRAINE, "violation",
     "Die Ukraine wirft Russland vor, die Waffenruhe gebrochen zu haben", "",
     {"accuser": "Ukraine", "accused": "Russia"}),
    # Turkish
    ("tr", GAZA, "ceasefire", "Gazze'de ateşkes yarın saat 08.00'den itibaren yürürlüğe girecek",
     "", {"kind": "agreed", "starts": utc(2024, 3, 7, 6)}),
    ("tr", SUDAN, "ceasefire", "Sudan'da taraflar 72 saatlik ateşkes ilan etti", "",
     {"kind": "agreed", "duration_h": 72}),
    ("tr", KARABAKH, "violation", "Azerbaycan, Ermenistan'ı ateşkesi ihlal etmekle suçladı", "",
     {"accuser": "Azerbaijan", "accused": "Armenia"}),
    # A capital dotted İ folds to "i" like any other.
    ("tr", GAZA, "violation", "İsrail ordusu Han Yunus'ta ateşkesi ihlal etti", "",
     {"accused": "Israel", "place": "Han Yunus"}),
    # Azerbaijani
    ("az", KARABAKH, "ceasefire",
     "Humanitar atəşkəs bazar günü saat 12:00-dan etibarən qüvvəyə minəcək", "",
     {"kind": "agreed", "starts": utc(2024, 3, 10, 8)}),
    ("az", SUDAN, "ceasefire", "Sudanda tərəflər 72 saatlıq atəşkəs elan edib", "",
     {"kind": "agreed", "duration_h": 72}),
    ("az", KARABAKH, "violation",
     "Ermənistan silahlı qüvvələri atəşkəsi pozaraq Tərtər şəhərini artilleriyadan atəşə tutub",
     "", {"accused": "Armenia", "place": "Tərtər", "attack": "artillery"}),
    # Armenian
    ("hy", KARABAKH, "ceasefire", "Ղարաբաղում հրադադարը ուժի մեջ կմտնի ժամը 18:00-ից", "",
     {"kind": "agreed", "starts": utc(2024, 3, 6, 14)}),
    ("hy", GAZA, "ceasefire",
     "Իսրայելն ու ՀԱՄԱՍ-ը համաձայնության են եկել քառօրյա հրադադարի շուրջ", "",
     {"kind": "agreed", "duration_h": 96}),
    ("hy", KARABAKH, "violation", "Ադրբեջանը խախտել է հրադադարը Տավուշի ուղղությամբ", "",
     {"accused": "Azerbaijan", "place": "Տավուշի"}),
    # Hebrew
    ("he", GAZA, "ceasefire", "הפסקת האש תיכנס לתוקף מחר בשעה 7:00", "",
     {"kind": "agreed", "starts": utc(2024, 3, 7, 5)}),
    ("he", GAZA, "ceasefire", "ישראל וחמאס הסכימו על הפסקת אש לארבעה ימים", "",
     {"kind": "agreed", "duration_h": 96}),
    ("he", LEBANON, "ceasefire", "הפסקת האש בלבנון הוארכה ביומיים", "",
     {"kind": "extended", "duration_h": 48}),
    ("he", GAZA, "violation", 'צה"ל: חמאס הפר את הפסקת האש ברפיח', "",
     {"accuser": "Israel", "accused": "Hamas", "place": "ברפיח"}),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_extraction(
    extract: Extract, case: tuple[str, tuple[str, ...], Label, str, str, dict[str, Any]]
) -> None:
    lang, regions, label, title, text, expected = case
    event = extract(title, text, lang=lang, label=label, regions=regions)
    got = {name: getattr(event, name) for name in expected}
    assert got == expected


def test_every_language_has_a_case() -> None:
    assert {c[0] for c in CASES} | {"en"} == {
        "en", "pl", "ru", "uk", "ar", "fr", "es", "de", "tr", "hy", "az", "he"
    }


@pytest.mark.parametrize(
    ("lang", "title"),
    [
        ("pl", "Rozejm w Strefie Gazy obowiązuje"),
        ("ru", "Перемирие в Судане соблюдается"),
        ("fr", "Le cessez-le-feu est en vigueur au Liban"),
        ("de", "Die Waffenruhe im Gazastreifen hält"),
    ],
)
def test_no_time_stays_none(extract: Extract, lang: str, title: str) -> None:
    event = extract(title, lang=lang, regions=GAZA)
    assert event.kind == "holding"
    assert (event.starts, event.ends, event.duration_h) == (None, None, None)


@pytest.mark.parametrize(
    ("lang", "title"),
    [
        ("ru", "Азербайджан пригрозил ответить на любое нарушение перемирия"),
        ("fr", "Israël menace de riposter à toute violation de la trêve"),
        ("ar", "حذرت إسرائيل من أنها سترد على أي خرق لوقف إطلاق النار"),
    ],
)
def test_threats_accuse_no_one(extract: Extract, lang: str, title: str) -> None:
    regions = KARABAKH if lang == "ru" else GAZA
    event = extract(title, lang=lang, label="violation", regions=regions)
    assert (event.accuser, event.accused) == ("", "")


def test_published_time_is_used(extract: Extract) -> None:
    # The same "tomorrow at 10:00" a day later is a day later.
    later = datetime(2024, 3, 7, 9, tzinfo=utc(2024, 1, 1).tzinfo)
    first = extract("Truce agreed from tomorrow at 10:00", regions=GAZA)
    second = extract("Truce agreed from tomorrow at 10:00", regions=GAZA, published=later)
    assert first.starts is not None and second.starts is not None
    assert (second.starts - first.starts).days == 1
