"""Test function: raises when its input is "raise", else passes it on."""

import faasflow


def handler(call):
    value = call.input_json("in")
    if value == "raise":
        raise ValueError("deliberate error from a Python function")
    call.output_json("out", value)


if __name__ == "__main__":
    faasflow.run(handler)
