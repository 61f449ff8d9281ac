#!/usr/bin/env nnlab
---es Hola
---en Hello
--- both
local x = 1

---- comment
print(x)
---
