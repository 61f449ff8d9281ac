#!/usr/bin/env bash
# tools/make-docs.sh — what `make docs` runs: docs/api.md from lua/help.lua,
# and every lesson rendered in both languages into docs/lessons/: NAME.es.md
# and NAME.en.md with their plots in NAME.es/ and NAME.en/, and the
# self-contained NAME.es.html / NAME.en.html made from them. Each language is
# its own run (--lang), so fit's lines, tables and plot titles are in the
# page's language too. The lessons need the datasets: set NNLAB_DATA
# (default ../shared/data). Lessons named as arguments (or in LESSONS, from
# `make docs LESSONS=lessons/04_cifar_cnn.lua`) are rendered alone.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${NNLAB_BIN:-./nnlab}
export NNLAB_DATA=${NNLAB_DATA:-../shared/data}
mkdir -p docs/lessons build/docs

"$BIN" -e 'help.write_markdown("docs/api.md")'
echo "wrote docs/api.md"

if [ $# -eq 0 ] && [ -n "${LESSONS:-}" ]; then set -- $LESSONS; fi
[ $# -eq 0 ] && set -- lessons/[0-9]*.lua
for lesson in "$@"; do
  name=$(basename "$lesson" .lua)
  rm -rf "docs/lessons/$name" "docs/lessons/$name".?? "build/docs/$name"*
  echo "== $lesson"
  start=$(date +%s)
  for lang in es en; do
    # rendered apart, then moved beside the other language: plots in NAME.LANG/
    pages="build/docs/pages.$lang"
    rm -rf "$pages/$name" && mkdir -p "$pages"
    "$BIN" --lang "$lang" --out "build/docs/$name.$lang" --render "$pages/$name.md" "$lesson" \
      >"build/docs/$name.$lang.log"
    if [ -d "$pages/$name" ]; then mv "$pages/$name" "docs/lessons/$name.$lang"; fi
    sed "s#](${name}/#](${name}.${lang}/#g" "$pages/$name.md" >"docs/lessons/$name.$lang.md"
    "$BIN" -e "require('lesson_page').convert('docs/lessons/$name.$lang.md', 'docs/lessons/$name.$lang.html', '$lang')"
  done
  echo "   docs/lessons/$name.{es,en}.{md,html} in $(( $(date +%s) - start ))s"
done
