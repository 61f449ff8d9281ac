"""test_notebook.py — lessons as notebooks: `--render page.ipynb` of lessons
00-03 (--quick) gives valid nbformat 4 notebooks (validated by nbformat) with
the prose in the chosen language, the code without lesson.expect, outputs
and plots; and lesson 01's notebook, executed by `jupyter nbconvert
--execute` on the nnlab kernel, reaches the terminal run's test accuracy."""
import os
import re
import subprocess
import tempfile

import nbformat

from kernellib import case, check, finish, install_spec, NNLAB, ROOT

LESSONS = ["00_flatten", "01_mnist_linear", "02_cifar_hidden", "03_capacity"]
out = tempfile.mkdtemp(prefix="nnlab-nb-")
env = dict(os.environ)


def have_data():
    for d in env.get("NNLAB_DATA", "").split(":") + [os.path.join(ROOT, "data")]:
        if d and os.path.exists(os.path.join(d, "mnist")) and any(
                os.path.exists(os.path.join(d, n)) for n in ("cifar-10-binary.tar.gz", "cifar-10-batches-bin")):
            return True
    return False


if not have_data():
    print("skip - lessons as notebooks: MNIST and CIFAR-10 not found (set NNLAB_DATA)")
    finish()

# the four renders, two at a time (each is a --quick run of the lesson)
procs, results = {}, {}
for i, name in enumerate(LESSONS):
    lang = "en" if i % 2 else "es"
    path = os.path.join(out, "%s.%s.ipynb" % (name, lang))
    procs[name] = (path, lang, subprocess.Popen(
        [NNLAB, "--quick", "--lang", lang, "--render", path, os.path.join(ROOT, "lessons", name + ".lua")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=out))
    if i % 2:
        for n in LESSONS[i - 1:i + 1]:
            p = procs[n][2]
            results[n] = (p.communicate(timeout=600)[0], p.returncode)


def notebook(name):
    text, rc = results[name]
    check(rc == 0, text[-2000:])
    return nbformat.read(procs[name][0], as_version=4)


for name in LESSONS:
    @case("--render %s.ipynb: a valid nbformat 4 notebook naming the nnlab kernel" % name)
    def _(name=name):
        nb = notebook(name)
        nbformat.validate(nb)
        check(nb.nbformat == 4, nb.nbformat)
        check(nb.metadata.kernelspec.name == "nnlab" and nb.metadata.language_info.name == "lua", nb.metadata)
        code = [c for c in nb.cells if c.cell_type == "code"]
        check(code and all("lesson.expect" not in c.source for c in code), "lesson.expect in a code cell")
        check(any(o.output_type == "stream" for c in code for o in c.outputs), "no printed output")


@case("notebook prose is in the chosen language only (es for 00, en for 01)")
def _():
    md00 = "\n".join(c.source for c in notebook("00_flatten").cells if c.cell_type == "markdown")
    md01 = "\n".join(c.source for c in notebook("01_mnist_linear").cells if c.cell_type == "markdown")
    check("# Lección 0" in md00 or "Lección" in md00, md00[:200])
    check("# Lesson 1: a linear classifier for MNIST" in md01 and "Lección" not in md01, md01[:200])


@case("notebook plots are png outputs of the step that drew them, after the text printed before them")
def _():
    nb = notebook("01_mnist_linear")
    fit = [c for c in nb.cells if c.cell_type == "code" and "model:fit" in c.source][0]
    kinds = [o.output_type for o in fit.outputs]
    check(kinds[0] == "stream" and "display_data" in kinds, kinds)
    png = [o for o in fit.outputs if o.output_type == "display_data"][0]
    check(png.data["image/png"].startswith("iVBORw0KGgo"), "not a png")


def test_accuracy(text):
    m = re.search(r"test accuracy ([0-9.]+)%", text)
    check(m, "no test accuracy in: " + text[-500:])
    return m.group(1)


@case("nbconvert --execute runs lesson 01's notebook on the nnlab kernel to the terminal run's test accuracy")
def _():
    nb_path = procs["01_mnist_linear"][0]
    install_spec("--quick")
    run = subprocess.run(["/usr/bin/python3", "-m", "nbconvert", "--to", "notebook", "--execute",
                          "--ExecutePreprocessor.timeout=600", nb_path, "--output", "executed.ipynb"],
                         capture_output=True, text=True, cwd=out)
    check(run.returncode == 0, run.stderr[-2000:])
    nb = nbformat.read(os.path.join(out, "executed.ipynb"), as_version=4)
    nbformat.validate(nb)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    check(not any(o.output_type == "error" for c in nb.cells if c.cell_type == "code" for o in c.outputs), printed)
    terminal = subprocess.run([NNLAB, "--quick", os.path.join(ROOT, "lessons", "01_mnist_linear.lua")],
                              capture_output=True, text=True, cwd=out, env=dict(env, NNLAB_PLOT="none"))
    check(terminal.returncode == 0, terminal.stderr[-1000:])
    got, want = test_accuracy(printed), test_accuracy(terminal.stdout)
    check(got == want, "notebook %s%%, terminal %s%%" % (got, want))


finish()
