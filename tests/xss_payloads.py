"""Hostile text for the cross-site scripting tests: the payloads, and content files that carry them."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

PROBE = "xssprobe"  # a word every hostile note shares, so one search lists them all


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def payloads() -> list[str]:
    """Every payload, numbered: payload ``n`` tries to set ``top.__xss_<n>`` (some also alert)."""
    templates = [
        "<script>{m}</script>",
        "<SCRIPT>{m}</SCRIPT>",
        "<ScRiPt>{m}</sCrIpT>",
        "<script src=data:text/javascript,{m}></script>",
        "<scr<script>ipt>{m}</scr</script>ipt>",
        "<img src=x onerror={m}>",
        '<img src="x" onerror="{m};alert({n})">',
        "<IMG SRC=x OnErRoR={m}>",
        "<img src=x onerror=&#x74;&#x6f;&#x70;.__xss_{n}=1>",
        "<svg onload={m}>",
        "<svg><script>{m}</script></svg>",
        '<svg><a xlink:href="javascript:{m}"><text y="20">x</text></a></svg>',
        '<svg><animate onbegin={m} attributeName=x dur=1s></svg>',
        "<math><mtext><table><mglyph><style><img src=x onerror={m}>",
        '<noscript><p title="</noscript><img src=x onerror={m}>">',
        "<body onload={m}>",
        '<iframe src="javascript:{m}"></iframe>',
        '<iframe srcdoc="<script>{m}</script>"></iframe>',
        '<object data="javascript:{m}"></object>',
        '<object data="data:text/html;base64,{b64}"></object>',
        '<embed src="javascript:{m}">',
        '<a href="javascript:{m}">click</a>',
        '<a href="JaVaScRiPt:{m}">click</a>',
        '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;{m}">click</a>',
        '<a href="java&#x09;script:{m}">click</a>',
        '<a href=" javascript:{m}">click</a>',
        '<a href="vbscript:{m}">click</a>',
        '<a href="data:text/html;base64,{b64}">click</a>',
        '<a href="#" onclick="{m}">click</a>',
        '<a href="https://example.org/{n}" target="_blank">outside {n}</a>',
        "[md link {n}](javascript:{m})",
        "[md link {n}](JAVASCRIPT:{m})",
        "[md link {n}](data:text/html;base64,{b64})",
        "![md image {n}](javascript:{m})",
        "![md image {n}](data:image/svg+xml;base64,{b64})",
        "[ref link {n}][r{n}]\n\n[r{n}]: javascript:{m}",
        "<javascript:{m}>",
        '<div style="background:url(javascript:{m})">css {n}</div>',
        '<div style="width: expression({m})">css {n}</div>',
        "<style>@import 'javascript:{m}';</style>",
        '<link rel=stylesheet href="javascript:{m}">',
        '<meta http-equiv="refresh" content="0;url=javascript:{m}">',
        '<base href="javascript:{m}//">',
        '"><script>{m}</script>',
        "'><script>{m}</script>",
        '" onmouseover="{m}" x="',
        "</textarea><script>{m}</script>",
        "</title><script>{m}</script>",
        "--><script>{m}</script><!--",
        "<![CDATA[<script>{m}</script>]]>",
        "{{{{7*7}}}}<script>{m}</script>",
        "{{% raw %}}{{{{ config }}}}<img src=x onerror={m}>",
        "${{7*7}}#{{{m}}}<svg onload={m}>",
        "<details open ontoggle={m}>",
        "<video><source onerror={m}></video>",
        "<audio src=x onerror={m}>",
        "<input autofocus onfocus={m}>",
        "<marquee onstart={m}>x</marquee>",
        "<form><button formaction=javascript:{m}>x</button></form>",
        '<table background="javascript:{m}"><tr><td>x</td></tr></table>',
        "<x onclick={m}>click {n}",
        "&lt;script&gt;{m}&lt;/script&gt;",
        "\\u003cscript\\u003e{m}\\u003c/script\\u003e",
        "`<script>{m}</script>`",
        "```\n<script>{m}</script>\n```",
        "<a href=javascript&colon;{m}>click</a>",
    ]
    out = []
    for n, template in enumerate(templates):
        code = f"top.__xss_{n}=1"
        out.append(template.format(m=code, n=n, b64=_b64(f"<script>{code}</script>")))
    return out


PAYLOADS = payloads()


def groups(items: list[str], limit: int, separator: str = " ") -> list[list[str]]:
    """``items`` packed in order into groups whose joined length stays within ``limit``."""
    packed: list[list[str]] = [[]]
    for item in items:
        if packed[-1] and len(separator.join([*packed[-1], item])) > limit:
            packed.append([])
        packed[-1].append(item)
    return packed


def one_line(payload: str) -> str:
    return " ".join(payload.split())


def note_for(group: list[str], number: int) -> dict:
    """A valid note carrying ``group`` in its title, speakers, tags and (in several Markdown contexts) body."""
    lines = [one_line(p) for p in group]
    speakers = [p for p in lines if len(p) <= 100 and not re.search(r"[,;]", p)] or ["Probe Speaker"]
    tags = [p for p in lines if len(p) <= 50 and not re.search(r"[,;]", p)]
    body = "\n\n".join([
        f"{PROBE} note {number}",
        *group,
        "\n".join(f"- item {line}" for line in lines),
        "\n".join(f"> {line}" for line in lines),
        "\n".join(f"[{line}](https://example.org/{number})" for line in lines),
        "| a | b |\n|---|---|\n" + "\n".join(f"| {line.replace('|', '')} | x |" for line in lines),
    ])
    return {"title": " ".join(lines), "date": "2026-03-01", "speakers": speakers, "tags": tags,
            "language": "en", "format": "workshop", "body": body}


def hostile_content(content: Path) -> list[str]:
    """Forum threads (both shapes) and a saved HTML article full of payloads; returns their ids."""
    lines = [one_line(p) for p in PAYLOADS]
    simple = {
        "title": " ".join(lines[:6]),
        "category": lines[0],
        "tags": lines[5:12],
        "language": "en",
        "posts": [{"author": one_line(p)[:80], "date": "2025-06-03T09:12:00Z", "body": f"{PROBE} {p}",
                   "accepted": number == 1} for number, p in enumerate(PAYLOADS)],
    }
    discourse = {
        "id": 99, "title": " ".join(lines[6:12]), "category_id": lines[1], "tags": [{"name": lines[7]}, lines[8]],
        "accepted_answer": {"post_number": 2},
        "post_stream": {"posts": [
            {"username": f"user{number}", "name": one_line(p)[:80], "created_at": "2025-01-02T10:00:00.000Z",
             "cooked": f"<p>{PROBE}</p>{p}", "post_number": number + 1}
            for number, p in enumerate(PAYLOADS)
        ]},
    }
    escaped = [html.escape(line, quote=True) for line in lines]
    article = (
        f'<!DOCTYPE html><html lang="en"><head><title>{escaped[0]}</title>'
        f'<meta name="kb:shared-by" content="{escaped[5]}">'
        f'<meta name="keywords" content="{escaped[9]}, {escaped[21]}">'
        f'<meta name="description" content="{escaped[17]}">'
        f'<link rel="canonical" href="javascript:top.__xss_canonical=1">'
        f"</head><body><main><article><h1>{' '.join(escaped[:8])}</h1><p>{PROBE}</p>"
        + "".join(f"<div>{p}</div>" for p in PAYLOADS)
        + "</article></main></body></html>"
    )
    (content / "forum" / "hostile-simple.json").write_text(json.dumps(simple), encoding="utf-8")
    (content / "forum" / "hostile-discourse.json").write_text(json.dumps(discourse), encoding="utf-8")
    (content / "articles" / "hostile-page.html").write_text(article, encoding="utf-8")
    return ["forum/hostile-simple", "forum/hostile-discourse", "articles/hostile-page"]
