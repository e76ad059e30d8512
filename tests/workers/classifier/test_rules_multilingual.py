"""Every supported language: accusation, "despite the truce", calls, threats and look-alikes.

Examples are written for these tests. Language is left to detection (lang=None) so the
detector is exercised too; inflected forms (Slavic cases, Arabic clitics, Turkish suffixes)
appear on purpose.
"""

from __future__ import annotations

import pytest

from workers.classifier.engine import Classifier
from workers.classifier.text import fold

CASES = [
    # (expected label, language, headline, lede)
    (
        "violation",
        "ru",
        "Армения обвинила Азербайджан в нарушении перемирия в Карабахе",
        "По данным Еревана, азербайджанские военные открыли огонь по позициям на границе.",
    ),
    (
        "violation",
        "ru",
        "Несмотря на перемирие, обстрелы Донецка продолжаются",
        "Местные власти сообщили о двух погибших.",
    ),
    (
        "ceasefire",
        "ru",
        "Стороны договорились о перемирии на Пасху",
        "Режим тишины вступит в силу в субботу.",
    ),
    (
        "ceasefire",
        "ru",
        "Москва пригрозила ответить на любое нарушение режима прекращения огня",
        "Заявление сделал представитель министерства.",
    ),
    (
        "none",
        "ru",
        "Центробанк оставил ключевую ставку без изменений",
        "Инфляция в октябре оказалась выше прогнозов.",
    ),
    (
        "violation",
        "uk",
        "Україна звинуватила Росію в порушенні режиму тиші на Донбасі",
        "За даними штабу, окупанти обстріляли позиції ЗСУ з мінометів.",
    ),
    (
        "violation",
        "uk",
        "Попри перемир'я, обстріли Херсона тривають",
        "Загинули двоє мирних жителів.",
    ),
    (
        "ceasefire",
        "uk",
        "ООН закликала до негайного припинення вогню в секторі Газа",
        "Генсек звернувся до обох сторін конфлікту.",
    ),
    (
        "none",
        "uk",
        "Уряд ухвалив новий бюджет на наступний рік",
        "Депутати підтримали документ у першому читанні.",
    ),
    (
        "violation",
        "pl",
        "Izrael oskarża Hamas o złamanie rozejmu",
        "Według armii z Gazy wystrzelono rakiety w kierunku Izraela.",
    ),
    (
        "violation",
        "pl",
        "Mimo zawieszenia broni trwają walki w Chartumie",
        "Mieszkańcy słyszeli eksplozje w centrum miasta.",
    ),
    (
        "ceasefire",
        "pl",
        "Rada Bezpieczeństwa ONZ wzywa do zawieszenia broni w Strefie Gazy",
        "Rezolucja została przyjęta w piątek.",
    ),
    (
        "ceasefire",
        "pl",
        "Rosja grozi odpowiedzią na każde naruszenie rozejmu",
        "Kreml zapowiedział, że nie zawaha się odpowiedzieć.",
    ),
    (
        "none",
        "pl",
        "Rozejm w koalicji: politycy PiS i PSL się dogadali",
        "Chodzi o listy wyborcze do sejmików.",
    ),
    (
        "violation",
        "fr",
        "L'Arménie accuse l'Azerbaïdjan d'avoir violé le cessez-le-feu",
        "Erevan affirme que des tirs d'artillerie ont visé ses positions.",
    ),
    (
        "violation",
        "fr",
        "Malgré la trêve, des frappes israéliennes ont touché Gaza",
        "Au moins cinq personnes ont été tuées selon les secours.",
    ),
    (
        "ceasefire",
        "fr",
        "Le Conseil de sécurité appelle à un cessez-le-feu immédiat au Soudan",
        "Le texte a été adopté à l'unanimité.",
    ),
    (
        "none",
        "fr",
        "La trêve hivernale des expulsions prend fin le 31 mars",
        "Les associations craignent une hausse des expulsions locatives.",
    ),
    (
        "violation",
        "es",
        "Israel y Hamás se acusan mutuamente de violar la tregua",
        "El ejército israelí denunció el lanzamiento de cohetes desde Gaza.",
    ),
    (
        "violation",
        "es",
        "Pese al alto el fuego, continúan los combates en Jartum",
        "Los vecinos denunciaron bombardeos durante la noche.",
    ),
    (
        "ceasefire",
        "es",
        "Rusia y Ucrania acuerdan un alto el fuego humanitario",
        "La tregua entrará en vigor el domingo a mediodía.",
    ),
    (
        "none",
        "es",
        "El Gobierno aprueba los presupuestos generales del Estado",
        "La votación en el Congreso será la próxima semana.",
    ),
    (
        "violation",
        "de",
        "Armenien wirft Aserbaidschan Bruch der Waffenruhe vor",
        "Nach Angaben aus Eriwan wurden Stellungen an der Grenze beschossen.",
    ),
    (
        "violation",
        "de",
        "Trotz Waffenruhe: Kämpfe im Sudan gehen weiter",
        "In Khartum waren am Morgen Explosionen zu hören.",
    ),
    (
        "ceasefire",
        "de",
        "UN-Generalversammlung fordert Waffenstillstand im Gazastreifen",
        "Die Resolution wurde mit großer Mehrheit angenommen.",
    ),
    (
        "none",
        "de",
        "Bundesregierung beschließt neues Heizungsgesetz",
        "Der Bundestag soll im Herbst abstimmen.",
    ),
    (
        "violation",
        "ar",
        "إسرائيل تتهم حماس بخرق الهدنة في غزة",
        "وقال الجيش إن صواريخ أطلقت من القطاع.",
    ),
    ("violation", "ar", "قصف على الخرطوم رغم وقف إطلاق النار", "وأفاد سكان بسماع انفجارات قوية."),
    (
        "ceasefire",
        "ar",
        "مجلس الأمن يدعو إلى وقف فوري لإطلاق النار في السودان",
        "وتبنى المجلس القرار بالإجماع.",
    ),
    ("none", "ar", "البنك المركزي يرفع أسعار الفائدة", "وقال المحافظ إن التضخم ما زال مرتفعا."),
    (
        "violation",
        "tr",
        "Azerbaycan, Ermenistan'ı ateşkesi ihlal etmekle suçladı",
        "Bakü, Ermeni güçlerinin sınırdaki mevzilere ateş açtığını açıkladı.",
    ),
    (
        "violation",
        "tr",
        "Ateşkese rağmen Hartum'da çatışmalar sürüyor",
        "Sakinler gece boyunca patlama sesleri duyduklarını söyledi.",
    ),
    (
        "ceasefire",
        "tr",
        "BM Güvenlik Konseyi Gazze'de ateşkes çağrısında bulundu",
        "Karar oy birliğiyle kabul edildi.",
    ),
    (
        "none",
        "tr",
        "Merkez Bankası faiz oranını sabit tuttu",
        "Enflasyon beklentilerin üzerinde gerçekleşti.",
    ),
]


@pytest.mark.parametrize(("expected", "lang", "title", "lede"), CASES)
def test_label_and_language(
    clf: Classifier, expected: str, lang: str, title: str, lede: str
) -> None:
    result = clf.classify(title, lede)
    assert result.lang == lang, result
    assert result.label == expected, result
    if expected == "violation":
        assert result.evidence in (title, lede)
        assert result.p_violation > 0.5
    else:
        assert result.p_violation < 0.5


def test_every_required_language_is_supported(clf: Classifier) -> None:
    assert set(clf.languages) >= {
        *("en", "ru", "uk", "pl", "fr", "es", "de", "ar", "tr"),
        *("hy", "az", "he"),
    }


@pytest.mark.parametrize(
    ("lang", "forms"),
    [
        ("ru", ["перемирие", "перемирия", "перемирию", "перемирием", "перемирии"]),
        ("uk", ["перемир'я", "перемир'ю", "перемир'ям", "перемирʼя"]),
        (
            "pl",
            ["rozejm", "rozejmu", "rozejmem", "rozejmie", "zawieszenie broni", "zawieszeniu broni"],
        ),
        ("ar", ["الهدنة", "والهدنة", "بالهدنة", "للهدنة", "هدنة", "لوقف إطلاق النار"]),
        ("tr", ["ateşkes", "ateşkesi", "ateşkese", "ateşkesin", "ateşkesten"]),
        ("de", ["Waffenruhe", "Waffenstillstandsabkommen", "Feuerpause"]),
        (
            "hy",
            ["հրադադար", "հրադադարը", "հրադադարի", "հրադադարն", "զինադադար", "կրակի դադարեցում"],
        ),
        ("az", ["atəşkəs", "atəşkəsi", "atəşkəsə", "atəşkəsin", "atəşkəsdən"]),
        ("he", ["הפסקת אש", "הפסקת האש", "להפסקת אש", "ובהפסקת האש", "הפוגה", "בהפוגה", "רגיעה"]),
    ],
)
def test_inflected_truce_words_are_found(clf: Classifier, lang: str, forms: list[str]) -> None:
    extractor = clf.extractors[lang]
    for form in forms:
        assert extractor.has_truce_word(fold(form)), form


def test_unknown_language_is_none_with_reason_never_guessed(clf: Classifier) -> None:
    italian = clf.classify(
        "Israele e Hamas si accusano a vicenda di aver violato la tregua",
        "Il governo di Gerusalemme ha detto che sono stati lanciati razzi dalla Striscia.",
    )
    assert italian.label == "none"
    assert italian.reason.startswith("unsupported language")
    given = clf.classify(
        "Israel acusa o Hamas de violar a trégua",
        "O governo diz que foguetes foram lançados.",
        "pt-BR",
    )
    assert given.label == "none"
    assert given.reason == "unsupported language: pt"
    assert given.lang == "pt"
    # A declared language is a prior, not an override: English text declared "pt" is English.
    english = clf.classify("Israel accuses Hamas of breaking the truce", "", "pt-BR")
    assert english.lang == "en" and english.label == "violation"
    japanese = clf.classify("停戦合意が破られた", "")
    assert japanese.label == "none"
    assert "unsupported language" in japanese.reason


def test_given_language_codes_are_normalised(clf: Classifier) -> None:
    result = clf.classify("Azerbaijan accuses Armenia of breaking the ceasefire", "", "EN_gb")
    assert result.lang == "en"
    assert result.label == "violation"
