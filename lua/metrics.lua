-- metrics.lua — accuracy, confusion matrices and the classification report.
-- The counting is C (_metrics); here are the layouts people read: the
-- course's confusion table (tostring(cm)) and scikit-learn's report.
-- A class with nothing to divide by (no examples, or never predicted) gets
-- 0 for that figure, as scikit-learn's default zero_division gives (without
-- its warning).
local C = require "_metrics"
local M = {}

M.accuracy = C.accuracy

-- metrics.confusion(y_true, y_pred [, classes]): classes is a list of names
-- (K = #classes) or a number K; without it K is the largest label seen.
M.confusion = C.confusion

local WIDTH = 100 -- the table fits a 100-column terminal for up to 10 classes

local function clip(s, w)
  if utf8.len(s) and utf8.len(s) > w then return s:sub(1, utf8.offset(s, w + 1) - 1) end
  return s
end

local function pad_left(s, w)
  return string.rep(" ", w - (utf8.len(s) or #s)) .. s
end

local function pad_right(s, w)
  return s .. string.rep(" ", w - (utf8.len(s) or #s))
end

-- The course's table: true classes down the left, predicted across the top
-- (names cut to the column width when K columns would not fit in 100),
-- a recall % column, a precision % row and the accuracy in the corner.
local function confusion_tostring(cm)
  local k, names, counts = cm.k, cm.classes, cm.counts
  local recall, precision = cm:recall(), cm:precision()
  local namew = 4
  for _, s in ipairs(names) do namew = math.max(namew, math.min(utf8.len(s) or #s, 10)) end
  namew = math.max(namew, #"precision")
  local widest = 1
  for i = 1, k do
    for j = 1, k do widest = math.max(widest, #tostring(counts:get(i, j))) end
  end
  local longest = 1
  for _, s in ipairs(names) do longest = math.max(longest, utf8.len(s) or #s) end
  local corner = string.format("accuracy %.1f%%", 100 * cm:accuracy())
  -- each column: one space, then max(counts, "100.0", the name cut to fit)
  local room = math.floor((WIDTH - namew - 1 - #corner) / k) - 1
  local cellw = math.max(widest, 6, math.min(longest, room, 10)) -- "100.0%" fits
  local lines = {}
  local head = { pad_right("true\\pred", namew) }
  for j = 1, k do head[#head + 1] = pad_left(clip(names[j], cellw), cellw) end
  head[#head + 1] = " recall"
  lines[1] = table.concat(head, " ")
  for i = 1, k do
    local row = { pad_right(clip(names[i], namew), namew) }
    for j = 1, k do row[#row + 1] = pad_left(tostring(counts:get(i, j)), cellw) end
    row[#row + 1] = string.format("%6.1f%%", 100 * recall[i])
    lines[#lines + 1] = table.concat(row, " ")
  end
  local last = { pad_right("precision", namew) }
  for j = 1, k do last[#last + 1] = pad_left(string.format("%.1f%%", 100 * precision[j]), cellw) end
  last[#last + 1] = corner
  lines[#lines + 1] = table.concat(last, " ")
  return table.concat(lines, "\n")
end

local mt = C._confusion_metatable()
mt.__tostring = confusion_tostring

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
  local width = #"weighted avg"
  for _, n in ipairs(names) do width = math.max(width, utf8.len(n) or #n) end
  local out = {}
  local function add(fmt, ...) out[#out + 1] = string.format(fmt, ...) end
  local num = "%9." .. digits .. "f"
  add("%s  %9s %9s %9s %9s\n\n", pad_left("", width), "precision", "recall", "f1-score", "support")
  local total = 0
  for i = 1, cm.k do total = total + s[i] end
  local mp, mr, mf, wp, wr, wf = 0, 0, 0, 0, 0, 0
  for i = 1, cm.k do
    add("%s  " .. num .. " " .. num .. " " .. num .. " %9d\n", pad_left(names[i], width), p[i], r[i], f[i], s[i])
    mp, mr, mf = mp + p[i] / cm.k, mr + r[i] / cm.k, mf + f[i] / cm.k
    if total > 0 then
      wp, wr, wf = wp + p[i] * s[i] / total, wr + r[i] * s[i] / total, wf + f[i] * s[i] / total
    end
  end
  add("\n")
  add("%s  %9s %9s " .. num .. " %9d\n", pad_left("accuracy", width), "", "", cm:accuracy(), total)
  add("%s  " .. num .. " " .. num .. " " .. num .. " %9d\n", pad_left("macro avg", width), mp, mr, mf, total)
  add("%s  " .. num .. " " .. num .. " " .. num .. " %9d\n", pad_left("weighted avg", width), wp, wr, wf, total)
  return table.concat(out)
end

return M
