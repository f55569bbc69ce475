"""Headless notebook driver for `deno task notebooks run` (the logic is in lib/course/notebooks.ts).

Run it with a Python that has nbclient, jupyter-client and nbformat: the
TypeScript side (lib/course/jupyter.ts) picks one, or installs pinned versions
into .cache/jupyter-venv on first use. It is not meant to be used by hand, but
it can be:

    .cache/jupyter-venv/bin/python lib/course/run_notebook.py kernels
    .cache/jupyter-venv/bin/python lib/course/run_notebook.py run NOTEBOOK --cwd DIR --result OUT.json

`kernels` prints the installed kernelspecs as JSON ({name: argv}).
`install-kernel DIR --name NAME` installs the kernelspec in DIR into this
virtual environment's Jupyter paths (used when the kernelspec `deno jupyter
--install` wrote is not on them, e.g. with JUPYTER_DATA_DIR set).
`run` executes an in-memory copy of NOTEBOOK (the file itself is never
written), stops at the first cell that raises, and writes a JSON summary to
--result. --save also writes the executed copy (outputs included) there.
--continue-on-error records a raising cell in the summary's "cellErrors" and
goes on with the next one (the grader uses it: one failing exercise must not
keep the others from running); a timeout or a dead kernel still stops the run.

Exit codes: 0 success, 1 a cell failed or timed out, 2 bad usage, 3 nbclient
or a dependency is missing, 4 the kernel could not start or died, 5 stopped by
SIGTERM/SIGINT (the kernel is shut down first in every case).
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

INSTALL_HINT = (
    "unset NOTEBOOK_PYTHON to let the runner install them into .cache/jupyter-venv, "
    "or: pip install nbclient jupyter-client nbformat"
)
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def plain(text):
    """Text without ANSI colour codes (kernels colour their tracebacks)."""
    return ANSI.sub("", str(text))


def import_jupyter():
    try:
        import nbformat
        from jupyter_client.kernelspec import KernelSpecManager
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    except ImportError as err:
        sys.stderr.write(
            f"{sys.executable} cannot import the Jupyter packages ({err}).\n"
            f"Install them with: {INSTALL_HINT}\n"
        )
        sys.exit(3)
    return {
        "nbformat": nbformat,
        "KernelSpecManager": KernelSpecManager,
        "NotebookClient": late_output_client(NotebookClient),
        "CellExecutionError": CellExecutionError,
        "CellTimeoutError": CellTimeoutError,
        "DeadKernelError": DeadKernelError,
    }


OUTPUT_TYPES = {"execute_result", "display_data", "update_display_data", "stream"}


def late_output_client(base):
    """A NotebookClient that keeps outputs the kernel sends after a cell's idle status.

    The Deno kernel sometimes publishes a cell's execute_result just after its
    "idle" status (measured: 1-4 cells per notebook on a busy 2-core machine).
    nbclient stops listening to a cell at "idle" and drops messages addressed
    to earlier cells, so the saved copy silently lost those outputs. This
    client remembers the cells it finished and files such late messages under
    the cell they belong to; `drain_late_outputs` waits briefly for the last
    cell's before the kernel is shut down.
    """
    from nbclient.exceptions import CellExecutionComplete
    from nbclient.util import ensure_async, run_sync

    class LateOutputClient(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.finished_cells = {}
            self.late_outputs = 0

        def file_late(self, msg):
            owner = self.finished_cells.get(msg["parent_header"].get("msg_id"))
            if owner is None or msg["msg_type"] not in OUTPUT_TYPES:
                return
            cell, index = owner
            self.late_outputs += 1
            try:
                self.process_message(msg, cell, index)
            except CellExecutionComplete:
                pass

        async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
            while True:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=None))
                if msg["parent_header"].get("msg_id") != parent_msg_id:
                    self.file_late(msg)
                    continue
                try:
                    self.process_message(msg, cell, cell_index)
                except CellExecutionComplete:
                    self.finished_cells[parent_msg_id] = (cell, cell_index)
                    return

        async def _async_drain(self, quiet_s):
            while True:
                try:
                    msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=quiet_s))
                except Exception:  # noqa: BLE001 - queue.Empty: the kernel has gone quiet
                    return
                self.file_late(msg)

        drain_late_outputs = run_sync(_async_drain)

    return LateOutputClient


def list_kernels(jp):
    specs = jp["KernelSpecManager"]().get_all_specs()
    names = {name: info.get("spec", {}).get("argv", []) for name, info in specs.items()}
    print(json.dumps(names))
    return 0


def install_kernel(jp, args):
    """Install a kernelspec (the folder args.source) into this environment's own Jupyter paths.

    Only inside a virtual environment: a system interpreter's prefix is not ours to write.
    """
    if sys.prefix == sys.base_prefix:
        sys.stderr.write(f"{sys.executable} is not in a virtual environment; not installing there\n")
        return 2
    dest = jp["KernelSpecManager"]().install_kernel_spec(
        args.source, kernel_name=args.name, prefix=sys.prefix, replace=True
    )
    print(dest)
    return 0


def first_line(source):
    for line in source.splitlines():
        if line.strip():
            return line.strip()
    return ""


def kernel_traceback(nb, index, err):
    """The traceback the kernel sent with the error output (nbclient's text repeats the source)."""
    if index is not None:
        for output in nb.cells[index].get("outputs", []):
            if output.get("output_type") == "error":
                return "\n".join(output.get("traceback", []))
    return str(err.traceback)


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as out:
        json.dump(value, out, ensure_ascii=False)
        out.write("\n")


class Terminated(Exception):
    """SIGTERM or SIGINT arrived: stop, but shut the kernel down first."""


def on_signal(signum, _frame):
    raise Terminated(f"stopped by signal {signal.Signals(signum).name}")


def run(jp, args):
    nbformat = jp["nbformat"]
    nb = nbformat.read(args.notebook, as_version=4)
    client = jp["NotebookClient"](
        nb,
        kernel_name=args.kernel,
        timeout=args.timeout,
        startup_timeout=args.startup_timeout,
        allow_errors=False,
        record_timing=True,
        resources={"metadata": {"path": args.cwd}},
    )
    summary = {
        "ok": False,
        "cellCount": len(nb.cells),
        "codeCells": sum(1 for c in nb.cells if c.cell_type == "code"),
        "kernelStartMs": None,
        "cellMs": [],
        "cellErrors": [],
    }
    status = 0
    current = {"index": None}

    def fail(kind, ename, evalue, traceback=""):
        index = current["index"]
        cell = nb.cells[index] if index is not None else None
        summary["error"] = {
            "kind": kind,
            "cellIndex": index,
            "firstLine": first_line(cell.source) if cell is not None else "",
            "ename": plain(ename),
            "evalue": plain(evalue),
            "traceback": plain(traceback),
        }

    # The kernel runs in its own session and ignores our death, so it is
    # started and shut down here (not in nbclient's setup_kernel, whose signal
    # handlers let SIGTERM end this process with the kernel still running).
    # Its output goes to a log file: inherited pipes would keep a caller that
    # reads ours waiting for as long as the kernel lives.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log = open(args.kernel_log, "ab") if args.kernel_log else subprocess.DEVNULL
    started = time.monotonic()
    try:
        client.reset_execution_trackers()
        client.km = client.create_kernel_manager()
        client.start_new_kernel(stdout=log, stderr=log)
        client.start_new_kernel_client()
        summary["kernelStartMs"] = round((time.monotonic() - started) * 1000)
        info = client.wait_for_reply(client.kc.kernel_info())
        language_info = (info or {}).get("content", {}).get("language_info")
        if language_info:
            nb.metadata["language_info"] = language_info
        for index, cell in enumerate(nb.cells):
            current["index"] = index
            t0 = time.monotonic()
            try:
                client.execute_cell(cell, index)
            except jp["CellExecutionError"] as err:
                if not args.continue_on_error:
                    raise
                summary["cellErrors"].append({
                    "cellIndex": index,
                    "firstLine": first_line(cell.source),
                    "ename": plain(err.ename),
                    "evalue": plain(err.evalue),
                })
            if cell.cell_type == "code":
                summary["cellMs"].append([index, round((time.monotonic() - t0) * 1000)])
        client.drain_late_outputs(0.2)
        summary["lateOutputs"] = client.late_outputs
        summary["ok"] = True
    except jp["CellExecutionError"] as err:
        status = 1
        fail("error", err.ename, err.evalue, kernel_traceback(nb, current["index"], err))
    except jp["CellTimeoutError"] as err:
        status = 1
        fail("timeout", "CellTimeoutError", f"the cell ran longer than {args.timeout} s", str(err))
    except jp["DeadKernelError"] as err:
        status = 4
        fail("dead-kernel", "DeadKernelError", str(err))
    except Terminated as err:
        status = 5
        fail("aborted", "Terminated", str(err))
    except Exception as err:  # noqa: BLE001 - everything else is reported, not hidden
        status = 4
        fail("kernel", type(err).__name__, str(err))
        if summary["kernelStartMs"] is None:
            summary["error"]["kind"] = "startup"
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        shutdown(client)
        if log is not subprocess.DEVNULL:
            log.close()
    summary["wallMs"] = round((time.monotonic() - started) * 1000)
    if args.save:
        nbformat.write(nb, args.save)
    write_json(args.result, summary)
    return status


def shutdown(client):
    """Stop the kernel for sure: politely, then by killing its process group."""
    km = client.km
    if km is None:
        return
    try:
        client._cleanup_kernel()
    except Exception:  # noqa: BLE001 - fall through to the hard kill
        pass
    provisioner = getattr(km, "provisioner", None)
    process = getattr(provisioner, "process", None)
    if process is not None and process.poll() is None:
        try:
            os.killpg(os.getpgid(process.pid), signal.SIGKILL)
        except OSError:
            process.kill()
        process.wait(timeout=10)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("kernels", help="print installed kernelspecs as JSON")
    k = sub.add_parser("install-kernel", help="install a kernelspec folder into this venv")
    k.add_argument("source", help="a folder with kernel.json")
    k.add_argument("--name", required=True)
    p = sub.add_parser("run", help="execute a notebook in memory")
    p.add_argument("notebook")
    p.add_argument("--cwd", required=True, help="the kernel's working directory")
    p.add_argument("--result", required=True, help="where to write the JSON summary")
    p.add_argument("--kernel", default="deno")
    p.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    p.add_argument("--startup-timeout", type=int, default=120, help="seconds for the kernel")
    p.add_argument("--save", help="also write the executed copy here")
    p.add_argument("--kernel-log", help="append the kernel process's own output here")
    p.add_argument(
        "--continue-on-error",
        action="store_true",
        help="record a cell that raises and go on with the next",
    )
    args = parser.parse_args(argv)
    jp = import_jupyter()
    if args.command == "kernels":
        return list_kernels(jp)
    if args.command == "install-kernel":
        return install_kernel(jp, args)
    return run(jp, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
