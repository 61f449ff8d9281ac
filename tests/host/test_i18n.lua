-- test_i18n.lua — the catalogue of messages (lua/i18n.lua): every entry in
-- Spanish and English with the same format specifiers, and the library's
-- words following --lang and lesson.lang: fit's lines (printed in C),
-- model:summary(), datasets, the REPL banner and help() headings.
local T = require "testlib"
local i18n = require "i18n"

local BIN = os.getenv("NNLAB_BIN") or "./nnlab"

local function specs(s)
  local out = {}
  for spec in s:gmatch("%%[-%d.]*%a") do out[#out + 1] = spec end
  return table.concat(out, " ")
end

T.test("every message has es and en, with the same format specifiers", function()
  local n = 0
  for key, e in pairs(i18n.messages) do
    n = n + 1
    T.ok(type(e.es) == "string" and e.es ~= "", key .. ": no Spanish")
    T.ok(type(e.en) == "string" and e.en ~= "", key .. ": no English")
    for lang in pairs(e) do T.ok(i18n.LANGS[lang], key .. ": unknown language " .. tostring(lang)) end
    if e.es and e.en then T.eq(specs(e.es), specs(e.en), key .. ": format specifiers") end
  end
  T.ok(n > 40, "the catalogue holds the library's words")
end)

T.test("i18n.t follows lesson.lang; an unknown key or language is an error", function()
  lesson.lang = "es"
  T.eq(i18n.t("plot.epoch"), "época")
  T.eq(i18n.t("cm.accuracy", 50), "exactitud 50.0%")
  lesson.lang = "en"
  T.eq(i18n.t("plot.epoch"), "epoch")
  T.eq(lesson.lang, "en")
  T.raises(function() i18n.t("no.such.key") end, { "no message 'no.such.key'" })
  T.raises(function() lesson.lang = "fr" end, { "lesson.lang", "expected \"es\" or \"en\"", "got 'fr'" })
  T.raises(function() lesson.lang = 3 end, { "got number" })
  T.eq(lesson.lang, "en", "a refused language changes nothing")
end)

T.test("lesson.t: the string of the language, formatted; a missing language is an error", function()
  lesson.lang = "es"
  T.eq(lesson.t({ es = "exactitud %.1f%%", en = "accuracy %.1f%%" }, 91.84), "exactitud 91.8%")
  T.eq(lesson.t { es = "hola", en = "hello" }, "hola")
  lesson.lang = "en"
  T.eq(lesson.t { es = "hola", en = "hello" }, "hello")
  T.raises(function() lesson.t { es = "solo" } end, { "lesson.t", "no string for language 'en'" })
  T.raises(function() lesson.t("hello") end, { "lesson.t", "expected a table {es=..., en=...}", "got string" })
end)

-- Runs nnlab with the language and a statement; returns what it printed.
local function run(lang, stat, env)
  return T.sh(string.format("%s %s --lang %s -e %q", env or "", BIN, lang, stat))
end

local FIT = "local X = tensor.randn(64, 4); local y = tensor.ones(64):int(); " ..
  "local m = nn.Sequential{nn.Dense(2, 'softmax')}; " ..
  "m:compile{optimizer = optim.sgd{lr = 0.1}, loss = 'cross_entropy'}; " ..
  "m:fit(X, y, {epochs = 2, batch_size = 16, validation_split = 0.25}); m:summary()"

T.test("fit's epoch lines and the summary in Spanish and in English", function()
  local es = run("es", FIT)
  T.ok(es:find("Época 2/2 %- [%d.]+s %- pérdida: [%d.]+ %- exactitud: [%d.]+ %- pérdida_val: [%d.]+ %- exactitud_val: [%d.]+\n"), es)
  T.ok(es:find("Capa (tipo)", 1, true) and es:find("Parámetros en total: 10", 1, true), es)
  T.ok(not es:find("Epoch", 1, true) and not es:find("Total params", 1, true), es)
  local en = run("en", FIT)
  T.ok(en:find("Epoch 2/2 %- [%d.]+s %- loss: [%d.]+ %- accuracy: [%d.]+ %- val_loss: [%d.]+ %- val_accuracy: [%d.]+\n"), en)
  T.ok(en:find("Layer (type)", 1, true) and en:find("Total params: 10", 1, true), en)
end)

T.test("the language comes from --lang, else LANG (en* is English), else Spanish", function()
  local stat = "io.write(lesson.lang)"
  T.eq(T.sh(string.format("env -u LC_ALL -u LC_MESSAGES LANG=en_GB.UTF-8 %s -e %q", BIN, stat)), "en")
  T.eq(T.sh(string.format("env -u LC_ALL -u LC_MESSAGES LANG=es_ES.UTF-8 %s -e %q", BIN, stat)), "es")
  T.eq(T.sh(string.format("env -u LC_ALL -u LC_MESSAGES LANG=C.UTF-8 %s -e %q", BIN, stat)), "es")
  T.eq(T.sh(string.format("env -u LC_ALL -u LC_MESSAGES LANG=en_GB.UTF-8 %s --lang es -e %q", BIN, stat)), "es")
end)

T.test("dataset descriptions, the REPL banner and help() headings follow the language", function()
  local ds = "print(data.dataset{X = tensor.zeros({3, 2, 2}, 'uint8'), y = tensor.ones(3):int(), " ..
    "classes = {'cat'}, name = 'Toy train'})"
  T.eq(run("es", ds), "Toy entrenamiento: 3 imágenes (3x2x2 uint8), 1 clases: cat\n")
  T.eq(run("en", ds), "Toy train: 3 images (3x2x2 uint8), 1 classes: cat\n")
  T.ok(run("es", "require('repl').banner()"):find("help() da una vista general", 1, true))
  T.ok(run("en", "require('repl').banner()"):find("help() for an overview", 1, true))
  local es = run("es", "print(help.text()) print(help.text(tensor)) print(help.text('Model'))")
  T.ok(es:find("Módulos:", 1, true) and es:find("Funciones:", 1, true) and es:find("Métodos", 1, true), es)
  local en = run("en", "print(help.text()) print(help.text(tensor))")
  T.ok(en:find("Modules:", 1, true) and en:find("Functions:", 1, true), en)
end)

T.test("--check lines in the language; the closing N passed, N failed stays English", function()
  local fix = (os.getenv("NNLAB_ROOT") or ".") .. "/tests/lessons/fixtures/tiny.lua"
  local es = T.sh(string.format("%s --check --lang es %s", BIN, fix))
  T.ok(es:find("PASS sum of squares 14 (esperado 14)", 1, true), es)
  T.ok(es:find("\n2 passed, 0 failed\n$"), es)
  local en = T.sh(string.format("%s --check --lang en %s", BIN, fix))
  T.ok(en:find("PASS sum of squares 14 (expected 14)", 1, true), en)
end)
