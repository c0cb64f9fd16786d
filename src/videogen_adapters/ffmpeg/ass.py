"""Burnt-in captions as an ASS script for libass (pure text; nothing here runs ffmpeg).

Three looks (``generation_params.caption_style``):

* ``subtitle`` — the sentence cues at the bottom, as the soft track shows them;
* ``karaoke`` — a page of at most two lines at the bottom, the word being spoken
  highlighted (one event per word, so only that word is lit);
* ``bold`` — one to three big words at a time in the middle of the picture, the
  spoken one highlighted (the shorts look).

Everything is measured in output pixels (``PlayResX/Y`` = the video's size) and
derived from the output's width and height: the type size from its shorter
side, the **safe area** from its shape — for a landscape frame the classic
title-safe margins; for a tall frame (9:16, 4:5) wider margins at the top and
bottom, where the apps of short videos lay their buttons and texts. Lines are
broken here (``WrapStyle: 2``), by an estimate of each character's width that
errs on the wide side, and a page whose longest line would still not fit is
set smaller; so no caption leaves the safe area (checked on rendered pixels by
the tests). Text with no spaces (Chinese, Japanese) is broken between
characters, its word time shared by characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

import attrs

from videogen_core import Cue, Word
from videogen_core.captions import timed_words

__all__ = ["SafeArea", "ass_document", "safe_area", "text_width"]

_WHITE = "&H00FFFFFF"
_YELLOW = "&H0000E6FF"  # ASS colours are &HAABBGGRR
_BLACK = "&H00000000"
_SHADOW = "&H80000000"


@attrs.frozen
class SafeArea:
    """Margins in pixels that captions stay inside (left, top, right, bottom)."""

    left: int
    top: int
    right: int
    bottom: int

    def width(self, frame_width: int) -> int:
        """Width of the safe area of a frame ``frame_width`` pixels wide."""
        return frame_width - self.left - self.right


def safe_area(width: int, height: int) -> SafeArea:
    """The caption-safe area of a ``width`` x ``height`` frame."""
    if height >= 1.2 * width:  # tall: 9:16, 4:5 — keep clear of the apps' overlays
        tall = height >= 1.6 * width
        return SafeArea(round(0.08 * width), round((0.12 if tall else 0.08) * height),
                        round(0.08 * width), round((0.20 if tall else 0.12) * height))
    return SafeArea(round(0.05 * width), round(0.05 * height), round(0.05 * width),
                    round(0.08 * height))


#: Arabic letters sit low and small in Noto Sans Arabic next to Latin at one size:
#: pages with Arabic text are set this much larger.
_ARABIC_SCALE = 1.3


def _arabic(ch: str) -> bool:
    return "\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" or \
        "\ufb50" <= ch <= "\ufdff" or "\ufe70" <= ch <= "\ufeff"


def _char_em(ch: str, bold: bool) -> float:
    """A generous estimate of a character's advance in ems (Noto Sans)."""
    if ch == " ":
        return 0.27
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1.45 if unicodedata.category(ch) == "So" else 1.02  # emoji, CJK
    if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0.0
    if unicodedata.category(ch) == "So":
        return 1.45
    if _arabic(ch):
        return 0.55 * _ARABIC_SCALE * (1.07 if bold else 1.0)
    wide = ch.isupper() or ch in "mwMW@%&"
    em = 0.78 if wide else 0.36 if ch in "ilIjt.,;:!|'`" else 0.62
    return em * (1.07 if bold else 1.0)


#: libass sets a face so that its ascent + descent (not its em) is the ASS font size;
#: Noto Sans's are 1.069 + 0.293 em, so one em is 0.734 of the size.
_EM = 1 / 1.362


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Estimated width in pixels of ``text`` set at ASS font size ``size`` (errs wide)."""
    return sum(_char_em(ch, bold) for ch in text) * size * _EM


def _escape(text: str) -> str:
    """Text safe inside an ASS event (no override blocks, no hard breaks)."""
    return text.replace("\\", "\u29f5").replace("{", "(").replace("}", ")").replace("\n", " ")


@attrs.frozen
class _Look:
    size: float
    bold: bool
    lines: int  # most lines on one page (0: as many as needed)
    words: int  # most words on one page (0: no limit)
    chars: int  # most characters on one page (0: no limit)
    centred: bool
    highlight: bool
    outline: float
    shadow: float


def _look(style: str, width: int, height: int) -> _Look:
    unit = min(width, height)
    if style == "bold":
        return _Look(0.15 * unit, True, 2, 3, 18, True, True, 0.014 * unit, 0.007 * unit)
    if style == "karaoke":
        return _Look(0.09 * unit, True, 2, 0, 0, False, True, 0.008 * unit, 0.004 * unit)
    return _Look(0.068 * unit, False, 0, 0, 0, False, False, 0.005 * unit, 0.003 * unit)


def _tokens(cue: Cue) -> list[Word]:
    """The cue's timed words, words with no spaces inside long CJK runs cut into
    pieces of a few characters (each piece's time by its share of characters)."""
    out: list[Word] = []
    for word in cue.words:
        text = word.text
        wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in ("W", "F"))
        if wide < 2 or len(text) <= 6:
            out.append(word)
            continue
        step = 4
        pieces = [text[i:i + step] for i in range(0, len(text), step)]
        span = word.end - word.start
        t = word.start
        for piece in pieces:
            length = span * len(piece) / len(text)
            out.append(Word(t, t + length, piece))
            t += length
    return out


def _joiner(a: str, b: str) -> str:
    """What goes between two tokens on a line: nothing between pieces of one CJK word."""
    wide = ("W", "F")
    if a and b and unicodedata.east_asian_width(a[-1]) in wide and \
            unicodedata.east_asian_width(b[0]) in wide:
        return ""
    return " "


def _pages(tokens: list[Word], look: _Look, room: float) -> list[list[list[Word]]]:
    """Tokens in pages of lines: each line fits ``room`` pixels at ``look.size`` (a
    lone token too wide gets a line of its own and the page is set smaller), at
    most ``look.lines`` lines / ``look.words`` words / ``look.chars`` characters a
    page; a page also closes after a sentence end, and a bold page after a comma."""
    pages: list[list[list[Word]]] = []
    page: list[list[Word]] = []
    line: list[Word] = []
    count = chars = 0

    def close_page() -> None:
        nonlocal page, line, count, chars
        if line:
            page.append(line)
        if page:
            pages.append(page)
        page, line, count, chars = [], [], 0, 0

    for token in tokens:
        if line:
            candidate = _line_text([*line, token])
            if text_width(candidate, look.size, bold=look.bold) > room:
                page.append(line)
                line = []
                if look.lines and len(page) >= look.lines:
                    close_page()
        if (look.words and count >= look.words) or \
                (look.chars and chars and chars + len(token.text) > look.chars):
            close_page()
        line.append(token)
        count += 1
        chars += len(token.text) + 1
        end = token.text[-1:]
        if look.highlight and (end in ".!?…。！？" or (look.centred and end in ",;:，、")):
            close_page()
    close_page()
    return [_balanced(page, look) for page in pages]


def _balanced(page: list[list[Word]], look: _Look) -> list[list[Word]]:
    """The page's tokens in as many lines as it has, but of even lengths (the
    narrowest width that still needs no more lines), so no word is left alone."""
    if len(page) < 2:
        return page
    tokens = [t for line in page for t in line]

    def lines(room: float) -> list[list[Word]]:
        out: list[list[Word]] = [[]]
        for token in tokens:
            if out[-1] and text_width(_line_text([*out[-1], token]), look.size,
                                      bold=look.bold) > room:
                out.append([])
            out[-1].append(token)
        return out

    lo = max(text_width(t.text, look.size, bold=look.bold) for t in tokens)
    hi = max(text_width(_line_text(line), look.size, bold=look.bold) for line in page)
    for _ in range(20):
        mid = (lo + hi) / 2
        if len(lines(mid)) <= len(page):
            hi = mid
        else:
            lo = mid
    best = lines(hi)
    return best if len(best) <= len(page) else page


def _line_text(line: Sequence[Word]) -> str:
    out = ""
    for i, token in enumerate(line):
        out += (_joiner(line[i - 1].text, token.text) if i else "") + token.text
    return out


def _stamp(seconds: float) -> str:
    cs = max(0, round(seconds * 100))
    h, cs = divmod(cs, 360_000)
    m, cs = divmod(cs, 6000)
    s, cs = divmod(cs, 100)
    return f"{h}:{m:02d}:{s:02d}.{cs:02d}"


def _page_text(page: list[list[Word]], lit: Word | None) -> str:
    lines = []
    for line in page:
        parts = []
        for i, token in enumerate(line):
            joint = _joiner(line[i - 1].text, token.text) if i else ""
            text = _escape(token.text)
            if token is lit:
                text = f"{{\\c{_YELLOW}&}}{text}{{\\c{_WHITE}&}}"
            parts.append(joint + text)
        lines.append("".join(parts))
    return "\\N".join(lines)


def _page_size(page: list[list[Word]], look: _Look, room: float) -> float:
    """The page's font size: the look's (larger for Arabic), smaller if a line is too wide."""
    widest = max(text_width(_line_text(line), look.size, bold=look.bold) for line in page)
    arabic = any(_arabic(ch) for line in page for t in line for ch in t.text)
    size = look.size * (_ARABIC_SCALE if arabic else 1.0)
    # widths already count Arabic letters at the larger size
    return min(size, look.size * room / widest) if widest > 0 else size


def ass_document(cues: Iterable[Cue], style: str, width: int, height: int, *,
                 font: str = "Noto Sans") -> str:
    """The ASS script that burns ``cues`` in with ``style`` (``subtitle``,
    ``karaoke`` or ``bold``) on a ``width`` x ``height`` video."""
    look = _look(style, width, height)
    safe = safe_area(width, height)
    room = safe.width(width) - 2 * look.outline - look.shadow
    x = safe.left + safe.width(width) / 2
    if look.centred:
        y = height / 2 if height < 1.2 * width else safe.top + 0.55 * (
            height - safe.top - safe.bottom)
        place = f"\\an5\\pos({x:.0f},{y:.0f})"
    else:
        place = f"\\an2\\pos({x:.0f},{height - safe.bottom - look.shadow:.0f})"
    head = [
        "[Script Info]", "ScriptType: v4.00+", f"PlayResX: {width}", f"PlayResY: {height}",
        "WrapStyle: 2", "ScaledBorderAndShadow: yes", "YCbCr Matrix: TV.709", "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        f"Style: Caption,{font},{look.size:.1f},{_WHITE},{_WHITE},{_BLACK},{_SHADOW},"
        f"{-1 if look.bold else 0},0,0,0,100,100,0,0,1,{look.outline:.1f},{look.shadow:.1f},"
        # Encoding -1 (a libass extension): the Unicode bidi algorithm over the whole
        # line, base direction from the text; with 1, a colour change inside an
        # Arabic or Hebrew line put its words out of order
        f"2,{safe.left},{safe.right},{safe.bottom},-1",
        "", "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    events: list[str] = []

    def event(start: float, end: float, size: float, text: str) -> None:
        if end - start < 0.005:
            return
        sized = f"\\fs{size:.1f}" if abs(size - look.size) > 0.05 else ""
        events.append(f"Dialogue: 0,{_stamp(start)},{_stamp(end)},Caption,,0,0,0,,"
                      f"{{{place}{sized}}}{text}")

    timed = timed_words(cues)
    for n, cue in enumerate(timed):
        nxt = timed[n + 1].start if n + 1 < len(timed) else cue.end + 0.5
        pages = _pages(_tokens(cue), look, room)
        for k, page in enumerate(pages):
            first = page[0][0]
            start = cue.start if k == 0 else first.start
            end = pages[k + 1][0][0].start if k + 1 < len(pages) else cue.end
            if k + 1 == len(pages) and nxt - end < 0.6:  # bridge short gaps: no flicker
                end = max(end, nxt)
            size = _page_size(page, look, room)
            if not look.highlight:
                event(start, end, size, _page_text(page, None))
                continue
            tokens = [t for line in page for t in line]
            for i, token in enumerate(tokens):
                a = start if i == 0 else token.start
                b = tokens[i + 1].start if i + 1 < len(tokens) else end
                event(a, max(a, b), size, _page_text(page, token))
    return "\n".join([*head, *events]) + "\n"
