-- test_languages.lua — one language from start to finish: every lesson run
-- (--quick) in Spanish prints no English word, in English no Spanish one,
-- counting the prose, the lessons' own lines, fit's lines, the tables and
-- the words of the plots (titles, axes, legends in the .gp scripts). Class
-- names are the datasets' own and code (train.X, Dense(64)) is not a word.
local T = require "testlib"

local BIN = os.getenv("NNLAB_BIN") or "./nnlab"

-- Words that belong to one language only (a line holding one is in it).
local ENGLISH = {}
for w in ([[the and of is are for with from to this that test train training validation
  loss accuracy epoch images classes recall precision true predicted weights units times
  taken most confused pairs flattened lowest gap points without layer layers hidden chance
  templates model params shape output wrote expected mistakes history smoothed
  linear lowest examples]]):gmatch("%a+") do ENGLISH[w] = true end
local SPANISH = {}
for w in ([[el la los las de del que con para por una es y pérdida exactitud época imágenes
  clases entrenamiento validación prueba pesos veces capa capas modelo sensibilidad precisión
  matriz escrito errores real predicha unidades historia gráfico lineal oculta esperado
  ejemplos suavizadas]]):gmatch("[%a\128-\255]+") do SPANISH[w] = true end

local CLASSES = {}
for w in ("airplane automobile bird cat deer dog frog horse ship truck"):gmatch("%a+") do CLASSES[w] = true end

-- The words of a line that are not code, numbers or class names.
local function words(line)
  local out = {}
  for token in line:gmatch("%S+") do
    token = token:gsub("^[%p]+", ""):gsub("[,;:!?%)%(\"'%.]+$", "")
    if not token:find("[%._/%(%)%[%]=\\%%`]") then
      for w in token:gmatch("[%a\128-\255]+") do
        w = w:lower()
        if not CLASSES[w] then out[#out + 1] = w end
      end
    end
  end
  return out
end

-- The lines of text that hold a word of `list`, with the word.
local function offending(text, list)
  local bad = {}
  for line in text:gmatch("[^\n]+") do
    for _, w in ipairs(words(line)) do
      if list[w] then
        bad[#bad + 1] = string.format("%q (%s)", line, w)
        break
      end
    end
  end
  return bad
end

-- The words a .gp script shows: its quoted strings, without file names,
-- colours, fonts and formats.
local function gp_text(path)
  local f = assert(io.open(path))
  local src = f:read("a")
  f:close()
  local out = {}
  for line in src:gmatch("[^\n]+") do
    if not line:find("^#") then
      for s in line:gmatch("'([^']*)'") do
        if not (s:find("^#") or s:find("^,") or s:find("^sans") or s:find("%%") or s:find("%.%a+$") or s == "") then
          out[#out + 1] = s
        end
      end
    end
  end
  return table.concat(out, "\n")
end

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok and 0 or code
end

local function lessons()
  local list = {}
  local p = io.popen("ls lessons/[0-9]*.lua 2>/dev/null")
  for l in p:lines() do list[#list + 1] = l end
  p:close()
  return list
end

T.test("the word lists catch the other language and let code and class names be", function()
  T.eq(#offending("Época 1/2 - pérdida: 0.5", ENGLISH), 0)
  T.eq(#offending("Epoch 1/2 - 0.1s - loss: 0.5", ENGLISH), 1)
  T.eq(#offending("train.X 60000 x 28 x 28 uint8", ENGLISH), 0, "code")
  T.eq(#offending("airplane → ship: 4 veces", ENGLISH), 0, "class names")
  T.eq(#offending("matriz de confusión", SPANISH), 1)
end)

local dir = T.data_dir()
for _, path in ipairs(lessons()) do
  for _, lang in ipairs { "es", "en" } do
    local name = string.format("%s --lang %s: no line in the other language", path, lang)
    if not dir then
      T.skip(name, "the datasets are absent (set NNLAB_DATA)")
    else
      T.test(name, function()
        local out_dir = T.tmpdir() .. "/" .. lang .. "_" .. path:match("([^/]+)%.lua$")
        local out, code = sh(string.format("COLUMNS=100 NNLAB_DATA='%s' %s --quick --lang %s --plot png --out %s %s",
          dir, BIN, lang, out_dir, path))
        T.eq(code, 0, out)
        local other = lang == "es" and ENGLISH or SPANISH
        local bad = offending(out, other)
        T.ok(#bad == 0, "printed: " .. table.concat(bad, "\n"))
        local p = io.popen("ls " .. out_dir .. "/*.gp 2>/dev/null")
        local n = 0
        for gp in p:lines() do
          n = n + 1
          bad = offending(gp_text(gp), other)
          T.ok(#bad == 0, gp .. ": " .. table.concat(bad, "\n"))
        end
        p:close()
        T.ok(n > 0 or not out:find("%[") , "the plots were drawn")
      end)
    end
  end
end
