-- metrics.lua — accuracy, confusion matrices and the classification report.
-- The counting is C (_metrics); here are the layouts people read: the
-- course's confusion table (tostring(cm)) and scikit-learn's report.
-- A class with nothing to divide by (no examples, or never predicted) gets
-- 0 for that figure, as scikit-learn's default zero_division gives (without
-- its warning).
local C = require "_metrics"
local i18n = require "i18n"
local M = {}

M.accuracy = C.accuracy

-- metrics.confusion(y_true, y_pred [, classes]): classes is a list of names
-- (K = #classes) or a number K; without it K is the largest label seen.
M.confusion = C.confusion

local function width(s) return utf8.len(s) or #s end

local function pad_left(s, w)
  return string.rep(" ", w - width(s)) .. s
end

local function pad_right(s, w)
  return s .. string.rep(" ", w - width(s))
end

-- The header of the count columns, names right-aligned over their column.
-- Names wider than a column go on two staggered lines (odd columns on the
-- first, even on the second), so each may use two columns' room and the
-- names stay whole: CIFAR-10's table is 95 columns wide.
local function column_heads(names, k, cellw, lead)
  local stagger = false
  for j = 1, k do
    if width(names[j]) > cellw then stagger = true end
  end
  local lines = {}
  for line = 1, stagger and 2 or 1 do
    local out = (line == (stagger and 2 or 1)) and lead or "" -- the first line may use the corner's room
    for j = 1, k do
      if not stagger or (j % 2 == 1) == (line == 1) then
        local edge = width(lead) + j * (cellw + 1)
        out = out .. string.rep(" ", edge - width(names[j]) - width(out)) .. names[j]
      end
    end
    lines[line] = out
  end
  return lines
end

-- The course's table: true classes down the left, predicted across the top
-- (whole names, on two staggered lines when they are wider than a column),
-- a recall % column, a precision % row and the accuracy in the corner.
local function confusion_tostring(cm)
  local k, names, counts = cm.k, cm.classes, cm.counts
  local recall, precision = cm:recall(), cm:precision()
  local corner, recall_word, precision_word = i18n.t("cm.corner"), i18n.t("cm.recall"), i18n.t("cm.precision")
  local namew = math.max(width(corner), width(precision_word))
  local longest = 1
  for _, s in ipairs(names) do
    namew = math.max(namew, width(s))
    longest = math.max(longest, width(s))
  end
  local widest = 1
  for i = 1, k do
    for j = 1, k do widest = math.max(widest, #tostring(counts:get(i, j))) end
  end
  -- "100.0%" fits a column; a name fits one column, or two when staggered
  local cellw = math.max(widest, 6, math.ceil(longest / 2))
  local rw = math.max(width(recall_word), 7)
  local lines = column_heads(names, k, cellw, pad_right(corner, namew))
  lines[#lines] = lines[#lines] .. " " .. pad_left(recall_word, rw)
  for i = 1, k do
    local row = { pad_right(names[i], namew) }
    for j = 1, k do row[#row + 1] = pad_left(tostring(counts:get(i, j)), cellw) end
    row[#row + 1] = pad_left(string.format("%.1f%%", 100 * recall[i]), rw)
    lines[#lines + 1] = table.concat(row, " ")
  end
  local last = { pad_right(precision_word, namew) }
  for j = 1, k do last[#last + 1] = pad_left(string.format("%.1f%%", 100 * precision[j]), cellw) end
  last[#last + 1] = i18n.t("cm.accuracy", 100 * cm:accuracy())
  lines[#lines + 1] = table.concat(last, " ")
  return table.concat(lines, "\n")
end

local mt = C._confusion_metatable()
mt.__tostring = confusion_tostring

-- cm:most_confused(n): the C list of {true=, pred=, count=}, which prints
-- as "cat → dog: 168 times", one pair a line, in the user's language.
local c_index = mt.__index
local function most_confused(cm, n)
  local list = c_index(cm, "most_confused")(cm, n)
  local names = cm.classes
  return setmetatable(list, { __tostring = function(l)
    local out = {}
    for i, p in ipairs(l) do
      out[i] = i18n.t("cm.pair", tostring(names[p["true"]] or p["true"]), tostring(names[p.pred] or p.pred), p.count)
    end
    return table.concat(out, "\n")
  end })
end
mt.__index = function(cm, key)
  if key == "most_confused" then return most_confused end
  return c_index(cm, key)
end

-- metrics.report(y_true, y_pred [, classes] [, {digits=2}]) -> string, laid
-- out as scikit-learn's classification_report: per class precision, recall,
-- F1 and support, then accuracy, macro average (plain mean over classes) and
-- weighted average (weighted by support). The text is returned, not printed.
function M.report(y_true, y_pred, classes, opts)
  if type(classes) == "table" and opts == nil and classes[1] == nil and next(classes) ~= nil then
    classes, opts = nil, classes
  end
  opts = opts or {}
  local digits = opts.digits or 2
  if math.type(digits) ~= "integer" or digits < 0 or digits > 10 then
    error("metrics.report: digits: expected an integer 0..10, got " .. tostring(opts.digits), 2)
  end
  local cm = C.confusion(y_true, y_pred, classes)
  local names = cm.classes
  local p, r, f, s = cm:precision(), cm:recall(), cm:f1(), cm:support()
  local T = i18n.t
  local w = math.max(width(T("report.weighted")), width(T("report.macro")), width(T("report.accuracy")))
  for _, n in ipairs(names) do w = math.max(w, width(n)) end
  local out = {}
  local function add(fmt, ...) out[#out + 1] = string.format(fmt, ...) end
  local num = "%9." .. digits .. "f"
  add("%s  %s %s %s %s\n\n", pad_left("", w), pad_left(T("report.precision"), 9), pad_left(T("report.recall"), 9),
    pad_left(T("report.f1"), 9), pad_left(T("report.support"), 9))
  local total = 0
  for i = 1, cm.k do total = total + s[i] end
  local mp, mr, mf, wp, wr, wf = 0, 0, 0, 0, 0, 0
  for i = 1, cm.k do
    add("%s  " .. num .. " " .. num .. " " .. num .. " %9d\n", pad_left(names[i], w), p[i], r[i], f[i], s[i])
    mp, mr, mf = mp + p[i] / cm.k, mr + r[i] / cm.k, mf + f[i] / cm.k
    if total > 0 then
      wp, wr, wf = wp + p[i] * s[i] / total, wr + r[i] * s[i] / total, wf + f[i] * s[i] / total
    end
  end
  add("\n")
  add("%s  %9s %9s " .. num .. " %9d\n", pad_left(T("report.accuracy"), w), "", "", cm:accuracy(), total)
  add("%s  " .. num .. " " .. num .. " " .. num .. " %9d\n", pad_left(T("report.macro"), w), mp, mr, mf, total)
  add("%s  " .. num .. " " .. num .. " " .. num .. " %9d\n", pad_left(T("report.weighted"), w), wp, wr, wf, total)
  return table.concat(out)
end

return M
