"""The sentiment of a Markdown document, by VADER (vaderSentiment 3.3.2).

VADER scores a sentence at a time, so the document is cut into sentences:

- blocks are separated by blank lines, and fenced code blocks are skipped;
- the block markers that start a line (quote ">", heading "#", list item
  "-", "+", "*" or "1.") are dropped and the lines of a block joined;
- a sentence ends at ".", "!" or "?" followed by white space, or at the end
  of its block; sentences without a letter (a "---" rule) do not count.

The score is the mean of the sentences' compound scores (in [-1, 1]; VADER
calls above 0.05 positive and below -0.05 negative), 0.0 without sentences.

Run as a program, it prints the score of a file (or of its standard input)
as Python's repr, which reads back as the same float64:

    .venv/bin/python benchmarks/fileprocessing/sentiment/scorer.py doc.md
"""

import re
import sys

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_MARKERS = re.compile(r"[ \t]*(?:>[ \t]?)*[ \t]*(?:#{1,6}(?=[ \t]|$)|[-+*](?=[ \t])|[0-9]{1,9}[.)](?=[ \t]))?")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_LETTER = re.compile(r"[A-Za-z]")

_analyzer = None


def analyzer():
    """VADER's analyzer, loaded once; a clear error if it is not installed."""
    global _analyzer
    if _analyzer is None:
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        except ImportError as e:
            raise RuntimeError(
                "the sentiment function needs the Python package vaderSentiment, which %s cannot import (%s): "
                "run `make deps` in the repository to create .venv, and start workers with "
                "FAASFLOW_PYTHON=<repository>/.venv/bin/python (make test and the CI set it)" % (sys.executable, e)
            ) from None
        _analyzer = SentimentIntensityAnalyzer()
    return _analyzer


def _blocks(text):
    """The prose blocks of a Markdown text, each as one string."""
    block = []
    fence = None
    for line in text.splitlines():
        if fence is not None:
            m = _FENCE.match(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line[m.end():].strip():
                fence = None
            continue
        m = _FENCE.match(line)
        if m and not (m.group(1)[0] == "`" and "`" in line[m.end():]):
            if block:
                yield " ".join(block)
                block = []
            fence = m.group(1)
            continue
        if not line.strip():
            if block:
                yield " ".join(block)
                block = []
            continue
        block.append(line[_MARKERS.match(line).end():].strip())
    if block:
        yield " ".join(block)


def sentences(text):
    """The sentences of a Markdown text that contain a letter, in order."""
    for block in _blocks(text):
        for s in _SENTENCE_END.split(block):
            if _LETTER.search(s):
                yield s


def score(data):
    """The mean VADER compound score of the sentences of data (bytes or str)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data).decode("utf-8", errors="replace")
    vader = analyzer()
    total, n = 0.0, 0
    for s in sentences(data):
        total += vader.polarity_scores(s)["compound"]
        n += 1
    return total / n if n else 0.0


def main(argv):
    if len(argv) > 2:
        sys.exit("usage: scorer.py [FILE]  (prints the document's sentiment score)")
    if len(argv) == 2:
        with open(argv[1], "rb") as f:
            data = f.read()
    else:
        data = sys.stdin.buffer.read()
    try:
        print(repr(score(data)))
    except RuntimeError as e:
        sys.exit(str(e))


if __name__ == "__main__":
    main(sys.argv)
