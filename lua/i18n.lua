-- i18n.lua — the one catalogue of the words nnlab shows (Spanish and
-- English), and the current language. A Lua table rather than gettext .po
-- files: nnlab is one binary with its Lua embedded, so the catalogue travels
-- inside it with no .mo files to install or locale to generate, and a test
-- reads it directly (tests/host/test_i18n.lua: every entry has es and en).
local M = {}

-- key = { es = ..., en = ... }; a "%" in a message is a string.format spec.
M.messages = {
  -- fit (read once per fit by the C trainer: words only, no formats)
  ["fit.epoch"] = { es = "Época", en = "Epoch" },
  ["fit.loss"] = { es = "pérdida", en = "loss" },
  ["fit.accuracy"] = { es = "exactitud", en = "accuracy" },
  ["fit.val_loss"] = { es = "pérdida_val", en = "val_loss" },
  ["fit.val_accuracy"] = { es = "exactitud_val", en = "val_accuracy" },
  ["fit.samples_s"] = { es = "muestras/s", en = "samples/s" },
  ["fit.eta"] = { es = "faltan", en = "ETA" },
  ["fit.stopped"] = { es = "detenido con Ctrl-C; épocas completas en el historial:",
                      en = "stopped by Ctrl-C; complete epochs in the history:" },
  -- fit's early stopping (printed by lua/nn.lua: monitor, epochs, value, epoch)
  ["fit.early_stop"] = { es = "Parada temprana tras la época %d: %s no mejora desde hace %d épocas (la mejor: %.4f, época %d)",
                         en = "Stopped early after epoch %d: %s has not improved for %d epochs (best: %.4f, epoch %d)" },
  ["fit.early_stop_one"] = { es = "Parada temprana tras la época %d: %s no mejoró en la última época (la mejor: %.4f, época %d)",
                             en = "Stopped early after epoch %d: %s did not improve in the last epoch (best: %.4f, epoch %d)" },
  ["fit.restored"] = { es = "Restaurados los pesos de la época %d (la mejor en %s: %.4f)",
                       en = "Restored the weights of epoch %d (best %s: %.4f)" },
  -- model:summary()
  ["summary.model"] = { es = "Modelo: Sequential", en = "Model: Sequential" },
  ["summary.unbuilt"] = { es = " (aún sin construir: los tamaños se deducen en el primer uso)",
                          en = " (not built yet: sizes are inferred on first use)" },
  ["summary.layer"] = { es = "Capa (tipo)", en = "Layer (type)" },
  ["summary.shape"] = { es = "Forma de salida", en = "Output shape" },
  ["summary.params"] = { es = "Parámetros", en = "Param #" },
  ["summary.total"] = { es = "Parámetros en total: ", en = "Total params: " },
  ["summary.trainable"] = { es = "Parámetros entrenables: ", en = "Trainable params: " },
  ["summary.nontrainable"] = { es = "Parámetros no entrenables: ", en = "Non-trainable params: " },
  -- datasets
  ["data.describe"] = { es = "%s: %d imágenes (%s %s), %d clases: %s",
                        en = "%s: %d images (%s %s), %d classes: %s" },
  ["data.train"] = { es = "entrenamiento", en = "train" },
  ["data.test"] = { es = "prueba", en = "test" },
  ["data.repl"] = { es = "conjunto de datos %s: X %s, y %s", en = "dataset %s: X %s, y %s" },
  ["data.repl_classes"] = { es = ", %d clases: %s", en = ", %d classes: %s" },
  -- the confusion table, most_confused and the report
  ["cm.corner"] = { es = "real\\pred", en = "true\\pred" },
  ["cm.recall"] = { es = "sensibilidad", en = "recall" },
  ["cm.precision"] = { es = "precisión", en = "precision" },
  ["cm.accuracy"] = { es = "exactitud %.1f%%", en = "accuracy %.1f%%" },
  ["cm.pair"] = { es = "%s → %s: %d veces", en = "%s → %s: %d times" },
  ["report.precision"] = { es = "precisión", en = "precision" },
  ["report.recall"] = { es = "sensib.", en = "recall" },
  ["report.f1"] = { es = "f1", en = "f1-score" },
  ["report.support"] = { es = "soporte", en = "support" },
  ["report.accuracy"] = { es = "exactitud", en = "accuracy" },
  ["report.macro"] = { es = "media macro", en = "macro avg" },
  ["report.weighted"] = { es = "media ponderada", en = "weighted avg" },
  -- plots
  ["plot.history"] = { es = "historia del entrenamiento", en = "training history" },
  ["plot.loss"] = { es = "pérdida", en = "loss" },
  ["plot.accuracy"] = { es = "exactitud", en = "accuracy" },
  ["plot.epoch"] = { es = "época", en = "epoch" },
  ["plot.training"] = { es = "entrenamiento", en = "training" },
  ["plot.validation"] = { es = "validación", en = "validation" },
  ["plot.no_data"] = { es = "sin datos", en = "no data" },
  ["plot.confusion"] = { es = "matriz de confusión (exactitud %.1f%%)",
                         en = "confusion matrix (accuracy %.1f%%)" },
  ["plot.predicted"] = { es = "clase predicha", en = "predicted class" },
  ["plot.true"] = { es = "clase real", en = "true class" },
  ["plot.recall"] = { es = "sensibilidad", en = "recall" },
  ["plot.precision"] = { es = "precisión", en = "precision" },
  ["plot.weights"] = { es = "pesos: %d unidades como imágenes %s%s",
                       en = "weights: %d units as %s images%s" },
  ["plot.smoothed"] = { es = " (suavizadas)", en = " (smoothed)" },
  ["plot.mistakes"] = { es = "errores: real → predicha", en = "mistakes: true → predicted" },
  ["plot.confusion_examples"] = { es = "el ejemplo más seguro de cada celda (filas: real, columnas: predicha)",
    en = "the most confident example of each cell (rows: true, columns: predicted)" },
  ["plot.feature_maps"] = { es = "%d mapas de características de %s", en = "%d feature maps of %s" },
  -- the lesson runner and --check (the last line, "N passed, N failed", is
  -- not translated: graders read it)
  ["lesson.plot"] = { es = "[gráfico: %s]", en = "[plot: %s]" },
  ["lesson.wrote"] = { es = "escrito: %s", en = "wrote %s" },
  ["lesson.expected"] = { es = "esperado", en = "expected" },
  ["lesson.no_expect"] = { es = "(%s no registra ninguna expectativa)",
                           en = "(%s records no expectations)" },
  ["lesson.unmet"] = { es = "expectativa no cumplida: ", en = "expectation not met: " },
  -- the REPL and help()
  ["repl.banner"] = { es = "nnlab %s (%s) -- help() da una vista general, help(x) explica x; Ctrl-D sale",
                      en = "nnlab %s (%s) -- help() for an overview, help(x) for x; Ctrl-D leaves" },
  ["help.modules"] = { es = "Módulos:", en = "Modules:" },
  ["help.functions"] = { es = "Funciones:", en = "Functions:" },
  ["help.methods"] = { es = 'Métodos (help("%s:nombre") documenta uno):', en = 'Methods (help("%s:name") documents one):' },
  ["help.types"] = { es = 'Tipos (help("Nombre") lista sus métodos): ', en = 'Types (help("Name") lists their methods): ' },
  ["help.example"] = { es = "  Ejemplo:", en = "  Example:" },
  ["help.try"] = { es = 'Pruebe help(tensor), help(tensor.zeros), help("Model:fit") o help(t) para un tensor t.',
                   en = 'Try help(tensor), help(tensor.zeros), help("Model:fit"), or help(t) for a tensor t.' },
}

M.LANGS = { es = true, en = true }

local current -- set by --lang (through nnlab.options), lesson.lang or M.set

-- The language in use: the last one set, else --lang / LANG (nnlab.options).
function M.lang()
  if current then return current end
  local n = rawget(_G, "nnlab")
  local l = type(n) == "table" and type(n.options) == "table" and n.options.lang
  return M.LANGS[l] and l or "es"
end

function M.set(lang)
  if not M.LANGS[lang] then
    error(string.format("lesson.lang: expected \"es\" or \"en\", got %s",
      type(lang) == "string" and ("'" .. lang .. "'") or type(lang)), 3)
  end
  current = lang
end

-- M.t(key, ...): the message in the current language, formatted with the
-- arguments when there are any.
function M.t(key, ...)
  local e = M.messages[key]
  if not e then error("i18n: no message '" .. tostring(key) .. "'", 2) end
  local s = e[M.lang()] or e.en
  if select("#", ...) > 0 then return string.format(s, ...) end
  return s
end

-- The words fit prints (read by the C trainer once per fit).
function M.fit_words()
  local w = {}
  for _, k in ipairs { "epoch", "loss", "accuracy", "val_loss", "val_accuracy", "samples_s", "eta", "stopped" } do
    w[k] = M.t("fit." .. k)
  end
  return w
end

return M
