-- goblock.health: `:checkhealth goblock` — Neovim version, setup(), the server binary and its
-- version, the running client, inlay hints, and the trace files of the current directory.
local M = {}

local h = vim.health

function M.check()
  h.start('goblock: Neovim')
  local v = vim.version()
  local ver = ('%d.%d.%d'):format(v.major, v.minor, v.patch)
  if vim.fn.has('nvim-0.10') == 1 then
    h.ok('Neovim ' .. ver .. (vim.fn.has('nvim-0.11') == 1 and ' (vim.lsp.config/enable)' or ' (vim.lsp.start)'))
  else
    h.error('Neovim ' .. ver .. ' is too old: goblock needs 0.10+ (inlay hints)')
  end

  h.start('goblock: setup')
  local goblock = require('goblock')
  if not goblock.opts then
    h.warn("require('goblock').setup() was not called: the server is not registered for Go buffers", {
      "add require('goblock').setup({}) to your config (:help goblock-setup)",
      'or run any :Goblock command, which calls it with the defaults',
    })
    return
  end
  h.ok('setup() called')

  h.start('goblock: server')
  local cmd = require('goblock.config').cmd(goblock.opts)
  if type(cmd) == 'function' then
    h.info('cmd is a function (not checked)')
  else
    local exe = vim.fn.exepath(cmd[1])
    if exe == '' then
      h.error(('server binary %q not found'):format(cmd[1]), {
        'build it: cargo build --release (target/release/goblock)',
        "or set setup({ server_path = '/path/to/goblock' })",
      })
    else
      local out = vim.fn.system({ exe, '--version' })
      if vim.v.shell_error == 0 then
        h.ok(('%s (%s)'):format(exe, vim.trim(out)))
      else
        h.warn(('%s --version failed: %s'):format(exe, vim.trim(out)))
      end
      h.info('command: ' .. table.concat(cmd, ' '))
    end
  end

  h.start('goblock: client')
  local clients = vim.lsp.get_clients({ name = goblock.name })
  if #clients == 0 then
    h.info('not running: it starts when you open a Go file inside a Go module (go.mod/go.work)')
  else
    for _, c in ipairs(clients) do
      local bufs = vim.tbl_keys(c.attached_buffers or {})
      h.ok(('client %d, root %s, %d buffer(s)'):format(c.id, c.root_dir or c.config.root_dir or '?', #bufs))
    end
  end
  h.info(('inlay hints: %s by setup(); in this buffer: %s'):format(
    goblock.opts.inlay_hints and 'on' or 'off',
    vim.lsp.inlay_hint.is_enabled({ bufnr = 0 }) and 'on' or 'off'
  ))

  h.start('goblock: traces')
  local globs = goblock.opts.settings.traces or { '**/*.trace', '**/trace.out', '**/*.trace.out' }
  local found = {}
  for _, g in ipairs(globs) do
    for _, f in ipairs(vim.fn.globpath(vim.fn.getcwd(), g, false, true)) do
      found[#found + 1] = vim.fn.fnamemodify(f, ':.')
    end
  end
  if #found == 0 then
    h.info('no trace files under ' .. vim.fn.getcwd() .. ' (' .. table.concat(globs, ', ') .. '); :Goblock load {file}')
  else
    h.ok(#found .. ' trace file(s): ' .. table.concat(vim.list_slice(found, 1, 5), ', ') .. (#found > 5 and ', …' or ''))
  end
end

return M
