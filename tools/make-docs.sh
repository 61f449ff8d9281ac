#!/usr/bin/env bash
# tools/make-docs.sh — what `make docs` runs: docs/api.md from lua/help.lua,
# and every lesson rendered in both languages into docs/lessons/: NAME.es.md
# and NAME.en.md with their plots in NAME/ (one run of the lesson gives both
# pages), and the self-contained NAME.es.html / NAME.en.html made from them.
# The lessons need the datasets: set NNLAB_DATA (default ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${NNLAB_BIN:-./nnlab}
export NNLAB_DATA=${NNLAB_DATA:-../shared/data}
mkdir -p docs/lessons build/docs

"$BIN" -e 'help.write_markdown("docs/api.md")'
echo "wrote docs/api.md"

for lesson in lessons/[0-9]*.lua; do
  name=$(basename "$lesson" .lua)
  rm -rf "docs/lessons/$name" "build/docs/$name"
  echo "== $lesson"
  start=$(date +%s)
  "$BIN" --out "build/docs/$name" --render "docs/lessons/$name.{lang}.md" "$lesson" >"build/docs/$name.log"
  for lang in es en; do
    "$BIN" -e "require('lesson_page').convert('docs/lessons/$name.$lang.md', 'docs/lessons/$name.$lang.html', '$lang')"
  done
  echo "   docs/lessons/$name.{es,en}.{md,html} in $(( $(date +%s) - start ))s"
done
