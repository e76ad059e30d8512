"""Sentence splitting: evidence is a whole sentence, not a fragment cut at an abbreviation."""

from __future__ import annotations

import pytest

from workers.classifier.text import split_sentences


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        # month abbreviations followed by a digit (en, fr, es, de)
        (
            "Fighting resumed on Oct. 7 near the border. The truce collapsed.",
            ["Fighting resumed on Oct. 7 near the border.", "The truce collapsed."],
        ),
        (
            "The pause began on Sept. 1 and ended on Nov. 30. Shelling resumed.",
            ["The pause began on Sept. 1 and ended on Nov. 30.", "Shelling resumed."],
        ),
        ("La trêve du 5 janv. 2024 a tenu. Puis les tirs ont repris.", [
            "La trêve du 5 janv. 2024 a tenu.", "Puis les tirs ont repris."
        ]),
        # initials and initialisms
        (
            "U.S. Army officers said the truce held. The U.N. called for calm.",
            ["U.S. Army officers said the truce held.", "The U.N. called for calm."],
        ),
        (
            "Envoy J. Smith said the ceasefire was broken. Rockets fell overnight.",
            ["Envoy J. Smith said the ceasefire was broken.", "Rockets fell overnight."],
        ),
        (
            "Sanctions were imposed by the U.S. The truce collapsed a day later.",
            ["Sanctions were imposed by the U.S.", "The truce collapsed a day later."],
        ),
        # titles and ranks
        (
            "Lt. Gen. Ahmed and Dr. Haddad said the truce was violated. Mr. Cohen denied it.",
            ["Lt. Gen. Ahmed and Dr. Haddad said the truce was violated.", "Mr. Cohen denied it."],
        ),
        ("Sen. Graham criticised the truce vote.", ["Sen. Graham criticised the truce vote."]),
        # Polish: godz., ok., m.in., gen., tys., r.
        (
            "O godz. 14 doszło do ostrzału, m.in. Charkowa. Gen. Nowak potwierdził złamanie "
            "rozejmu. Zginęło ok. 20 osób, a ewakuowano 3 tys. mieszkańców.",
            [
                "O godz. 14 doszło do ostrzału, m.in. Charkowa.",
                "Gen. Nowak potwierdził złamanie rozejmu.",
                "Zginęło ok. 20 osób, a ewakuowano 3 tys. mieszkańców.",
            ],
        ),
        (
            "W lutym 2022 r. Rosja zerwała rozejm. Walki trwają.",
            ["W lutym 2022 r. Rosja zerwała rozejm.", "Walki trwają."],
        ),
        # Russian / Ukrainian: г., т.е., с., м.
        (
            "В г. Донецк, т.е. в центре города, нарушено перемирие. ВСУ обвинили ополченцев.",
            ["В г. Донецк, т.е. в центре города, нарушено перемирие.", "ВСУ обвинили ополченцев."],
        ),
        (
            "Обстріляно с. Зайцеве та м. Торецьк попри перемир'я. Є поранені.",
            ["Обстріляно с. Зайцеве та м. Торецьк попри перемир'я.", "Є поранені."],
        ),
        # German: z.B., Nr., ordinal dates
        (
            "Seit dem 7. Oktober gilt keine Waffenruhe, z.B. in Nr. 5 des Plans. "
            "Die Kämpfe gehen weiter.",
            [
                "Seit dem 7. Oktober gilt keine Waffenruhe, z.B. in Nr. 5 des Plans.",
                "Die Kämpfe gehen weiter.",
            ],
        ),
        # French: M. (Monsieur)
        (
            "M. Macron a appelé au cessez-le-feu. Le Hamas refuse.",
            ["M. Macron a appelé au cessez-le-feu.", "Le Hamas refuse."],
        ),
        # "No." before a number, "no." at the end of a sentence
        (
            "She said no. Resolution No. 2735 calls for a ceasefire.",
            ["She said no.", "Resolution No. 2735 calls for a ceasefire."],
        ),
        # sentences that start with a number still split
        (
            "The toll rose to 27. Rescuers said fighting goes on.",
            ["The toll rose to 27.", "Rescuers said fighting goes on."],
        ),
        # closing quotes, bullets and wide gaps
        (
            'He said "the truce is over." Shelling resumed.  Next item • Another one',
            ['He said "the truce is over."', "Shelling resumed.", "Next item", "Another one"],
        ),
        # Armenian full stop, also typed as a colon after an Armenian letter
        (
            "Հրադադարը խախտվել է Տավուշում: Ադրբեջանը հերքում է։ Կրակոցները շարունակվում են",
            [
                "Հրադադարը խախտվել է Տավուշում:",
                "Ադրբեջանը հերքում է։",
                "Կրակոցները շարունակվում են",
            ],
        ),
        # Arabic question mark, Hebrew full stop
        (
            "هل انهارت الهدنة؟ القصف مستمر في غزة.",
            ["هل انهارت الهدنة؟", "القصف مستمر في غزة."],
        ),
        ("הפסקת האש הופרה. צה\"ל תקף ברפיח.", ["הפסקת האש הופרה.", "צה\"ל תקף ברפיח."]),
    ],
)
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_lower_case_after_a_stop_goes_on_in_any_script() -> None:
    assert split_sentences("Ewakuowano 3 tys. żołnierzy. Rozejm trwa.") == [
        "Ewakuowano 3 tys. żołnierzy.",
        "Rozejm trwa.",
    ]

