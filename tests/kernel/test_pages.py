"""test_pages.py — --render page.ipynb on small fixture lessons (no datasets):
a valid nbformat 4 notebook, prose in the chosen language, printed text and
plots interleaved as they came, lesson.expect kept out of the code (as on
the Markdown page), a step that only checks has no cell, and a lesson that
stops with an error gets the error as the output of its step."""
import json
import os
import subprocess
import tempfile

import nbformat

from kernellib import case, check, finish, NNLAB, ROOT

out = tempfile.mkdtemp(prefix="nnlab-pages-")
FIX = os.path.join(ROOT, "tests", "kernel", "fixtures", "notebook.lua")
env = dict(os.environ, FIXTURE_OUT=out, NNLAB_PLOT="none")


def render(target, lesson=FIX, *opts):
    return subprocess.run([NNLAB, *opts, "--render", os.path.join(out, target), lesson],
                          capture_output=True, text=True, env=env, cwd=out)


r = render("nb.ipynb", FIX, "--lang", "en")
nb = nbformat.read(os.path.join(out, "nb.ipynb"), as_version=4) if r.returncode == 0 else None


@case("--render .ipynb writes a valid nbformat 4 notebook naming the nnlab kernel")
def _():
    check(r.returncode == 0, r.stderr)
    nbformat.validate(nb)
    check(nb.metadata.kernelspec == {"name": "nnlab", "display_name": "nnlab (Lua 5.4)", "language": "lua"},
          nb.metadata.kernelspec)
    check(nb.metadata.language_info.file_extension == ".lua", nb.metadata.language_info)
    check(nb.metadata.nnlab.lang == "en", nb.metadata.nnlab)


@case("notebook: prose as Markdown cells in the chosen language")
def _():
    md = [c.source for c in nb.cells if c.cell_type == "markdown"]
    check(md[0] == "# A small notebook\nProse in English.", md)
    check(not any("español" in m for m in md), md)


@case("notebook: lesson.expect (one line or several) is out of the code; a step that only checks has no cell")
def _():
    code = [c for c in nb.cells if c.cell_type == "code"]
    check(len(code) == 2, [c.source for c in code])
    check(all("lesson.expect" not in c.source and "  2)" not in c.source for c in code), code[0].source)
    check(code[0].source.endswith('print("after the plot")'), code[0].source)
    check([c.execution_count for c in code] == [1, 2], "execution counts")


@case("notebook: text and plots interleaved as they came")
def _():
    outs = [c for c in nb.cells if c.cell_type == "code"][0].outputs
    check([o.output_type for o in outs] == ["stream", "display_data", "stream"], outs)
    check(outs[0].text == "before the plot\n" and outs[2].text == "after the plot\n", outs)
    check(outs[1].data["image/png"].startswith("iVBORw0KGgo"), "not a png")
    check(outs[1].data["text/plain"] == "[plot: a red square]", outs[1].data)
    last = [c for c in nb.cells if c.cell_type == "code"][1]
    check(last.outputs[0].text == "42\n", last.outputs)


@case("the Markdown page leaves lesson.expect out too")
def _():
    m = render("page.md", FIX, "--lang", "en")
    check(m.returncode == 0, m.stderr)
    text = open(os.path.join(out, "page.md")).read()
    check("lesson.expect" not in text and 'print("after the plot")' in text, text)


@case("a lesson that stops with an error: the notebook is written up to the error, shown in its step")
def _():
    e = render("err.ipynb", os.path.join(ROOT, "tests", "lessons", "fixtures", "error_line.lua"))
    check(e.returncode == 1, e.stderr)
    enb = nbformat.read(os.path.join(out, "err.ipynb"), as_version=4)
    nbformat.validate(enb)
    errors = [o for c in enb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    check(len(errors) == 1 and "error_line.lua:" in errors[0].evalue, errors)


@case("--render 'nb.{lang}.ipynb' writes one notebook per language of the prose, from one run")
def _():
    m = render("nb.{lang}.ipynb")
    check(m.returncode == 0, m.stderr)
    for lang, title in (("es", "# Un cuaderno pequeño"), ("en", "# A small notebook")):
        one = nbformat.read(os.path.join(out, "nb.%s.ipynb" % lang), as_version=4)
        nbformat.validate(one)
        check(one.cells[0].source.startswith(title) and one.metadata.nnlab.lang == lang, one.cells[0].source)


@case("--render into a folder that does not exist yet makes it")
def _():
    m = render("new/sub/nb.ipynb")
    check(m.returncode == 0, m.stderr)
    nbformat.validate(nbformat.read(os.path.join(out, "new/sub/nb.ipynb"), as_version=4))


@case("--render refuses other extensions, naming .ipynb among the accepted ones")
def _():
    e = render("page.pdf")
    check(e.returncode != 0 and ".ipynb" in e.stderr, e.stderr)


finish()
