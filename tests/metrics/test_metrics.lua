-- test_metrics.lua — metrics.accuracy, the confusion matrix and the report:
-- hand-computed counts and figures, scikit-learn on random labels (through
-- .npy files), the course's table layout, and bad input.
local T = require "testlib"

local yt = tensor.new({ 1, 2, 3, 1, 2, 3, 1, 1, 2, 3 }, "int32")
local yp = tensor.new({ 1, 3, 3, 1, 2, 1, 2, 1, 2, 3 }, "int32")
local names = { "airplane", "automobile", "cat" }

T.test("confusion counts by hand (rows true, columns predicted)", function()
  local cm = metrics.confusion(yt, yp, names)
  local want = { { 3, 1, 0 }, { 0, 2, 1 }, { 1, 0, 2 } }
  T.eq(cm.counts.dtype, "int32")
  T.eq(table.concat(cm.counts:shape(), "x"), "3x3")
  for i = 1, 3 do
    for j = 1, 3 do T.eq(cm.counts:get(i, j), want[i][j], ("cell %d,%d"):format(i, j)) end
  end
  T.ok(rawequal(cm.counts, cm.counts), "cm.counts is the same tensor every time")
  T.eq(cm.k, 3)
  T.eq(cm.classes[2], "automobile")
end)

T.test("recall, precision, f1, accuracy by hand", function()
  local cm = metrics.confusion(yt, yp, names)
  local r, p, f = cm:recall(), cm:precision(), cm:f1()
  T.near(r[1], 3 / 4); T.near(r[2], 2 / 3); T.near(r[3], 2 / 3)
  T.near(p[1], 3 / 4); T.near(p[2], 2 / 3); T.near(p[3], 2 / 3)
  T.near(f[1], 0.75); T.near(f[2], 2 / 3)
  T.near(cm:accuracy(), 0.7)
  local s = cm:support()
  T.eq(s[1], 4); T.eq(s[2], 3); T.eq(s[3], 3)
end)

T.test("most_confused: largest off-diagonal cells first, zeros left out", function()
  local a = tensor.new({ 1, 1, 1, 2, 2, 3, 3, 3, 3 }, "int32")
  local b = tensor.new({ 2, 2, 1, 1, 2, 1, 1, 1, 2 }, "int32")
  local cm = metrics.confusion(a, b, 3)
  local mc = cm:most_confused(10)
  -- off-diagonal: (1,2)=2 (2,1)=1 (3,1)=3 (3,2)=1
  T.eq(#mc, 4)
  T.eq(mc[1]["true"], 3); T.eq(mc[1].pred, 1); T.eq(mc[1].count, 3)
  T.eq(mc[2]["true"], 1); T.eq(mc[2].pred, 2); T.eq(mc[2].count, 2)
  T.eq(mc[3]["true"], 2); T.eq(mc[3].pred, 1); T.eq(mc[3].count, 1)
  T.eq(#cm:most_confused(1), 1)
end)

T.test("zero division gives 0 (class never present nor predicted)", function()
  local cm = metrics.confusion(tensor.new({ 1, 2 }, "int32"), tensor.new({ 1, 1 }, "int32"), 3)
  T.eq(cm:recall()[3], 0); T.eq(cm:precision()[3], 0); T.eq(cm:f1()[3], 0)
  T.eq(cm:precision()[2], 0) -- never predicted
  T.near(cm:precision()[1], 0.5)
end)

T.test("scores: an N x K matrix counts as its argmax", function()
  local scores = tensor.new({ { 0.1, 0.7, 0.2 }, { 0.8, 0.1, 0.1 }, { 0.2, 0.3, 0.5 }, { 0.3, 0.3, 0.4 } })
  local y = tensor.new({ 2, 1, 1, 3 }, "int32")
  T.near(metrics.accuracy(scores, y), 0.75)
  T.near(metrics.accuracy(tensor.new({ 2, 1, 3, 3 }, "int32"), y), 0.75)
  local cm = metrics.confusion(y, scores, 3)
  T.eq(cm.counts:get(1, 3), 1)
  T.eq(cm.counts:get(2, 2), 1)
  -- float class indices with whole values are accepted too
  T.near(metrics.accuracy(tensor.new({ 2, 1, 1, 1 }), y), 0.75)
end)

T.test("without classes: K is the largest label, names are numbers", function()
  local cm = metrics.confusion(tensor.new({ 1, 4 }, "int32"), tensor.new({ 2, 4 }, "int32"))
  T.eq(cm.k, 4)
  T.eq(cm.classes[4], "4")
end)

T.test("against scikit-learn on random labels", function()
  local N, K = 500, 6
  tensor.seed(7)
  local a = (tensor.rand(N) * K):int() + 1
  local b = (tensor.rand(N) * (K - 1)):int() + 1 -- class 6 never predicted
  tensor.save(a:int(), T.tmp("a.npy")); tensor.save(b:int(), T.tmp("b.npy"))
  local cls = { "zero", "one", "two", "three", "four", "five" }
  local cm = metrics.confusion(a:int(), b:int(), cls)
  local out = T.python([[
import warnings, json
warnings.simplefilter("ignore")
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, classification_report, accuracy_score
a = np.load("a.npy"); b = np.load("b.npy")
labels = list(range(1, 7))
cm = confusion_matrix(a, b, labels=labels)
p, r, f, s = precision_recall_fscore_support(a, b, labels=labels, zero_division=0)
names = ["zero", "one", "two", "three", "four", "five"]
rep2 = classification_report(a, b, labels=labels, target_names=names, zero_division=0)
rep4 = classification_report(a, b, labels=labels, target_names=names, digits=4, zero_division=0)
open("rep2.txt", "w").write(rep2); open("rep4.txt", "w").write(rep4)
print(json.dumps({"cm": cm.tolist(), "p": p.tolist(), "r": r.tolist(), "f": f.tolist(),
                  "s": s.tolist(), "acc": accuracy_score(a, b)}))
]])
  local function arr(key)
    local body = out:match('"' .. key .. '": (%b[])')
    local t = {}
    for v in body:gmatch("[-%d%.e]+") do t[#t + 1] = tonumber(v) end
    return t
  end
  local cmv = arr("cm")
  for i = 1, K do
    for j = 1, K do T.eq(cm.counts:get(i, j), math.tointeger(cmv[(i - 1) * K + j]), ("cell %d,%d"):format(i, j)) end
  end
  local p, r, f, s = arr("p"), arr("r"), arr("f"), arr("s")
  for i = 1, K do
    T.near(cm:precision()[i], p[i], 1e-12, "precision " .. i)
    T.near(cm:recall()[i], r[i], 1e-12, "recall " .. i)
    T.near(cm:f1()[i], f[i], 1e-12, "f1 " .. i)
    T.eq(cm:support()[i], math.tointeger(s[i]), "support " .. i)
  end
  T.near(cm:accuracy(), tonumber(out:match('"acc": ([%d%.e-]+)')), 1e-12)
  T.near(metrics.accuracy(b:int(), a:int()), tonumber(out:match('"acc": ([%d%.e-]+)')), 1e-12)
  local function read(name)
    local fh = assert(io.open(T.tmp(name))); local txt = fh:read("a"); fh:close(); return txt
  end
  T.eq(metrics.report(a:int(), b:int(), cls), read("rep2.txt"), "report, 2 digits")
  T.eq(metrics.report(a:int(), b:int(), cls, { digits = 4 }), read("rep4.txt"), "report, 4 digits")
end)

T.test("tostring(cm): the course's table, whole class names, in 100 columns", function()
  local cls = { "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck" }
  tensor.seed(3)
  local a = (tensor.rand(2000) * 10):int() + 1
  local b = (tensor.rand(2000) * 10):int() + 1
  local cm = metrics.confusion(a, b, cls)
  local text = tostring(cm)
  local lines = {}
  for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
  T.eq(#lines, 13, "two staggered header lines, 10 rows, precision row")
  for i, l in ipairs(lines) do T.ok(utf8.len(l) <= 100, ("line %d has %d columns"):format(i, utf8.len(l))) end
  -- every name whole in the header, right-aligned over its own column
  local edge = #lines[3] - #("   9.6%") -- where the last count column ends
  for j, name in ipairs(cls) do
    local head = lines[j % 2 == 1 and 1 or 2]
    local stop = 10 + j * 7
    T.eq(head:sub(stop - #name + 1, stop), name, "header of column " .. j)
  end
  T.ok(edge > 0)
  T.ok(lines[2]:find("^true\\pred") and lines[2]:find("recall$"), "corner and recall heading")
  T.ok(lines[13]:find("^precision"), "precision row")
  T.ok(lines[13]:find(("accuracy %.1f%%"):format(100 * cm:accuracy()), 1, true), "accuracy in the corner")
  for i = 1, 10 do
    local row = lines[i + 2]
    T.eq(row:sub(1, 11), cls[i] .. string.rep(" ", 11 - #cls[i]), "row name " .. cls[i] .. " whole")
    -- the cells hold the counts, in order, then the recall
    local nums = {}
    for v in row:sub(11):gmatch("[%d%.]+") do nums[#nums + 1] = tonumber(v) end
    for j = 1, 10 do T.eq(nums[j], cm.counts:get(i, j), ("row %d col %d"):format(i, j)) end
    T.near(nums[11], tonumber(("%.1f"):format(100 * cm:recall()[i])), 1e-9)
    T.eq(#row, #lines[3], "rows aligned")
  end
  -- the small example: full names fit
  local small = tostring(metrics.confusion(yt, yp, names))
  T.ok(small:find("automobile", 1, true) and small:find("accuracy 70.0%", 1, true), small)
  -- Spanish words, the same numbers, still within 100 columns
  lesson.lang = "es"
  local es = tostring(cm)
  lesson.lang = "en"
  T.ok(es:find("real\\pred", 1, true) and es:find("sensibilidad", 1, true) and es:find("precisión", 1, true)
    and es:find(("exactitud %.1f%%"):format(100 * cm:accuracy()), 1, true), es)
  for l in es:gmatch("[^\n]+") do T.ok(utf8.len(l) <= 100, l) end
  T.ok(not es:find("recall", 1, true) and not es:find("accuracy", 1, true), "no English word in Spanish")
end)

T.test("most_confused prints its pairs with the class names, in the language", function()
  local cm = metrics.confusion(yt, yp, names)
  local mc = cm:most_confused(2)
  T.eq(tostring(mc), "airplane → automobile: 1 times\nautomobile → cat: 1 times")
  lesson.lang = "es"
  T.eq(tostring(mc), "airplane → automobile: 1 veces\nautomobile → cat: 1 veces")
  lesson.lang = "en"
  T.eq(mc[1]["true"], 1, "the entries stay class indices")
end)

T.test("metrics.report: scikit-learn's English layout under en, Spanish headings under es", function()
  local en = metrics.report(yt, yp, names)
  T.ok(en:find("precision    recall  f1-score   support", 1, true), en)
  lesson.lang = "es"
  local es = metrics.report(yt, yp, names)
  lesson.lang = "en"
  T.ok(es:find("precisión", 1, true) and es:find("soporte", 1, true) and es:find("media ponderada", 1, true), es)
  T.ok(not es:find("support", 1, true) and not es:find("weighted", 1, true), es)
end)

T.test("bad input: lengths, ranges, types", function()
  T.raises(function() metrics.confusion(yt, tensor.new({ 1, 2 }, "int32"), names) end,
    { "y_pred", "expected 10 examples", "got 2" })
  T.raises(function() metrics.confusion(yt, yp, { "a", "b" }) end, { "y_true", "1..2", "got 3" })
  T.raises(function() metrics.confusion(tensor.new({ 0, 1 }, "int32"), tensor.new({ 1, 1 }, "int32"), 2) end,
    { "1..2", "got 0", "position 1" })
  T.raises(function() metrics.confusion(tensor.new({ 1.5, 1 }), tensor.new({ 1, 1 }), 2) end,
    { "whole class indices", "1.5" })
  T.raises(function() metrics.confusion("x", yp) end, { "Tensor expected" })
  T.raises(function() metrics.confusion(yt, yp, "names") end, { "classes", "got string" })
  T.raises(function() metrics.confusion(yt, tensor.zeros(10, 4), names) end, { "N x 3", "got 4 columns" })
  T.raises(function() metrics.confusion(tensor.zeros(2, 2, 2), yp) end, { "y_true", "2x2x2" })
  T.raises(function() metrics.accuracy(tensor.new({ 1, 2, 3 }, "int32"), yt) end, { "pred", "expected 10", "got 3" })
  T.raises(function() metrics.accuracy(yt) end, { "Tensor expected" })
  T.raises(function() metrics.report(yt, yp, names, { digits = "x" }) end, { "digits", "got x" })
  T.raises(function() metrics.confusion(yt, yp, names):most_confused(-1) end, { "count >= 0" })
end)

T.done()
