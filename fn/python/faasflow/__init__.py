"""FaaSFlow function SDK for Python.

A function is a program whose main module calls ``faasflow.run(handler)``::

    import faasflow

    def handler(call):
        text = call.input("text")
        call.output_json("words", len(text.split()))

    if __name__ == "__main__":
        faasflow.run(handler)

The worker agent starts the program as a long-lived instance that serves one
run at a time over the agent's Unix socket (see docs/protocol.md). Inputs are
fetched on demand; each output is handed to the agent as soon as it is
posted. An exception fails the run; its traceback is the error message.
"""

import json
import os
import socket
import struct
import sys
import time
import traceback

__all__ = ["run", "Call", "FunctionError"]

T_HELLO, T_RUN, T_OUTPUT, T_DONE, T_GET, T_DATA, T_CANCEL = 1, 2, 3, 4, 5, 6, 7
_MAX_HEADER = 1 << 20


class FunctionError(Exception):
    """Raised for misuse of the SDK: unknown inputs or outputs, and the like."""


class _Conn:
    def __init__(self, sock):
        self._sock = sock
        self._rfile = sock.makefile("rb", buffering=1 << 16)

    def read(self):
        pre = self._rfile.read(9)
        if len(pre) < 9:
            return None
        n, typ, h = struct.unpack(">IBI", pre)
        if n < 5 or h > n - 5 or h > _MAX_HEADER:
            raise FunctionError("malformed frame from agent")
        header = json.loads(self._read_exact(h))
        body = self._read_exact(n - 5 - h)
        return typ, header, body

    def _read_exact(self, n):
        data = self._rfile.read(n)
        if len(data) != n:
            raise EOFError("agent closed the connection mid-frame")
        return data

    def write(self, typ, header, body=b""):
        hdr = json.dumps(header, separators=(",", ":")).encode()
        pre = struct.pack(">IBI", 5 + len(hdr) + len(body), typ, len(hdr))
        self._sock.sendall(pre + hdr)
        if body:
            self._sock.sendall(body)


class Call:
    """One run of a function: its inputs, and where its outputs go."""

    def __init__(self, conn, run, body):
        self._conn = conn
        self._run = run
        self._body = body
        self._posted = set()
        self._req = 0
        self._inputs = {i["name"]: i for i in run.get("inputs") or []}
        self._outputs = {o["name"]: o for o in run.get("outputs") or []}

    @property
    def function(self):
        """The name of the running function."""
        return self._run["function"]

    @property
    def invocation(self):
        """The ID of the workflow invocation this run belongs to."""
        return self._run["invocation"]

    @property
    def index(self):
        """The item number when the function runs once per foreach item, else -1."""
        return self._run.get("index", -1)

    def inputs(self):
        """The names of the run's inputs."""
        return list(self._inputs)

    def outputs(self):
        """The names of the function's outputs."""
        return list(self._outputs)

    def _input(self, name):
        if name not in self._inputs:
            raise FunctionError("function %s has no input %r (inputs: %s)" % (self.function, name, ", ".join(self._inputs)))
        return self._inputs[name]

    def _datum(self, d):
        if d.get("key"):
            return self._fetch(d["key"])
        off, n = d.get("off", 0), d.get("len", 0)
        return self._body[off:off + n]

    def _fetch(self, key):
        self._req += 1
        self._conn.write(T_GET, {"req": self._req, "run": self._run["run"], "key": key})
        while True:
            frame = self._conn.read()
            if frame is None:
                raise EOFError("agent closed the connection while an input was fetched")
            typ, header, body = frame
            if typ == T_DATA and header.get("req") == self._req:
                if header.get("error"):
                    raise FunctionError(header["error"])
                return body
            # Cancel frames are ignored: the run goes on until it ends or the agent stops it.

    def input(self, name):
        """The bytes of a normal input (JSON for workflow inputs and *_json outputs)."""
        i = self._input(name)
        if i.get("list") or i.get("value") is None:
            raise FunctionError("input %r of %s is a list: read it with list_input" % (name, self.function))
        return self._datum(i["value"])

    def input_json(self, name):
        """A normal input decoded from JSON."""
        return json.loads(self.input(name))

    def list_input(self, name):
        """The items of a list (merge) input, in item order, as bytes."""
        i = self._input(name)
        if not i.get("list"):
            raise FunctionError("input %r of %s is not a list: read it with input" % (name, self.function))
        return [self._datum(d) for d in i.get("items") or []]

    def _spec(self, name):
        if name not in self._outputs:
            raise FunctionError("function %s has no output %r (outputs: %s)" % (self.function, name, ", ".join(self._outputs)))
        return self._outputs[name]

    def output(self, name, data):
        """Publish the value (bytes or str) of a normal output, at most once per run."""
        if self._spec(name).get("foreach"):
            raise FunctionError("output %r of %s is foreach: publish its items with post" % (name, self.function))
        if name in self._posted:
            raise FunctionError("output %r of %s was already published in this run" % (name, self.function))
        self._posted.add(name)
        self._conn.write(T_OUTPUT, {"run": self._run["run"], "name": name}, _bytes(data))

    def output_json(self, name, value):
        """Publish value, encoded as JSON, as a normal output."""
        self.output(name, json.dumps(value, separators=(",", ":")))

    def post(self, name, item):
        """Publish one item of a foreach output: it starts one consumer run at once."""
        if not self._spec(name).get("foreach"):
            raise FunctionError("output %r of %s is not foreach: publish it with output" % (name, self.function))
        self._conn.write(T_OUTPUT, {"run": self._run["run"], "name": name}, _bytes(item))

    def post_json(self, name, value):
        """Publish value, encoded as JSON, as one item of a foreach output."""
        self.post(name, json.dumps(value, separators=(",", ":")))


def _bytes(data):
    if isinstance(data, str):
        return data.encode()
    return bytes(data)


def run(handler):
    """Serve runs for the agent that started this process until it closes the connection."""
    path = os.environ.get("FAASFLOW_SOCKET")
    if not path:
        sys.exit("FAASFLOW_SOCKET is not set: function programs are started by a faasflow worker, not by hand")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    conn = _Conn(sock)
    conn.write(T_HELLO, {
        "instance": os.environ.get("FAASFLOW_INSTANCE", ""),
        "token": os.environ.get("FAASFLOW_TOKEN", ""),
        "language": "python",
    })
    while True:
        frame = conn.read()
        if frame is None:
            return
        typ, header, body = frame
        if typ != T_RUN:
            continue
        call = Call(conn, header, body)
        done = {"run": header["run"]}
        cpu0 = time.process_time()
        done["st"] = time.time_ns()
        try:
            handler(call)
        except Exception:  # the run fails; the instance goes on serving
            done["error"] = traceback.format_exc()
        done["ed"] = time.time_ns()
        done["cpu"] = int((time.process_time() - cpu0) * 1e9)
        conn.write(T_DONE, done)
