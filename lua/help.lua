-- help.lua — the documentation of the public API.
return setmetatable({}, {__call = function() print('help: not yet written') end})
