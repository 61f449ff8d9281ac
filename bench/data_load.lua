-- data_load.lua — loads one dataset (arg: mnist | cifar10) and prints the
-- wall time of the load and the peak resident memory (VmHWM) of the process.
local which = arg and arg[1] or ...
local clock = nnlab.clock -- wall seconds (os.clock would add up the CPU time of every thread)
local t0 = clock()
local train, test = data[which]()
local secs = clock() - t0
local hwm = "?"
for line in io.lines("/proc/self/status") do
  local kb = line:match("^VmHWM:%s+(%d+)")
  if kb then hwm = string.format("%.0f", tonumber(kb) / 1024) end
end
print(string.format("%s %.3f %s %d %d", which, secs, hwm, #train, #test))
