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


def _u64(v):
    return struct.pack(">Q", v & 0xFFFFFFFFFFFFFFFF)


def _i64(v):
    return struct.pack(">q", v)


def _str(s):
    b = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else bytes(s)
    return struct.pack(">I", len(b)) + b


class _Header:
    """Reads the fields of a binary frame header (layout in docs/protocol.md)."""

    def __init__(self, data):
        self._b = data
        self._off = 0

    def _unpack(self, fmt, size):
        if self._off + size > len(self._b):
            raise FunctionError("malformed frame header from agent: it ends inside a field")
        (v,) = struct.unpack_from(fmt, self._b, self._off)
        self._off += size
        return v

    def u64(self):
        return self._unpack(">Q", 8)

    def i64(self):
        return self._unpack(">q", 8)

    def byte(self):
        return self._unpack(">B", 1)

    def count(self):
        n = self._unpack(">I", 4)
        if n > len(self._b) - self._off:
            raise FunctionError("malformed frame header from agent: a list longer than the header")
        return n

    def str(self):
        n = self._unpack(">I", 4)
        if self._off + n > len(self._b):
            raise FunctionError("malformed frame header from agent: it ends inside a field")
        v = self._b[self._off:self._off + n].decode("utf-8", "surrogateescape")
        self._off += n
        return v

    def datum(self):
        return {"key": self.str(), "off": self.i64(), "len": self.i64()}


def _decode_run(data):
    h = _Header(data)
    run = {"run": h.u64(), "invocation": h.str(), "function": h.str(), "index": h.i64(), "deadline_ms": h.i64()}
    inputs = []
    for _ in range(h.count()):
        name, flags = h.str(), h.byte()
        i = {"name": name, "list": bool(flags & 1), "value": h.datum() if flags & 2 else None}
        i["items"] = [h.datum() for _ in range(h.count())]
        inputs.append(i)
    run["inputs"] = inputs
    run["outputs"] = [{"name": h.str(), "foreach": bool(h.byte())} for _ in range(h.count())]
    return run


def _decode_data(data):
    h = _Header(data)
    return {"req": h.u64(), "error": h.str()}


class _Conn:
    def __init__(self, sock):
        self._sock = sock
        self._rfile = sock.makefile("rb", buffering=1 << 16)

    def read(self):
        """The next frame as (type, header bytes, body), or None at the end."""
        pre = self._rfile.read(9)
        if len(pre) < 9:
            return None
        n, typ, h = struct.unpack(">IBI", pre)
        if n < 5 or h > n - 5 or h > _MAX_HEADER:
            raise FunctionError("malformed frame from agent")
        header = self._read_exact(h)
        body = self._read_exact(n - 5 - h)
        return typ, header, body

    def _read_exact(self, n):
        data = self._rfile.read(n)
        if len(data) != n:
            raise EOFError("agent closed the connection mid-frame")
        return data

    def write(self, typ, header, body=b""):
        pre = struct.pack(">IBI", 5 + len(header) + len(body), typ, len(header))
        self._sock.sendall(pre + header)
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
        self._conn.write(T_GET, _u64(self._req) + _u64(self._run["run"]) + _str(key))
        while True:
            frame = self._conn.read()
            if frame is None:
                raise EOFError("agent closed the connection while an input was fetched")
            typ, header, body = frame
            if typ != T_DATA:
                continue  # cancel frames are ignored: the run goes on until it ends or the agent stops it
            data = _decode_data(header)
            if data["req"] == self._req:
                if data["error"]:
                    raise FunctionError(data["error"])
                return body

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
        self._conn.write(T_OUTPUT, _u64(self._run["run"]) + _str(name), _bytes(data))

    def output_json(self, name, value):
        """Publish value, encoded as JSON, as a normal output."""
        self.output(name, json.dumps(value, separators=(",", ":")))

    def post(self, name, item):
        """Publish one item of a foreach output: it starts one consumer run at once."""
        if not self._spec(name).get("foreach"):
            raise FunctionError("output %r of %s is not foreach: publish it with output" % (name, self.function))
        self._conn.write(T_OUTPUT, _u64(self._run["run"]) + _str(name), _bytes(item))

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
    conn.write(T_HELLO, _str(os.environ.get("FAASFLOW_INSTANCE", "")) + _str(os.environ.get("FAASFLOW_TOKEN", "")) + _str("python"))
    while True:
        frame = conn.read()
        if frame is None:
            return
        typ, header, body = frame
        if typ != T_RUN:
            continue
        run = _decode_run(header)
        call = Call(conn, run, body)
        error = ""
        cpu0 = time.process_time()
        st = time.time_ns()
        try:
            handler(call)
        except Exception:  # the run fails; the instance goes on serving
            error = traceback.format_exc()
        ed = time.time_ns()
        cpu = int((time.process_time() - cpu0) * 1e9)
        conn.write(T_DONE, _u64(run["run"]) + _i64(st) + _i64(ed) + _i64(cpu) + b"\0" + _str(error))
