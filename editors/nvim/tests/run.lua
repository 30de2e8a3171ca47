-- run.lua: runs one spec file in a clean headless Neovim and exits with its result.
--   nvim --headless --clean -l tests/run.lua tests/unit_spec.lua [args…]
-- The spec gets the remaining args in _G.arg; it calls T.check(name, fn) (see harness.lua).
local spec = assert(arg[1], 'usage: run.lua SPEC [args…]')
local plugin = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
vim.opt.rtp:prepend(plugin)
-- As Neovim sources the plugin/ files of 'runtimepath' at startup (`--clean -l` does not).
vim.cmd.runtime('plugin/goblock.lua')
package.path = plugin .. '/tests/?.lua;' .. package.path
_G.arg = { unpack(arg, 2) }
local T = require('harness')
-- Messages from the plugin on their own lines (headless vim.notify writes no newline).
vim.notify = function(msg, level)
  io.stderr:write(('  notify[%s]: %s\n'):format(level or vim.log.levels.INFO, msg))
end
local ok, err = xpcall(dofile, debug.traceback, spec)
if not ok then T.fail_outside('spec ' .. spec, err) end
os.exit(T.finish(vim.fn.fnamemodify(spec, ':t:r')))
