"""Submissions of every shape: .py, notebook, folder, handin.tar.

The same correct solution (the reference) in each form must score full
marks through the real command line. The notebook carries what students'
notebooks carry: magics, shell escapes, a %%time cell, a training loop that
would run for hours, a plot and a download; none of it may run by default.
Unit tests cover the conversion of notebooks and the safe extraction of
tarballs, including hostile archives.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader import spec
from grader.errors import SubmissionError
from grader.notebook import notebook_to_source, strip_ipython
from grader.submission import prepare
from grader.unpack import MAX_FILES, safe_extract

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "softmax_lab.py"
QUESTIONS = ["softmax", "linear", "loss", "loss_backward", "softmax_backward", "color_histogram", "max_margin",
             "sgd", "momentum", "minibatch", "training", "histogram_training", "softmax_gradient_derivation"]
GRADE_TIMEOUT_S = 900  # a guard against a hung grader, not a timing assertion


def reference_cells() -> list[str]:
    """The reference split as a student would: imports first, then one function per cell."""
    text = REFERENCE.read_text(encoding="utf-8").split('"""', 2)[2]
    chunks = text.split("\n\n\ndef ")
    return [chunks[0].strip()] + ["def " + chunk.strip() for chunk in chunks[1:]]


def build_notebook(path: Path) -> Path:
    """A notebook holding the reference and much that must not run during grading."""
    cells = reference_cells()
    notebook = new_notebook()
    notebook.cells = [
        new_markdown_cell("# Softmax lab\nRun everything top to bottom."),
        new_code_cell("%load_ext autoreload\n%autoreload 2\n!pip install torch torchvision\n%matplotlib inline"),
        new_code_cell(cells[0] + "\nimport matplotlib.pyplot as plt\nimport urllib.request\nimport time"),
        new_code_cell("%%time\n" + cells[1]),  # a %%time cell that defines softmax
        *[new_code_cell(cell) for cell in cells[2:]],
        new_code_cell("files = !ls\nsoftmax?\nDATA_URL = 'https://example.invalid/cifar-10.tar.gz'\n"
                      "urllib.request.urlretrieve(DATA_URL, 'cifar.tar.gz')"),
        new_code_cell("W = torch.randn(10, 3072) * 0.001\nb = torch.zeros(10, 1)\n"
                      "for epoch in range(10**9):  # hours of training\n"
                      "    time.sleep(1)\n"
                      "    W -= 0.01 * torch.randn(10, 3072)\n"),
        new_code_cell("losses = train(W, b, epochs=1000)\nplt.plot(losses)\nplt.show()"),
        new_code_cell("%%bash\necho hello\nsleep 600"),
        new_code_cell("raise SystemExit('a cell that stops a Run All')"),
    ]
    nbformat.write(notebook, str(path))
    return path


def build_forms(folder: Path) -> dict[str, Path]:
    """The reference as a .py, a notebook, a folder (with a helper module) and a handin.tar."""
    forms = {"py": folder / "softmax_lab.py"}
    forms["py"].write_text(REFERENCE.read_text(encoding="utf-8"))
    forms["notebook"] = build_notebook(folder / "softmax_lab.ipynb")

    handin = folder / "handin_folder"
    handin.mkdir()
    helper = "import torch\n\n\ndef stable_exp(a):\n    return torch.exp(a - a.max())\n"
    (handin / "lab_helpers.py").write_text(helper)
    source = REFERENCE.read_text(encoding="utf-8").replace(
        "import torch\n", "import torch\n\nfrom lab_helpers import stable_exp\n", 1).replace(
        "    shifted = a - a.max()\n    exps = torch.exp(shifted)\n", "    exps = stable_exp(a)\n")
    assert "stable_exp(a)" in source
    (handin / "softmax_lab.py").write_text(source)
    (handin / "README.txt").write_text("my handin\n")
    forms["folder"] = handin

    forms["tar"] = folder / "handin.tar"
    with tarfile.open(forms["tar"], "w") as tar:
        tar.add(handin / "softmax_lab.py", arcname="handin/softmax_lab.py")
        tar.add(handin / "lab_helpers.py", arcname="handin/lab_helpers.py")
        tar.add(handin / "README.txt", arcname="handin/README.txt")
    return forms


def grade(path: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "grader", "grade", "softmax_lab", str(path), "--format", "json"],
                          check=False, cwd=ROOT, capture_output=True, text=True,
                          timeout=GRADE_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def form_reports(tmp_path_factory) -> dict[str, dict]:
    forms = build_forms(tmp_path_factory.mktemp("forms"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(forms, pool.map(grade, forms.values())))


@pytest.mark.slow
@pytest.mark.parametrize("form", ["py", "notebook", "folder", "tar"])
def test_every_form_of_the_solution_scores_full_marks(form, form_reports):
    report = form_reports[form]
    assert [q["name"] for q in report["questions"]] == QUESTIONS
    lost = {q["name"]: q["score"] for q in report["questions"] if q["score"] != q["max_score"]}
    assert not lost, json.dumps(report, indent=1)[:4000]
    assert report["score"] == report["max_score"] == 140


@pytest.mark.slow
def test_notebook_report_says_what_did_not_run(form_reports):
    notes = " ".join(form_reports["notebook"].get("notes", []))
    assert "IPython" in notes and "were not run" in notes


# -- notebooks ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def lab():
    return spec.load("softmax_lab")


def test_definitions_only_keeps_functions_and_drops_the_rest(tmp_path):
    source, notes = notebook_to_source(build_notebook(tmp_path / "nb.ipynb"))
    namespace: dict = {}
    exec(compile(source, "nb", "exec"), namespace)  # safe: the grader kept only definitions
    for name in ("softmax", "linear", "loss_backward", "softmax_backward", "color_histogram",
                 "max_margin_loss_backward"):
        assert callable(namespace[name]), name
    assert "W" in namespace and "epoch" not in namespace and "losses" not in namespace
    for dropped in ("urlretrieve", "range(10**9)", "plt.show", "pip install", "echo hello", "SystemExit"):
        assert dropped not in source, dropped
    assert any("were not run" in note for note in notes)


def test_run_all_runs_every_cell_and_survives_a_failing_one(tmp_path):
    notebook = new_notebook()
    notebook.cells = [new_code_cell("SCALE = 2\n!echo dropped"), new_code_cell("raise ValueError('boom')"),
                      new_code_cell("%%time\nSCALE = SCALE * 3"), new_code_cell("def scaled(x):\n    return x * SCALE")]
    path = tmp_path / "all.ipynb"
    nbformat.write(notebook, str(path))
    source, _ = notebook_to_source(path, run_all=True)
    namespace = {"__file__": "all.py"}
    exec(compile(source, "all.py", "exec"), namespace)
    assert namespace["scaled"](1) == 6


@pytest.mark.parametrize("cell, kept", [
    ("%load_ext autoreload\nx = 1", "x = 1"),
    ("!pip install torch\nimport torch", "import torch"),
    ("files = !ls\ny = 2", "y = 2"),
    ("%%time\ndef f():\n    return 1", "def f():\n    return 1"),
    ('doc = """\n%not a magic inside a string\n"""', '%not a magic inside a string'),
])
def test_ipython_syntax_is_stripped(cell, kept):
    source, _ = strip_ipython(cell)
    assert kept in source
    compile(source, "cell", "exec")


@pytest.mark.parametrize("cell", ["%%bash\necho hi", "%%writefile helper.py\nx = 1", "%%html\n<b>x</b>"])
def test_non_python_cell_magics_are_dropped(cell):
    assert strip_ipython(cell)[0] is None


def test_a_cell_with_a_syntax_error_is_left_out_with_a_note(tmp_path, lab):
    notebook = new_notebook()
    notebook.cells = [new_code_cell("def softmax(a:\n    return a"), new_code_cell("def linear(x, w, b):\n    return x")]
    path = tmp_path / "softmax_lab.ipynb"
    nbformat.write(notebook, str(path))
    prepared = prepare(lab, path)
    try:
        assert "def linear" in prepared.student_file.read_text()
        assert any("cell 1" in note and "not valid Python" in note for note in prepared.notes)
    finally:
        prepared.cleanup()


@pytest.mark.parametrize("content, expected", [
    ("{ this is not json", "not valid JSON"),
    ('{"hello": "world"}', "not a Jupyter notebook"),
    ("[1, 2, 3]", "not a Jupyter notebook"),
])
def test_unreadable_notebooks_get_a_clear_message(tmp_path, lab, content, expected):
    path = tmp_path / "softmax_lab.ipynb"
    path.write_text(content)
    with pytest.raises(SubmissionError, match=expected):
        prepare(lab, path)


# -- folders and archives -------------------------------------------------------------

def test_misnamed_file_gets_the_closest_name_suggested(tmp_path, lab):
    folder = tmp_path / "handin"
    folder.mkdir()
    (folder / "Softmax_Lab.py").write_text("x = 1\n")
    (folder / "notes.txt").write_text("x\n")
    with pytest.raises(SubmissionError, match=r"has no softmax_lab\.py.*Did you mean 'Softmax_Lab\.py'"):
        prepare(lab, folder)
    (folder / "Softmax_Lab.py").rename(folder / "softmax_lab_final.py")
    with pytest.raises(SubmissionError, match="Did you mean 'softmax_lab_final.py'"):
        prepare(lab, folder)


def test_missing_file_in_a_tarball_is_named(tmp_path, lab):
    archive = tmp_path / "handin.tar"
    with tarfile.open(archive, "w") as tar:
        add_bytes(tar, "other.py", b"x = 1\n")
    with pytest.raises(SubmissionError, match=r"handin\.tar has no softmax_lab\.py \(it holds: other\.py\)"):
        prepare(lab, archive)


def test_autolab_renamed_python_file_is_still_graded(tmp_path, lab):
    fake_tar = tmp_path / "handin.tar"
    fake_tar.write_text(REFERENCE.read_text())
    prepared = prepare(lab, fake_tar)
    try:
        assert prepared.student_file.read_text() == REFERENCE.read_text()
        assert "graded as a .py file" in prepared.notes[0]
    finally:
        prepared.cleanup()


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes, **fields) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in fields.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data))


def add_link(tar: tarfile.TarFile, name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    tar.addfile(info)


def hostile(tmp_path: Path, build) -> tuple[Path, Path]:
    archive = tmp_path / "handin.tar"
    with tarfile.open(archive, "w") as tar:
        add_bytes(tar, "softmax_lab.py", b"x = 1\n")
        build(tar)
    return archive, tmp_path / "extract" / "inner"


@pytest.mark.parametrize("build, message", [
    (lambda tar: add_bytes(tar, "../../escaped-{tag}.py", b"evil"), "climbs out"),
    (lambda tar: add_bytes(tar, "ok/../../../escaped-{tag}.py", b"evil"), "climbs out"),
    (lambda tar: add_bytes(tar, "/tmp/escaped-{tag}.py", b"evil"), "absolute path"),
    (lambda tar: add_link(tar, "passwd", "/etc/passwd"), "link to '/etc/passwd'"),
    (lambda tar: add_link(tar, "up", "../../escaped-{tag}"), "outside the handin folder"),
    (lambda tar: add_link(tar, "hard", "/etc/shadow", tarfile.LNKTYPE), "outside the handin folder"),
    (lambda tar: (add_link(tar, "etc", "/etc"), add_bytes(tar, "etc/escaped-{tag}", b"evil")), "link to '/etc'"),
    (lambda tar: add_link(tar, "dev", "", tarfile.CHRTYPE), "not a regular file"),
    (lambda tar: add_link(tar, "fifo", "", tarfile.FIFOTYPE), "not a regular file"),
])
def test_hostile_tarballs_are_refused_and_write_nothing(tmp_path, lab, build, message):
    tag = uuid.uuid4().hex

    def build_tagged(tar):
        original = tar.addfile

        def addfile(info, fileobj=None):
            info.name = info.name.replace("{tag}", tag)
            info.linkname = info.linkname.replace("{tag}", tag)
            return original(info, fileobj)

        tar.addfile = addfile
        build(tar)

    archive, target = hostile(tmp_path, build_tagged)
    with pytest.raises(SubmissionError, match=message) as refused:
        safe_extract(archive, target)
    assert "handin.tar" in str(refused.value)
    assert not target.exists(), "nothing may be written when an archive is refused"
    with pytest.raises(SubmissionError, match=message):
        prepare(lab, archive)  # the real path: refused the same way
    for place in (tmp_path, tmp_path.parent, Path("/tmp"), Path("/etc")):
        assert not list(place.glob(f"*{tag}*")), f"an entry escaped into {place}"


def test_archive_caps(tmp_path):
    many = tmp_path / "many.tar"
    with tarfile.open(many, "w") as tar:
        for index in range(MAX_FILES + 1):
            add_bytes(tar, f"f{index}.txt", b"x")
    with pytest.raises(SubmissionError, match="more than"):
        safe_extract(many, tmp_path / "a")
    huge = tmp_path / "huge.tar.gz"
    with tarfile.open(huge, "w:gz") as tar:
        info = tarfile.TarInfo("big.bin")
        info.size = 60 * 2**20
        tar.addfile(info, io.BytesIO(bytes(info.size)))  # compresses to almost nothing
    with pytest.raises(SubmissionError, match="MiB"):
        safe_extract(huge, tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_links_inside_the_archive_become_copies(tmp_path, lab):
    archive = tmp_path / "handin.tar"
    with tarfile.open(archive, "w") as tar:
        add_bytes(tar, "src/softmax_lab_impl.py", REFERENCE.read_bytes())
        add_link(tar, "softmax_lab.py", "src/softmax_lab_impl.py")
    prepared = prepare(lab, archive)
    try:
        assert not prepared.student_file.is_symlink()
        assert prepared.student_file.read_bytes() == REFERENCE.read_bytes()
    finally:
        prepared.cleanup()


def test_folder_links_are_not_followed(tmp_path, lab):
    folder = tmp_path / "handin"
    folder.mkdir()
    os.symlink(REFERENCE, folder / "softmax_lab.py")
    os.symlink("/", folder / "root")
    with pytest.raises(SubmissionError, match="has no softmax_lab.py"):
        prepare(lab, folder)
