-- harness.lua: the smallest test harness that does the job in headless Neovim: named checks
-- that print "ok"/"FAIL", wait helpers, and a "N passed, N failed" summary line per spec.
local T = { passed = 0, failed = 0 }

-- print() in `nvim -l` puts the newline before the next message; write whole lines instead.
local function say(s)
  io.stdout:write(s, '\n')
  io.stdout:flush()
end
T.say = say

--- Runs fn; an error (assert/error) fails the check. fn may return a detail string.
function T.check(name, fn)
  local t0 = vim.uv.hrtime()
  local ok, res = xpcall(fn, debug.traceback)
  local ms = (vim.uv.hrtime() - t0) / 1e6
  if ok then
    T.passed = T.passed + 1
    say(('ok   %s (%.0f ms)%s'):format(name, ms, res and (' — ' .. tostring(res)) or ''))
  else
    T.failed = T.failed + 1
    say(('FAIL %s: %s'):format(name, tostring(res)))
  end
  return ok
end

function T.fail_outside(name, err)
  T.failed = T.failed + 1
  say(('FAIL %s: %s'):format(name, tostring(err)))
end

--- Waits until cond() is truthy (processing events); errors with what after timeout_ms.
function T.wait(timeout_ms, cond, what)
  local ok = vim.wait(timeout_ms, function()
    local v = cond()
    return v ~= nil and v ~= false
  end, 50)
  if not ok then error('timed out after ' .. timeout_ms .. ' ms waiting for ' .. what, 2) end
end

function T.eq(got, want, what)
  if not vim.deep_equal(got, want) then
    error(('%s: got %s, want %s'):format(what or 'value', vim.inspect(got), vim.inspect(want)), 2)
  end
end

function T.finish(spec)
  say(('%s: %d passed, %d failed'):format(spec, T.passed, T.failed))
  return T.failed == 0 and 0 or 1
end

return T
