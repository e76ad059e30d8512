"""Gazetteer: regions from the text in 12 languages, front-line towns, weak names, false hits.

The sentences are written for these tests (not copied from news or the eval sets).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config_files import ConfigError, default_config_dir
from core.regions import REGIONS_FILE, RegionsFile, load_regions
from workers.classifier.engine import Classifier
from workers.classifier.gazetteer import Gazetteer, alias_pattern

CASES: list[tuple[str, str, tuple[str, ...]]] = [
    # en: front-line towns, the two Koreas, Armenia's border provinces
    ("en", "Shelling hits Horlivka and Odesa despite ceasefire", ("ukraine",)),
    ("en", "Russian drones strike Pokrovsk and Kramatorsk during the Easter truce", ("ukraine",)),
    ("en", "The two Koreas trade warning shots across the DMZ", ("korea",)),
    ("en", "South Korea fires warning shots after soldiers cross the border", ("korea",)),
    ("en", "Azerbaijan says Armenian forces fired on Tartar district", ("nagorno-karabakh",)),
    ("en", "Armenia reports shelling of villages in Tavush and Syunik", ("nagorno-karabakh",)),
    ("en", "Gunfire near Jabrayil and Fuzuli tests the truce", ("nagorno-karabakh",)),
    ("en", "Israel strikes southern Lebanon despite ceasefire with Hezbollah", ("lebanon",)),
    ("en", "Israel accuses Hamas of violating the truce in Rafah", ("gaza-israel",)),
    ("en", "Israel says the ceasefire was breached overnight", ("gaza-israel",)),
    ("en", "Iran-backed Houthis fire a missile at Israel despite the truce", ("yemen",)),
    ("en", "Israel and Iran ceasefire holds after a night of strikes", ("israel-iran",)),
    ("en", "RSF shells El Fasher despite the humanitarian truce", ("sudan",)),
    ("en", "Clashes in Tripoli hours after the truce", ("libya",)),
    ("en", "Clashes in Tripoli, northern Lebanon, hours after the truce", ("lebanon",)),
    ("en", "India and Pakistan trade fire along the LoC despite ceasefire", ("kashmir",)),
    ("en", "Pakistan and Afghanistan agree a ceasefire after border clashes", ("afghanistan",)),
    ("en", "Thai and Cambodian troops clash near Ta Muen Thom", ("thailand-cambodia",)),
    ("en", "Thailand hosts Myanmar ceasefire talks", ("myanmar",)),
    ("en", "Fighting in South Sudan's Upper Nile despite truce", ("south-sudan",)),
    # pl: case endings
    ("pl", "Rosja ostrzelała Charków i Zaporoże mimo rozejmu", ("ukraine",)),
    ("pl", "Wojska ukraińskie oskarżone o ostrzał Gorłówki", ("ukraine",)),
    ("pl", "W Doniecku i Chersoniu zginęli cywile mimo zawieszenia broni", ("ukraine",)),
    ("pl", "Izrael oskarża Hamas o złamanie rozejmu w Strefie Gazy", ("gaza-israel",)),
    ("pl", "Armenia i Azerbejdżan oskarżają się nawzajem o łamanie rozejmu", ("nagorno-karabakh",)),
    ("pl", "Korea Północna ostrzelała wyspę, rozejm z 1953 roku zagrożony", ("korea",)),
    ("pl", "Walki w Chartumie mimo rozejmu", ("sudan",)),
    # ru
    ("ru", "ВСУ обстреляли Горловку, нарушив перемирие", ("ukraine",)),
    ("ru", "Под Авдеевкой и Угледаром режим тишины нарушен", ("ukraine",)),
    ("ru", "Азербайджан обвинил Армению в обстреле Тавуша", ("nagorno-karabakh",)),
    ("ru", "В Степанакерте слышны взрывы, несмотря на перемирие", ("nagorno-karabakh",)),
    ("ru", "КНДР обвинила Сеул в нарушении перемирия", ("korea",)),
    ("ru", "Перемирие в секторе Газа нарушено, ХАМАС обвиняет Израиль", ("gaza-israel",)),
    # uk
    ("uk", "Окупанти обстріляли Нікополь і Херсон попри перемир'я", ("ukraine",)),
    ("uk", "Росіяни атакували Куп'янськ та Костянтинівку", ("ukraine",)),
    ("uk", "Вірменія та Азербайджан звинуватили одне одного в порушенні перемир'я", (
        "nagorno-karabakh",
    )),
    ("uk", "Ізраїль завдав удару по Лівану попри перемир'я з Хезболлою", ("lebanon",)),
    # ar
    ("ar", "خرق الهدنة في خان يونس وبيت لاهيا", ("gaza-israel",)),
    ("ar", "غارة إسرائيلية على الضاحية الجنوبية لبيروت رغم وقف إطلاق النار", ("lebanon",)),
    ("ar", "اشتباكات في الفاشر رغم الهدنة الإنسانية", ("sudan",)),
    ("ar", "اتهامات متبادلة بين أرمينيا وأذربيجان بانتهاك وقف النار", ("nagorno-karabakh",)),
    ("ar", "تجدد القتال جنوب العاصمة الليبية بعد ساعات من الهدنة", ("libya",)),
    ("ar", "كوريا الشمالية تتهم سيول بانتهاك الهدنة", ("korea",)),
    # fr
    ("fr", "Le cessez-le-feu violé à Khan Younès et en Cisjordanie", ("gaza-israel",)),
    ("fr", "Frappes sur Beyrouth malgré la trêve", ("lebanon",)),
    ("fr", "La Corée du Nord accuse Séoul de violer l'armistice", ("korea",)),
    ("fr", "RSF dénonce la mort de journalistes à Gaza malgré la trêve", ("gaza-israel",)),
    # es
    ("es", "Violan la tregua en Járkov y Jersón", ("ukraine",)),
    ("es", "El régimen y la oposición siria se acusan de violar la tregua", ("syria",)),
    ("es", "Corea del Norte dispara cerca de la frontera", ("korea",)),
    # de
    ("de", "Waffenruhe in Charkiw und Saporischschja gebrochen", ("ukraine",)),
    ("de", "Nordkorea und Südkorea tauschen Warnschüsse aus", ("korea",)),
    ("de", "Angriffe im Westjordanland trotz Waffenruhe", ("gaza-israel",)),
    # tr
    ("tr", "Kuzey Kore ile Güney Kore arasında ateşkes ihlali", ("korea",)),
    ("tr", "Dağlık Karabağ'da ateşkes ihlal edildi", ("nagorno-karabakh",)),
    ("tr", "Gazze'de ateşkese rağmen saldırı", ("gaza-israel",)),
    ("tr", "Halep'te ateşkese rağmen çatışma", ("syria",)),
    # az
    ("az", "Ermənistan atəşkəsi pozaraq Tərtər rayonunu atəşə tutub", ("nagorno-karabakh",)),
    ("az", "Qarabağda atəşkəs pozulub, Xankəndi ətrafında atışma", ("nagorno-karabakh",)),
    ("az", "Laçın və Kəlbəcər istiqamətində atəşkəs pozulub", ("nagorno-karabakh",)),
    ("az", "İsrail atəşkəsə baxmayaraq Livana hücum etdi", ("lebanon",)),
    ("az", "Azərbaycan XİN Qəzzada atəşkəsi alqışlayır", ("gaza-israel",)),
    # hy
    ("hy", "Ադրբեջանը կրակ է բացել Տավուշի ուղղությամբ", ("nagorno-karabakh",)),
    ("hy", "Հրադադարը խախտվել է Սյունիքում և Գորիսի մոտ", ("nagorno-karabakh",)),
    ("hy", "Իսրայելը խախտել է Գազայում հրադադարը", ("gaza-israel",)),
    ("hy", "Ուկրաինայում հրադադարը խախտվել է Խարկովի մոտ", ("ukraine",)),
    # he
    ("he", "הפסקת האש הופרה ברצועת עזה, צה\"ל תקף ברפיח", ("gaza-israel",)),
    ("he", "חיזבאללה ירה רקטות לעבר קריית שמונה למרות הפסקת האש", ("lebanon",)),
    ("he", "הצבא הסורי הפר את הפסקת האש", ("syria",)),
    ("he", "צפון קוריאה ירתה טילים", ("korea",)),
    ("he", "ארמניה ואזרבייג'ן מאשימות זו את זו בהפרת הפסקת האש", ("nagorno-karabakh",)),
]

# Words that look like places and are not (or are places nobody follows here).
FALSE_HITS: list[tuple[str, str]] = [
    ("en", "Georgia voters head to the polls as the truce holds"),
    ("en", "Jordan scores 30 in the season opener"),
    ("en", "Birmingham council agrees a truce with bin workers"),
    ("en", "Nurses call a truce over syringe shortages"),
    ("en", "Adam Smith calls for a ceasefire"),
    ("ru", "Горисполком объявил перемирие с арендаторами"),
    ("ru", "Фестиваль славянской культуры прошёл без происшествий"),
    ("uk", "Вони мали сирі дрова, а ліві партії оголосили перемир'я"),
    ("ar", "الاتفاق يمنع التصعيد رغم العراقيل"),
    ("tr", "Koreografi yarışmasında ateşkes"),
    ("he", "הכלב בכלוב, התוכנית שלוב בהפסקת האש"),
]


@pytest.fixture(scope="module")
def gazetteer(clf: Classifier) -> Gazetteer:
    """The shipped gazetteer."""
    return clf.gazetteer


@pytest.mark.parametrize(
    ("lang", "text", "regions"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_regions_from_text(
    gazetteer: Gazetteer, lang: str, text: str, regions: tuple[str, ...]
) -> None:
    assert gazetteer.tag(text).regions == regions, (lang, text)


@pytest.mark.parametrize(
    ("lang", "text"), FALSE_HITS, ids=[f"{c[0]}-{i}" for i, c in enumerate(FALSE_HITS)]
)
def test_false_hits_do_not_tag(gazetteer: Gazetteer, lang: str, text: str) -> None:
    assert gazetteer.tag(text).regions == (), (lang, text)


def test_the_gazetteer_tags_with_the_ids_of_the_one_regions_model(gazetteer: Gazetteer) -> None:
    """The bot reads the same model (core.regions): alert ids and subscription ids agree."""
    spec = load_regions(default_config_dir() / REGIONS_FILE)
    assert gazetteer.regions == tuple(r.id for r in spec.regions)


def test_regions_follow_the_order_of_mention(gazetteer: Gazetteer) -> None:
    text = "Armenia and Azerbaijan trade fire while the war in Ukraine goes on"
    assert gazetteer.tag(text).regions == ("nagorno-karabakh", "ukraine")


def test_classify_reports_the_regions_of_the_text(clf: Classifier) -> None:
    result = clf.classify("Shelling hits Horlivka and Odesa despite ceasefire", "", "en")
    assert result.regions == ("ukraine",)


def _spec(text: str, tmp_path: Path) -> Gazetteer:
    path = tmp_path / "regions.yaml"
    path.write_text(text, encoding="utf-8")
    return Gazetteer.from_file(path)


def test_weak_names_need_no_other_place_or_a_second_name(tmp_path: Path) -> None:
    gaz = _spec(
        "regions:\n"
        "  - {id: a, name: A, aliases: ['alpha'], weak: [['aland\\w*'], ['bland\\w*']]}\n"
        "  - {id: c, name: C, aliases: ['gamma']}\n",
        tmp_path,
    )
    assert gaz.tag("Aland truce").regions == ("a",)
    assert gaz.tag("Aland welcomes the Gamma truce").regions == ("c",)
    assert gaz.tag("Aland and Blanders break the truce; Gamma watches").regions == ("a", "c")


def test_longer_alias_wins_at_the_same_word(tmp_path: Path) -> None:
    gaz = _spec(
        "regions:\n"
        "  - {id: sudan, name: S, aliases: ['sudan\\w*']}\n"
        "  - {id: south, name: SS, aliases: ['sudan\\w* po[łl]udniow\\w*']}\n",
        tmp_path,
    )
    assert gaz.tag("Walki w Sudanie Południowym").regions == ("south",)
    assert gaz.tag("Walki w Sudanie").regions == ("sudan",)


def test_clitic_shorthands() -> None:
    assert alias_pattern("{ar}{al}غزة").endswith("غزه")  # folded like the text
    spec = RegionsFile.model_validate(
        {"regions": [{"id": "g", "name": "G", "aliases": ["{ar}{al}غزة", "{he}עזה"]}]}
    )
    gaz = Gazetteer(spec)
    for text in ("وبغزة", "للغزة", "بالغزة", "ובעזה", "מעזה", "שבעזה"):
        assert gaz.tag(text).regions == ("g",), text


def test_upper_case_escape_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"upper-case escape"):
        _spec("regions:\n  - {id: x, name: X, aliases: ['a\\Wb']}\n", tmp_path)
