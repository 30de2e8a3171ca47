-- plugin/goblock.lua: defines :Goblock {subcommand} (with completion) and the old :GoblockLoad…
-- names at startup, without loading the plugin: lua/goblock/ loads on the first use of a
-- command or require('goblock'). See :help goblock.
if vim.g.loaded_goblock == 1 or vim.fn.has('nvim-0.10') == 0 then return end
vim.g.loaded_goblock = 1

vim.api.nvim_create_user_command('Goblock', function(cmd)
  require('goblock.commands').dispatch(cmd)
end, {
  nargs = '*',
  bang = true,
  count = 0,
  desc = 'goblock: load|reload|clear|hot|hints|status|trace|capture|captures|cancel|health (:help :Goblock)',
  complete = function(arglead, cmdline)
    return require('goblock.commands').complete(arglead, cmdline)
  end,
})

-- The old names (before :Goblock), as aliases of its subcommands.
local aliases = {
  GoblockLoad = { 'load', { nargs = 1, complete = 'file' } },
  GoblockReload = { 'reload', {} },
  GoblockClear = { 'clear', {} },
  GoblockHot = { 'hot', { bang = true, count = 0 } },
  GoblockHints = { 'hints', {} },
  GoblockTrace = { 'trace', { bang = true } },
  GoblockCapture = { 'capture', { nargs = '+' } },
  GoblockCaptures = { 'captures', {} },
}
for name, a in pairs(aliases) do
  local opts = vim.tbl_extend('force', a[2], { desc = 'goblock: alias of :Goblock ' .. a[1] })
  vim.api.nvim_create_user_command(name, function(cmd)
    cmd.fargs = vim.list_extend({ a[1] }, cmd.fargs)
    require('goblock.commands').dispatch(cmd)
  end, opts)
end
