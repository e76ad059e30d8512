"""Rule families in every language: "truce ..., but shelling", non-events and other objects.

Each family is checked at the feature level (the rule fires or not, whatever the fitted
weights) and at the label level. Sentences are written for these tests (real-style, not
copied from any feed); language is left to detection so inflected forms go through it too.
"""

from __future__ import annotations

import pytest

from workers.classifier.engine import Classifier


def _features(clf: Classifier, title: str, lede: str = "") -> dict[str, float]:
    _, reason, ext, _ = clf.featurize(title, lede)
    assert not reason, reason
    assert ext is not None
    return ext.x


# A truce in force, then "but" / "however", then hostilities: reported like "despite".
CONTRAST = [
    ("en", "A ceasefire took effect on Monday, but shelling continued in the east."),
    ("ru", "Перемирие вступило в силу в полночь, но обстрелы Донецка продолжились."),
    ("uk", "Перемир'я набуло чинності опівночі, але обстріли Херсона тривали."),
    ("pl", "Rozejm wszedł w życie o północy, ale ostrzał Chersonia trwał nadal."),
    ("fr", "La trêve est entrée en vigueur à minuit, mais des tirs d'artillerie ont visé Donetsk."),
    ("es", "La tregua entró en vigor a medianoche, pero los bombardeos continuaron en Jartum."),
    ("de", "Die Waffenruhe trat um Mitternacht in Kraft, doch der Beschuss ging weiter."),
    ("ar", "دخل وقف إطلاق النار حيز التنفيذ منتصف الليل، لكن القصف استمر على الخرطوم."),
    ("tr", "Ateşkes gece yarısı yürürlüğe girdi, ancak topçu saldırıları sürdü."),
]

# The same shape when the truce is only called for, or is hypothetical: no breach.
CONTRAST_NOT_IN_FORCE = [
    ("en", "Leaders called for a ceasefire, but shelling continued in the east."),
    ("en", "If a ceasefire takes effect but shelling continues, the talks will end."),
    ("ru", "Лидеры призвали к перемирию, но обстрелы продолжились."),
    ("fr", "L'ONU appelle à un cessez-le-feu, mais les bombardements se poursuivent à Gaza."),
    ("de", "Die UN fordern eine Waffenruhe, doch der Beschuss von Gaza geht weiter."),
]

# Hostilities that are feared, warned of or hoped away are not reported hostilities.
UNREAL = [
    ("en", "Fears of renewed fighting as Gaza truce nears its end"),
    ("en", "Residents of Gaza rush home during the truce and hope fighting is over"),
    ("ru", "Опасения новых боев растут по мере окончания перемирия в Карабахе"),
    ("uk", "Побоювання нових боїв зростають, перемир'я на Донбасі завершується"),
    ("pl", "Obawy przed nowymi walkami, rozejm w Strefie Gazy dobiega końca"),
    ("fr", "Craintes de nouveaux combats à l'approche de la fin de la trêve à Gaza"),
    ("es", "Temor a nuevos combates ante el fin de la tregua en Sudán"),
    ("de", "Angst vor neuen Kämpfen, die Waffenruhe im Gazastreifen läuft aus"),
    ("ar", "مخاوف من تجدد القتال في غزة مع اقتراب انتهاء الهدنة"),
    ("tr", "Gazze'de ateşkesin sona ermesiyle çatışma riski artıyor"),
]

# Hostilities that eased or stopped once the truce began: the truce is holding.
ABATED = [
    ("en", "Fighting eases in Sudan as the truce holds"),
    ("ru", "Бои в Карабахе стихли после вступления перемирия в силу"),
    ("uk", "Бої на Донбасі вщухли після набуття чинності перемир'ям"),
    ("pl", "Walki w Sudanie ucichły po wejściu rozejmu w życie"),
    ("fr", "Les combats ont cessé à Gaza depuis l'entrée en vigueur de la trêve"),
    ("es", "Los combates cesaron en Sudán tras la entrada en vigor de la tregua"),
    ("de", "Die Kämpfe im Gazastreifen ließen nach, seit die Waffenruhe gilt"),
    ("ar", "هدأت الاشتباكات في السودان منذ بدء الهدنة"),
    ("tr", "Sudan'da ateşkesin ardından çatışmalar durdu"),
]

# A breach word whose object is law or rights, next to a call for a truce: no truce breach.
OTHER_NORM = [
    ("en", "UN urges Gaza ceasefire, says the bombing of hospitals violates international law"),
    ("ru", "ООН призвала к перемирию в Газе и заявила о нарушении международного права"),
    ("uk", "ООН закликала до перемир'я в Газі і заявила про порушення міжнародного права"),
    ("pl", "ONZ wzywa do rozejmu w Gazie i mówi o naruszeniu prawa międzynarodowego"),
    ("fr", "L'ONU appelle à une trêve à Gaza et dénonce une violation du droit international"),
    ("es", "La ONU pide una tregua en Gaza y denuncia una violación del derecho internacional"),
    ("de", "UN fordern eine Waffenruhe in Gaza und sprechen von Verletzung des Völkerrechts"),
    ("ar", "الأمم المتحدة تدعو إلى وقف إطلاق النار في غزة وتندد بانتهاك القانون الدولي"),
    ("tr", "BM ateşkes çağrısı yaptı, saldırıların uluslararası hukuku ihlal ettiğini söyledi"),
]


@pytest.mark.parametrize(("lang", "title"), CONTRAST)
def test_truce_in_force_but_hostilities_is_a_breach(clf: Classifier, lang: str, title: str) -> None:
    assert _features(clf, title)["despite"] == 1.0
    result = clf.classify(title, "")
    assert result.lang == lang
    assert result.label == "violation", result
    assert result.rule == "despite_truce"


@pytest.mark.parametrize(("lang", "title"), CONTRAST_NOT_IN_FORCE)
def test_but_after_a_called_or_hypothetical_truce_is_not_a_breach(
    clf: Classifier, lang: str, title: str
) -> None:
    assert _features(clf, title)["despite"] == 0.0
    result = clf.classify(title, "")
    assert result.lang == lang
    assert result.label == "ceasefire", result


@pytest.mark.parametrize(("lang", "title"), UNREAL)
def test_feared_or_hoped_hostilities_are_not_reported(
    clf: Classifier, lang: str, title: str
) -> None:
    x = _features(clf, title)
    assert x["hostile"] == 0.0
    assert x["breach_any"] == 0.0
    result = clf.classify(title, "")
    assert result.lang == lang
    assert result.label != "violation", result


@pytest.mark.parametrize(("lang", "title"), ABATED)
def test_hostilities_that_eased_are_not_reported(clf: Classifier, lang: str, title: str) -> None:
    x = _features(clf, title)
    assert x["hostile"] == 0.0
    assert x["breach_any"] == 0.0
    result = clf.classify(title, "")
    assert result.lang == lang
    assert result.label != "violation", result


@pytest.mark.parametrize(
    ("lang", "title"),
    [
        ("en", "Shelling has not eased despite the Donbas truce"),
        ("pl", "Ataki nie ustają mimo rozejmu w Donbasie"),
    ],
)
def test_negated_easing_still_reports_hostilities(clf: Classifier, lang: str, title: str) -> None:
    assert _features(clf, title)["hostile"] == 1.0
    result = clf.classify(title, "")
    assert result.lang == lang
    assert result.label == "violation", result


@pytest.mark.parametrize(("lang", "title"), OTHER_NORM)
def test_breaches_of_law_are_not_truce_breaches(clf: Classifier, lang: str, title: str) -> None:
    assert _features(clf, title)["violate"] == 0.0
    result = clf.classify(title, "")
    assert result.lang == lang
    assert result.label == "ceasefire", result


def test_truce_breach_next_to_law_still_counts(clf: Classifier) -> None:
    title = "Kyiv says Russia violated the ceasefire and international law in Donbas"
    assert _features(clf, title)["violate"] == 1.0
    assert clf.classify(title, "", "en").label == "violation"


@pytest.mark.parametrize(
    ("lang", "title"),
    [
        ("pl", "Rosja chce rozejmu, by przegrupować wojska i zaatakować ponownie"),
        ("ru", "Россия хочет перемирия в Донбассе, чтобы перегруппироваться и атаковать снова"),
        ("uk", "Росія хоче перемир'я на Донбасі, щоб перегрупуватися і атакувати знову"),
    ],
)
def test_attack_in_the_infinitive_is_a_plan_not_an_event(
    clf: Classifier, lang: str, title: str
) -> None:
    x = _features(clf, title)
    assert x["resume"] == 0.0
    result = clf.classify(title, "")
    assert result.lang == lang
    assert result.label != "violation", result


# English items that exercise the out-of-fold error causes fixed in these rules.
EN_VIOLATIONS = [
    # (title, lede)
    (
        "Sudan's rival generals hold talks amid shaky truce",
        "Artillery fire and gunshots were heard in Khartoum on Monday.",
    ),
    (
        "Ukraine latest: minefields cover a third of the country",
        "The truce Moscow declared for Orthodox Christmas ended on Saturday. Kyiv said Russian "
        "troops had violated it, continuing to shell Bakhmut.",
    ),
    ("Reported fighting in Darfur mars fragile Sudan truce", ""),
    ("Deadly fighting escalates in Sudan as truce expires", ""),
    (
        "No truce in Donbas over Christmas",
        "A 36-hour ceasefire ordered by the Kremlin was supposed to start on Friday, but "
        "artillery exchanges pounded eastern Ukraine.",
    ),
]

EN_NOT_VIOLATIONS = [
    # (title, lede, expected label, or None for "anything but violation")
    (
        "Congresswoman accused the president of complicity and demanded a Gaza ceasefire",
        "She threatened electoral consequences as the death toll in the war rose.",
        "ceasefire",
    ),
    (
        "Israeli jets strike refugee camps in central Gaza",
        "Washington approved new arms sales to Israel despite mounting international ceasefire "
        "calls.",
        None,  # a passing mention: "none" by the guideline, "ceasefire" is a tolerable miss
    ),
    (
        "Thailand says 12 hostages released by Hamas",
        "The hostages, seized during the October 7 raids into Israel, were released on Friday, "
        "hours after a truce in the Israel-Hamas war began.",
        "ceasefire",
    ),
    (
        "A failed truce renewal in Yemen worries Riyadh",
        "After six months of relative calm, the warring sides failed to renew the truce deal.",
        "ceasefire",
    ),
    (
        "Gaza's next phase risks a deeper humanitarian crisis",
        "While talks continued over extending the truce in Gaza, the army prepared to resume "
        "hostilities within days.",
        "ceasefire",
    ),
    (
        "Fears of violence in Sudan as no ceasefire is agreed before the end of Eid",
        "Efforts to impose a ceasefire before the end of the holiday failed.",
        "ceasefire",
    ),
    ("Carmaker cuts prices again as price-war truce fails", "Rivals face thin margins.", "none"),
]


@pytest.mark.parametrize(("title", "lede"), EN_VIOLATIONS)
def test_english_breach_reports(clf: Classifier, title: str, lede: str) -> None:
    result = clf.classify(title, lede, "en")
    assert result.label == "violation", (title, result)
    assert result.evidence == title or result.evidence in lede


@pytest.mark.parametrize(("title", "lede", "expected"), EN_NOT_VIOLATIONS)
def test_english_lookalikes(clf: Classifier, title: str, lede: str, expected: str | None) -> None:
    result = clf.classify(title, lede, "en")
    assert result.label == (expected or result.label), (title, result)
    assert result.p_violation < 0.5


def test_promises_and_talks_are_not_a_truce_holding(clf: Classifier) -> None:
    assert _features(clf, "Rival forces hold talks on a Sudan truce")["hold"] == 0.0
    assert _features(clf, "Both sides said they would respect the Sudan truce")["hold"] == 0.0
    assert _features(clf, "The Sudan truce is holding, residents say")["hold"] == 1.0


def test_links_in_the_lede_are_not_sentences(clf: Classifier) -> None:
    lede = (
        "Pleas for a Gaza ceasefire grow louder. In Syria and in "
        '<a href="https://example.org/world/sudan-fighting-escalates-after-truce-collapse'
    )
    x = _features(clf, "Neither side in Gaza wants a ceasefire", lede)
    assert x["hostile"] == 0.0
    assert x["collapse"] == 0.0
    assert clf.classify("Neither side in Gaza wants a ceasefire", lede, "en").label != "violation"


# Reports that no breach happened: the truce is holding (a party's denial stays a violation).
NO_BREACH = [
    ("en", "Monitors report no ceasefire violations overnight in Donbas"),
    ("en", "Ukraine: the ceasefire has not been violated since midnight, OSCE says"),
    ("ru", "Не зафиксировано ни одного нарушения перемирия в Карабахе"),
    ("uk", "Порушень режиму тиші на Донбасі не зафіксовано"),
    ("pl", "Nie odnotowano naruszeń rozejmu w Strefie Gazy"),
    ("fr", "Aucune violation du cessez-le-feu n'a été signalée à Gaza"),
    ("es", "No se registraron violaciones de la tregua en Sudán"),
    ("de", "Keine Verstöße gegen die Waffenruhe im Gazastreifen gemeldet"),
    ("ar", "لم تسجل أي خروقات للهدنة في غزة"),
    ("tr", "Gazze'de ateşkes ihlali yaşanmadı"),
]


@pytest.mark.parametrize(("lang", "title"), NO_BREACH)
def test_no_breach_reported_is_a_truce_holding(clf: Classifier, lang: str, title: str) -> None:
    x = _features(clf, title)
    assert x["violate"] == 0.0
    assert x["hold"] == 1.0
    result = clf.classify(title, "")
    assert result.lang == lang
    assert result.label == "ceasefire", result


@pytest.mark.parametrize(
    "title",
    [
        "Russia says it has not violated the Christmas truce in Donbas",
        "Sudan army denies breaking the ceasefire in Khartoum",
    ],
)
def test_a_party_denying_a_breach_is_still_about_a_breach(clf: Classifier, title: str) -> None:
    assert clf.classify(title, "", "en").label == "violation"


@pytest.mark.parametrize(
    ("lang", "title", "expected"),
    [
        (
            "tr",
            "Türkiye, ateşkesin ihlal edilmesi halinde karşılık vereceğini açıkladı",
            "ceasefire",
        ),
        ("tr", "Azerbaycan, Ermenistan'ı ateşkesi ihlal etmekle suçladı", "violation"),
        ("ru", "Москва пригрозила ответить на любое нарушение перемирия", "ceasefire"),
        ("ru", "Армения обвинила Азербайджан в нарушении перемирия", "violation"),
    ],
)
def test_conditions_after_the_verb_and_short_russian_headlines(
    clf: Classifier, lang: str, title: str, expected: str
) -> None:
    result = clf.classify(title, "")
    assert result.lang == lang
    assert result.label == expected, result


@pytest.mark.parametrize(
    "title",
    [
        "Armenia and Azerbaijan accuse each other of violating new humanitarian truce",
        "Russian and Syrian jets bomb Idlib despite Turkish-Russian ceasefire",
        "Kyrgyzstan and Tajikistan trade fire despite ceasefire deal",
    ],
)
def test_more_english_breach_headlines(clf: Classifier, title: str) -> None:
    assert clf.classify(title, "", "en").label == "violation"
