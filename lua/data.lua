-- data.lua — Lua sugar over the C data core (_data).
local C = require "_data"
local M = {}
for k, v in pairs(C) do M[k] = v end
return M
