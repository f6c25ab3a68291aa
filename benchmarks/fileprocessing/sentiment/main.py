"""fileprocessing's sentiment step: the VADER score of the document (see
scorer.py), posted as the output score, 8 bytes: a little-endian IEEE 754
double, the size FaaSFlow v1's workflow declares for it."""

import struct

import faasflow
import scorer


def handler(call):
    call.output("score", struct.pack("<d", scorer.score(call.input("file"))))


if __name__ == "__main__":
    # Load the lexicon while the instance starts rather than in its first
    # run; if vaderSentiment is missing, every run fails saying what to do.
    try:
        scorer.analyzer()
    except RuntimeError:
        pass
    faasflow.run(handler)
