"""wordcount's count step in Python: the same counting rule as the Go
version (a word is a maximal run of ASCII letters, lower-cased), so both give
the same result."""

import collections
import re

import faasflow

WORD = re.compile(rb"[a-z]+")


def handler(call):
    text = call.input("file")
    counts = collections.Counter(w.decode() for w in WORD.findall(text.lower()))
    call.output_json("res", counts)


if __name__ == "__main__":
    faasflow.run(handler)
