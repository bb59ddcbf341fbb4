"""The accessibility check of course content (BITV 2.0 asks for accessible content, not only accessible pages).

It reads a lesson's Markdown as the author wrote it and names each finding by file and line:
errors (an image without alternative text, a lesson without a title, a skipped heading level, a
table without a header row, a video without captions or transcript) stop a sync and an upload like
a format problem; warnings (link texts such as "hier" or a bare address, an alternative text that is
only a file name) are shown and do not stop anything. The check works on texts, not on files, so the
web editor can run it on a draft and point at the same places.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# ``![alt](src "title")`` and ``[text](target "title")``; a link is not preceded by ``!``.
IMAGE_RE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
LINK_RE = re.compile(r"(?<!!)\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
AUTOLINK_RE = re.compile(r"<((?:https?://|www\.)[^>\s]+)>", re.I)
HEADING_RE = re.compile(r"^(#{1,6})(?:\s+(.*?))?\s*#*\s*$")
FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)")
TABLE_DELIMITER_RE = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
URL_TEXT_RE = re.compile(r"^(?:https?://|www\.)\S+$", re.I)
VIDEO_TAG_RE = re.compile(r"<video\b", re.I)
TRACK_RE = re.compile(r"<track\b[^>]*\bkind\s*=\s*[\"']?(?:captions|subtitles)", re.I)
VIDEO_SUFFIXES = (".mp4", ".webm", ".ogv", ".mov", ".m4v")
TRANSCRIPT_WORDS = ("transkript", "transcript", "untertitel", "captions", "subtitles", "textfassung")
# Link texts that say nothing about where the link leads, read out of context in a screen reader's link list.
VAGUE_LINK_TEXTS = {
    "hier", "here", "klicken sie hier", "hier klicken", "click here", "mehr", "more", "mehr lesen", "weiterlesen",
    "read more", "weiter", "link", "dieser link", "this link", "mehr erfahren", "learn more", "mehr dazu",
}
# Alternative texts that only name the file or say "image": the picture's content stays unknown.
EMPTY_ALT_WORDS = {"bild", "image", "foto", "photo", "grafik", "graphic", "abbildung", "picture", "screenshot", "img"}
IMAGE_NAME_RE = re.compile(r"^[\w.-]+\.(?:png|jpe?g|gif|svg|webp)$", re.I)


@dataclass(frozen=True)
class Finding:
    """One accessibility finding in a lesson: the file (``01-start.md``), the line, what is wrong."""

    file: str
    line: int
    reason: str
    error: bool = True  # errors stop a sync or upload; warnings are shown
    lesson: str | None = None  # the lesson's slug: where the web editor will point

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {'' if self.error else 'warning: '}{self.reason}"


def check_lesson(file: str, title: str | None, body: str, *, lesson: str | None = None,
                 course_files: Iterable[str] = ()) -> list[Finding]:
    """Check one lesson: its title and its Markdown ``body`` (the title line included, as in the file).

    ``course_files`` are the paths of the course's other files, so a video's ``.vtt`` captions
    beside it count as captions.
    """
    findings: list[Finding] = []

    def error(line: int, reason: str) -> None:
        findings.append(Finding(file, line, reason, True, lesson))

    def warning(line: int, reason: str) -> None:
        findings.append(Finding(file, line, reason, False, lesson))

    if not (title or "").strip():
        error(1, "the lesson has no title: start it with '# Title'")
    files = {name.lower() for name in course_files}
    lines = body.lstrip("\ufeff").splitlines()
    in_code = False
    previous_level = None
    videos: list[tuple[int, str]] = []
    has_transcript = False
    for number, line in enumerate(lines, start=1):
        if FENCE_RE.match(line):
            in_code = not in_code
            continue
        if in_code or line.startswith(("    ", "\t")):
            continue
        heading = HEADING_RE.match(line)
        if heading:
            level = len(heading.group(1))
            if previous_level is not None and level > previous_level + 1:
                error(number, f"heading level {level} follows level {previous_level}: a level is skipped "
                              f"(use {'#' * (previous_level + 1)})")
            if not (heading.group(2) or "").strip():
                error(number, "an empty heading")
            previous_level = level
            continue
        for alt, src in IMAGE_RE.findall(line):
            text = alt.strip()
            if not text:
                error(number, f"image {src!r} has no alternative text: ![what it shows]({src})")
            elif text.lower() in EMPTY_ALT_WORDS or IMAGE_NAME_RE.match(text) or text == src:
                warning(number, f"the alternative text {text!r} of image {src!r} does not say what it shows")
            if src.lower().endswith(VIDEO_SUFFIXES):
                videos.append((number, src))
        for text, target in LINK_RE.findall(line):
            label = re.sub(r"[*_`]", "", text).strip()
            plain = label.lower().rstrip(".:!…").strip()
            if not label:
                error(number, f"the link to {target!r} has no text")
            elif plain in VAGUE_LINK_TEXTS:
                warning(number, f"the link text {label!r} does not say where the link leads; name the target "
                                "(e.g. 'Formular Reisekosten')")
            elif URL_TEXT_RE.match(label):
                warning(number, f"the link text is a bare address {label!r}; name the target instead")
            if target.lower().endswith(".vtt") or any(word in plain for word in TRANSCRIPT_WORDS):
                has_transcript = True
            elif target.lower().split("?")[0].endswith(VIDEO_SUFFIXES):
                videos.append((number, target))
        for url in AUTOLINK_RE.findall(line):
            warning(number, f"the link text is a bare address {url!r}; write [what it is]({url})")
        if VIDEO_TAG_RE.search(line):
            if not TRACK_RE.search(line):
                videos.append((number, "<video>"))
        if _table_without_header(lines, number):
            error(number - 1, "the table has no header row: give every column a heading in its first row")
    for number, src in videos:
        captions = src.rsplit(".", 1)[0].removeprefix("./").lower() + ".vtt"
        if not has_transcript and captions not in files:
            error(number, f"the video {src!r} has no captions: add {captions!r} (WebVTT) beside it "
                          "or link a transcript in the lesson")
    return findings


def _table_without_header(lines: list[str], number: int) -> bool:
    """Whether line ``number`` (1-based) is a table's delimiter row under a header row of empty cells only."""
    line = lines[number - 1]
    if "|" not in line or not TABLE_DELIMITER_RE.match(line) or number < 2:
        return False
    header = lines[number - 2].strip()
    if "|" not in header:
        return False
    cells = [cell.strip() for cell in header.strip("|").split("|")]
    return not any(cells)


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.error]


def warnings(findings: Iterable[Finding]) -> list[Finding]:
    return [finding for finding in findings if not finding.error]


def check_course(lessons: Iterable, file: str = "course.toml") -> list[Finding]:
    """The course as a whole: it needs at least one lesson (a course of only a quiz teaches nothing)."""
    if not list(lessons):
        return [Finding(file, 1, "the course has no lessons: add at least one")]
    return []
