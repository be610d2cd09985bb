"""``aro serve``: real supervisors with real worker processes on ephemeral ports, talked to over
sockets and stopped by PID (tests/support/live.py kills whatever is left).

A WebSocket's worker is read from the ``X-Aro-Worker`` header of its 101, an HTTP answer's from
the same header; connections land on a worker by the kernel's SO_REUSEPORT hash, so a test
opens connections until it has one on each worker (bounded: all on one worker forty times in
a row has odds of 2^-39).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from aro.config import OPTIONS
from aro.supervisor import INDEX_VARIABLE, NOTIFY_VARIABLE
from tests.support.live import HTTP_STARTED, ROOT, SOCKET_STARTED, LiveApp, launch
from tests.support.redis_server import free_port, redis_server

WEBCHAT = ROOT / "examples" / "WebChat"
ECHO = ROOT / "examples" / "WebSocketEcho"
HELLO = ROOT / "examples" / "HelloAPI"
WORKER_STARTED = r"Worker (\d+) started \(pid (\d+)\)"
ATTEMPTS = 40
RECEIVE_SECONDS = 10.0
STORM_LIMIT = 2000  # most POSTs one poster of a storm sends


@contextmanager
def serving(app: Path, *arguments: str, workers: int = 2) -> Iterator[tuple[LiveApp, int]]:
    """``aro serve --workers N --port 0 APP``, once every worker accepts: the app and its port."""
    with launch(app, "--workers", str(workers), "--port", "0", *arguments, command="serve") as live:
        ports = {int(m.group(1)) for m in live.wait_for_all(HTTP_STARTED, workers)}
        assert len(ports) == 1, ports  # every worker on the one port
        yield live, ports.pop()


def request(port: int, method: str, path: str, payload: object = None) -> tuple[int, str, bytes]:
    """One request on a new connection: status, the answering worker, body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = None if payload is None else json.dumps(payload)
        headers = {} if payload is None else {"Content-Type": "application/json"}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("X-Aro-Worker"), response.read()
    finally:
        connection.close()


def worker_of(client: ClientConnection) -> str:
    return client.response.headers["X-Aro-Worker"]


def clients_on_every_worker(
    port: int, stack: ExitStack, workers: int = 2
) -> list[ClientConnection]:
    """WebSocket clients, at least one on each worker (all of them stay open)."""
    clients: list[ClientConnection] = []
    for _ in range(ATTEMPTS):
        clients.append(stack.enter_context(connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10)))
        if len({worker_of(client) for client in clients}) == workers:
            return clients
    raise AssertionError(f"every client landed on worker {worker_of(clients[0])}")


def receive_text(client: ClientConnection, containing: str) -> str:
    """The next message that contains ``containing`` (others, such as welcomes, skipped)."""
    deadline = time.monotonic() + RECEIVE_SECONDS
    while True:
        message = client.recv(timeout=max(0.0, deadline - time.monotonic()))
        if containing in message:
            return message


def wait_for_error_line(live: LiveApp, text: str) -> None:
    """Wait (bounded) for the supervisor or a worker to say ``text`` on stderr."""
    deadline = time.monotonic() + 2 * RECEIVE_SECONDS
    while not any(text in line for line in live.errors):
        assert time.monotonic() < deadline, live.errors
        time.sleep(0.1)


def test_a_broadcast_in_one_worker_reaches_the_clients_of_every_worker() -> None:
    with serving(WEBCHAT) as (live, port), ExitStack() as stack:
        clients = clients_on_every_worker(port, stack)
        status, worker, _ = request(port, "POST", "/messages", {"message": "to everyone"})
        assert status == 201 and worker in ("0", "1")
        for client in clients:
            assert json.loads(receive_text(client, "to everyone"))["message"] == "to everyone"
        started = {m.group(1) for m in live.wait_for_all(WORKER_STARTED, 2)}
        assert started == {"0", "1"}  # each worker names itself in its start-up log


def test_send_reaches_a_connection_that_another_worker_holds() -> None:
    with serving(ECHO) as (_, port), connect(f"ws://127.0.0.1:{port}/ws") as client:
        held_by = worker_of(client)
        connection_id = receive_text(client, "welcome ").removeprefix("welcome ")
        for attempt in range(ATTEMPTS):
            text = f"whisper {attempt}"
            payload = {"target": connection_id, "text": text}
            status, worker, _ = request(port, "POST", "/whisper", payload)
            assert status == 200
            if worker != held_by:
                assert receive_text(client, text) == text
                return
        raise AssertionError("every request was answered by the client's own worker")


def test_sigterm_drains_closes_websockets_with_1001_and_exits() -> None:
    with serving(WEBCHAT) as (live, port), ExitStack() as stack:
        clients = clients_on_every_worker(port, stack)
        live.sigterm()
        for client in clients:
            with pytest.raises(ConnectionClosed) as closed:
                client.recv(timeout=RECEIVE_SECONDS)
            assert closed.value.rcvd.code == 1001
        code, lines = live.terminate(timeout=30)
        assert code == 0
        assert lines.count("[Application-End] Web Chat shutting down...") == 2  # once per worker


def test_sighup_reloads_changed_templates_and_keeps_connected_clients(tmp_path: Path) -> None:
    app = tmp_path / "WebChat"
    shutil.copytree(WEBCHAT, app)
    with serving(app) as (live, port), ExitStack() as stack:
        clients = clients_on_every_worker(port, stack)
        page = app / "templates" / "index.html"
        page.write_text(page.read_text().replace("</body>", "<p>reloaded</p></body>"))
        live.sigterm(signal.SIGHUP)
        live.wait_for_all(WORKER_STARTED, 4)  # two fresh workers
        live.wait_for_all(r"Worker \d retired", 2)  # the old ones accept no more
        for _ in range(4):  # every worker that answers now has read the new template
            _, _, body = request(port, "GET", "/home")
            assert b"<p>reloaded</p>" in body
        status, _, _ = request(port, "POST", "/messages", {"message": "after the reload"})
        assert status == 201
        for client in clients:  # still connected to the retired workers, on the bus
            assert "after the reload" in receive_text(client, "after the reload")


def test_a_killed_worker_is_replaced() -> None:
    with serving(WEBCHAT) as (live, port):
        index, pid = live.wait_for(WORKER_STARTED).groups()
        os.kill(int(pid), signal.SIGKILL)
        replacement = live.wait_for_all(rf"Worker {index} started \(pid (\d+)\)", 2)[1]
        assert int(replacement.group(1)) != int(pid)
        live.wait_for_all(HTTP_STARTED, 3)
        for _ in range(6):
            assert request(port, "GET", "/messages")[0] == 200


def listed_by_every_worker(port: int) -> dict[str, list[str]]:
    """The message texts GET /messages lists, as each worker answers it (bounded attempts)."""
    listings: dict[str, list[str]] = {}
    for _ in range(ATTEMPTS):
        status, worker, body = request(port, "GET", "/messages")
        assert status == 200
        listings[worker] = [row["message"] for row in json.loads(body)["data"]]
        if len(listings) == 2:
            return listings
    raise AssertionError(f"every listing came from worker {next(iter(listings))}")


def test_every_worker_lists_the_same_messages_from_the_shared_store() -> None:
    with serving(WEBCHAT) as (_, port):  # two workers and no --store: a private SQLite file
        sent = [f"message {n}" for n in range(6)]
        answered_by = {request(port, "POST", "/messages", {"message": text})[1] for text in sent}
        listings = listed_by_every_worker(port)
        assert listings["0"] == listings["1"] == sent
        assert answered_by <= {"0", "1"}


def post_until(port: int, stop: threading.Event, acknowledged: list[str], prefix: str) -> None:
    """POST distinct messages until ``stop``; keep the ones answered 201.  A worker killed
    mid-request resets its connection: that message was never acknowledged."""
    for n in range(STORM_LIMIT):
        if stop.is_set():
            return
        text = f"{prefix} {n}"
        try:
            if request(port, "POST", "/messages", {"message": text})[0] == 201:
                acknowledged.append(text)
        except (OSError, http.client.HTTPException):
            time.sleep(0.01)


def test_a_worker_killed_in_a_post_storm_loses_and_repeats_no_acknowledged_message() -> None:
    with serving(WEBCHAT) as (live, port):
        index, pid = live.wait_for(WORKER_STARTED).groups()
        stop = threading.Event()
        acknowledged: list[list[str]] = [[], []]
        posters = [
            threading.Thread(target=post_until, args=(port, stop, acknowledged[n], f"storm {n}"))
            for n in range(2)
        ]
        for poster in posters:
            poster.start()
        try:
            deadline = time.monotonic() + RECEIVE_SECONDS
            while sum(map(len, acknowledged)) < 40 and time.monotonic() < deadline:
                time.sleep(0.01)
            os.kill(int(pid), signal.SIGKILL)
            replacement = live.wait_for_all(rf"Worker {index} started \(pid (\d+)\)", 2)[1]
            assert int(replacement.group(1)) != int(pid)
            live.wait_for_all(HTTP_STARTED, 3)
        finally:
            stop.set()
            for poster in posters:
                poster.join(timeout=30)
        listings = listed_by_every_worker(port)
        assert listings["0"] == listings["1"]
        listed = listings["0"]
        assert len(listed) == len(set(listed))  # none twice
        for texts in acknowledged:
            assert texts, "a poster had no message acknowledged"
            assert set(texts) <= set(listed)  # every 201 is still there


def test_sigterm_stops_the_server_even_when_nobody_reads_its_log_any_more() -> None:
    """As after ``aro serve … 2>&1 | head``: the supervisor's stderr is a pipe nobody reads."""
    read_end, write_end = os.pipe()
    command = [sys.executable, "-m", "aro", "serve", str(WEBCHAT), "--workers", "1", "--port", "0"]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=write_end,
                              text=True)
    os.close(write_end)
    try:
        deadline = time.monotonic() + 2 * RECEIVE_SECONDS
        while "HTTP Server started" not in server.stdout.readline():
            assert time.monotonic() < deadline and server.poll() is None
        os.close(read_end)  # the log's reader is gone
        read_end = None
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    finally:
        if read_end is not None:
            os.close(read_end)
        if server.poll() is None:
            server.kill()
            server.wait()


def aro_serve(*arguments: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aro", "serve", *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


def test_a_program_that_does_not_compile_stops_before_any_worker(tmp_path: Path) -> None:
    (tmp_path / "main.aro").write_text("(Application-Start: Broken) {\n    Log to.\n}\n")
    result = aro_serve(str(tmp_path), "--workers", "2", "--port", "0")
    assert result.returncode == 1
    assert result.stdout.startswith("Compilation errors:")
    assert "Worker" not in result.stdout


def test_workers_that_cannot_start_make_it_give_up_at_once() -> None:
    with socket.socket() as taken:  # a plain listener: SO_REUSEPORT cannot share it
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = aro_serve(str(WEBCHAT), "--workers", "2", "--port", str(taken.getsockname()[1]))
    assert result.returncode == 1
    assert "keeps failing at start: giving up" in result.stderr
    assert "restarting" not in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--workers", "0"], "Error: --workers must be a whole number of at least 1 (got '0')"),
        (["--workers", "-3"], "Error: --workers must be a whole number of at least 1 (got '-3')"),
        (["--bus", "nats://queue:4222"], "Error: --bus must be local or redis://HOST:PORT[/DB]"),
        (["--bus", f"redis://127.0.0.1:{free_port()}"], "Error: --bus cannot reach Redis at "),
    ],
)
def test_bad_configuration_is_one_line_and_exit_2(arguments: list[str], message: str) -> None:
    result = aro_serve(str(WEBCHAT), *arguments)
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_two_servers_on_one_redis_form_one_chat(tmp_path: Path) -> None:
    with redis_server(tmp_path) as redis, ExitStack() as stack:
        ports = [
            stack.enter_context(serving(WEBCHAT, "--bus", redis.url, workers=1))[1]
            for _ in range(2)
        ]
        client = stack.enter_context(connect(f"ws://127.0.0.1:{ports[1]}/ws"))
        status, _, _ = request(ports[0], "POST", "/messages", {"message": "across servers"})
        assert status == 201
        assert json.loads(receive_text(client, "across servers"))["message"] == "across servers"


def test_metrics_describe_every_worker() -> None:
    with serving(HELLO) as (_, port):
        answered = set()
        for _ in range(ATTEMPTS):
            answered.add(request(port, "GET", "/hello")[1])
            if answered == {"0", "1"}:
                break
        deadline = time.monotonic() + RECEIVE_SECONDS  # each worker flushes every second
        while True:
            body = request(port, "GET", "/metrics")[2].decode()
            lines = [line for line in body.splitlines() if 'operation="sayHello"' in line]
            if len(lines) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert {line.split('worker="')[1][0] for line in lines} == {"0", "1"}


def test_the_supervisor_and_the_config_name_the_same_variables() -> None:
    variables = {option.name: option.metadata["env"] for option in OPTIONS}
    assert (variables["worker"], variables["notify_fd"]) == (INDEX_VARIABLE, NOTIFY_VARIABLE)


def test_a_reload_whose_new_code_does_not_compile_keeps_the_old_workers(tmp_path: Path) -> None:
    app = tmp_path / "WebChat"
    shutil.copytree(WEBCHAT, app)
    with serving(app) as (live, port):
        (app / "api.aro").write_text("(getMessages: Web Chat API) {\n    Retrieve to.\n}\n")
        live.sigterm(signal.SIGHUP)
        wait_for_error_line(live, "the old ones serve on")
        for _ in range(4):
            assert request(port, "GET", "/messages")[0] == 200
        assert live.process.poll() is None


def test_a_reload_keeps_tcp_clients_and_sends_newcomers_to_the_fresh_worker() -> None:
    arguments = ("--workers", "1", "--socket-port", str(free_port()))
    with launch(ROOT / "examples" / "EchoTCP", *arguments, command="serve") as live:
        port = live.port(SOCKET_STARTED)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as old_client:
            assert old_client.recv(256).startswith(b"welcome ")
            live.sigterm(signal.SIGHUP)
            live.wait_for(r"Worker 0 retired")
            old_client.sendall(b"still here")
            assert old_client.recv(256) == b"still here"
            # the retired worker no longer listens: only the fresh one can welcome it
            with socket.create_connection(("127.0.0.1", port), timeout=10) as newcomer:
                assert newcomer.recv(256).startswith(b"welcome ")


def test_a_worker_that_keeps_crashing_after_start_is_restarted_ever_more_slowly(
    tmp_path: Path,
) -> None:
    (tmp_path / "main.aro").write_text(
        "(Application-Start: Crashy) {\n"
        "    Start the <http-server> with {}.\n"
        "    Throw a <ServiceUnavailable: error> for the <startup>.\n"
        "}\n"
    )
    with launch(tmp_path, "--workers", "1", "--port", "0", command="serve") as live:
        for delay in ("0.5s", "1s", "2s"):
            wait_for_error_line(live, f"restarting worker 0 in {delay}")
        code, _ = live.terminate(timeout=30)
    assert code == 0
