"""A pre-loaded parent of sandbox workers: the interpreter and torch start once.

Started by the judge (grader/sandbox/spawner.py) as ``python -s -B zygote.py
--socket FD --library torch`` from its own copies of the runtime scripts,
with a clean environment and a single thread (no BLAS or OpenMP pools). It
imports numpy, torch and the worker code, and nothing of the grader, the
reference or the checks: a fork of it holds nothing a submission may not
see. Then, for each request on its socket (a JSON launcher config with the
worker's request, response, output and status pipe ends attached), it forks;
the child runs exactly the launcher's steps (namespaces, hidden files,
supervisor, private uid, rlimits: grader/sandbox/launcher.py) and serves the
worker in the forked process instead of exec'ing a fresh interpreter. The
judge gets back the child's pid and a pidfd, to signal it without pid-reuse
races, and reads its exit status from the status pipe.

It exits when the judge closes the socket or goes away. Standard library,
numpy and (for torch assignments) torch only.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import select
import shutil
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import launcher  # noqa: E402
import numpy  # noqa: E402,F401  (imported for the workers)
import reaper  # noqa: E402
import worker  # noqa: E402

MAX_REQUEST = 1 << 20
PIPES = ("request", "response", "output", "arena", "status")
PR_SET_NAME = 15


def preload(library: str) -> None:
    """Import what every worker needs, single-threaded, before any fork."""
    if library == "torch":
        import torch

        torch.set_num_threads(1)


def serve_worker(config: dict, isolation: list[str]) -> None:
    """The launcher's `start` in a fork: take the sandbox's environment and name, serve."""
    os.environ.clear()
    os.environ.update(config["env"])
    name = reaper.marker_name(config.get("token", ""))
    if name:  # forked children keep this name, exec'd ones the environment marker
        ctypes.CDLL(None).prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()), 0, 0, 0)
    worker.serve(config["fds"]["request"], config["fds"]["response"], library=config["library"],
                 module=config["module"], file=config["file"], isolation=",".join(isolation) or "none",
                 result_bytes=int(float(config["result_mb"]) * worker.MiB),
                 memory_mb=float(config.get("memory_mb", 0)), arena_fd=config["fds"]["arena"],
                 harness=str(config.get("harness", "")), data_dir=str(config.get("data_dir", "")))


def child(config: dict, fds: dict[str, int]) -> None:
    """In the forked child: a new session, the output pipe as stdout and stderr,
    no other descriptor of the zygote's, then the launcher. Never returns."""
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fds["output"], 1)
        os.dup2(fds["output"], 2)
        keep = {0, 1, 2, fds["request"], fds["response"], fds["arena"], fds["status"]}
        for entry in os.listdir("/proc/self/fd"):
            if int(entry) not in keep:
                try:
                    os.close(int(entry))
                except OSError:
                    pass
        config["fds"] = fds
        # Watch the judge itself, not this zygote: should the zygote end first,
        # the workers it forked carry on with the judge that asked for them.
        judge = os.pidfd_open(int(config["judge_pid"]))
        launcher.launch(config, serve_worker, status_fd=fds["status"], judge_fd=judge)
    except BaseException as exc:  # noqa: BLE001 - anything here is a failed start
        try:
            os.write(2, f"gradecheck zygote: could not start the worker: {exc}\n".encode())
        except OSError:
            pass
    os._exit(launcher.SETUP_FAILED)


def handle(control: socket.socket, message: bytes, received: list[int]) -> None:
    """Fork one launcher for a request; answer with its pid (and pidfd) or an error."""
    try:
        config = json.loads(message)
        if not isinstance(config, dict) or len(received) != len(PIPES):
            raise ValueError(f"a request needs a config and {len(PIPES)} descriptors")
        fds = dict(zip(PIPES, received))
        pid = os.fork()
        if pid == 0:
            child(config, fds)
        pidfd = os.pidfd_open(pid)
    except Exception as exc:  # noqa: BLE001 - reported to the judge, who falls back
        control.sendmsg([json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode()])
        return
    finally:
        for fd in received:
            os.close(fd)
    try:
        socket.send_fds(control, [json.dumps({"pid": pid}).encode()], [pidfd])
    finally:
        os.close(pidfd)


def reap() -> None:
    """Collect the status of every launcher that has exited (the judge reads it from its pipe)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", type=int, required=True)
    parser.add_argument("--library", choices=["torch", "numpy"], required=True)
    options = parser.parse_args()
    judge = os.getppid()
    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: sandboxes may not read this process
    control = socket.socket(fileno=options.socket)
    preload(options.library)
    # Everything is loaded: the copies of the scripts are no longer needed.
    shutil.rmtree(os.path.dirname(os.path.abspath(__file__)), ignore_errors=True)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while os.getppid() == judge:
        reap()
        ready, _, _ = select.select([control], [], [], 0.5)
        if not ready:
            continue
        try:
            message, received, _flags, _address = socket.recv_fds(control, MAX_REQUEST, len(PIPES) + 1)
        except OSError:
            break
        if not message:  # the judge closed its end
            for fd in received:
                os.close(fd)
            break
        handle(control, message, received)
    os._exit(0)


if __name__ == "__main__":
    main()
