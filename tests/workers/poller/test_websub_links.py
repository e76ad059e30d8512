"""WebSub discovery (Link header, Atom, RSS atom:link) and the push signature check."""

from __future__ import annotations

import hashlib
import hmac

from workers.poller.websub_links import Discovery, discover, signature_ok

FEED = "https://news.example.org/feed.xml"


def test_link_header_wins_over_the_document() -> None:
    header = ('<https://hub.example.net/>; rel="hub", <https://news.example.org/topic>; '
              'rel="self"')
    body = b'<feed xmlns="http://www.w3.org/2005/Atom"><link rel="hub" href="https://x.org/"/>'
    assert discover(body, header, FEED) == Discovery("https://hub.example.net/",
                                                     "https://news.example.org/topic")


def test_atom_links_and_rss_atom_links_with_any_prefix() -> None:
    atom = (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
            b"<link rel='self' href='https://news.example.org/atom'/>"
            b'<link href="https://pubsubhubbub.appspot.com/" rel="hub" />'
            b"<entry><link rel='hub' href='https://wrong.example.org/'/></entry></feed>")
    assert discover(atom, None, FEED) == Discovery("https://pubsubhubbub.appspot.com/",
                                                   "https://news.example.org/atom")
    rss = (b'<rss version="2.0" xmlns:a10="http://www.w3.org/2005/Atom"><channel>'
           b"<link>https://news.example.org/</link>"
           b'<a10:link rel="hub" href="/hub?x=1&amp;y=2"/></channel></rss>')
    # No rel=self: the URL the feed came from is the topic; a relative hub is resolved.
    assert discover(rss, None, FEED) == Discovery("https://news.example.org/hub?x=1&y=2", FEED)


def test_no_hub_or_an_unusable_one_is_none() -> None:
    assert discover(b"<rss><channel><link>https://a.org/</link></channel></rss>", None,
                    FEED) is None
    assert discover(b'<feed><link rel="hub" href="ftp://hub.example.org/"/></feed>', None,
                    FEED) is None
    assert discover(b'<feed><link rel="hub" href="http://[::1/"/></feed>', None, FEED) is None
    # A hub named only inside an entry is an entry's link, not the feed's.
    assert discover(b'<rss><channel><item><atom:link rel="hub" href="https://h.org/"/></item>'
                    b"</channel></rss>", None, FEED) is None


def test_signature_check() -> None:
    body, secret = b"<rss/>", "s3cret"
    good = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert signature_ok(secret, body, f"sha256={good}")
    assert signature_ok(secret, body, f"SHA256={good.upper()}")
    sha512 = hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()
    assert signature_ok(secret, body, f"sha512={sha512}")
    assert not signature_ok(secret, body + b" ", f"sha256={good}")
    assert not signature_ok("other", body, f"sha256={good}")
    assert not signature_ok(secret, body, None)
    assert not signature_ok(secret, body, good)  # no method
    assert not signature_ok(secret, body, f"md5={hashlib.md5(body).hexdigest()}")
    assert not signature_ok("", body, f"sha256={good}")
