-- unit_spec.lua: the plugin's own logic without a server: options, settings sent to the
-- server, hot-line parsing and quickfix items, commands and the legacy (vim.lsp.start) path.
local T = require('harness')
local config = require('goblock.config')
local hot = require('goblock.hot')

T.check('defaults resolve', function()
  local o = config.resolve()
  T.eq(o.inlay_hints, true, 'inlay_hints')
  T.eq(o.hot, { limit = 30, picker = 'quickfix', open = true }, 'hot')
  T.eq(config.cmd(o), { 'goblock', 'lsp' }, 'cmd')
  T.eq(config.server_settings(o), {}, 'unset settings are not sent')
end)

T.check('options: server_path, cmd, settings', function()
  local o = config.resolve({ server_path = '~/bin/goblock', settings = { categories = { 'sync' }, diagnostics = { minTotalMs = 5 } } })
  T.eq(config.cmd(o), { vim.fn.expand('~/bin/goblock'), 'lsp' }, 'cmd from server_path')
  T.eq(config.server_settings(o), { categories = { 'sync' }, diagnostics = { minTotalMs = 5 } }, 'settings')
  T.eq(config.cmd(config.resolve({ cmd = { 'x', 'lsp', '-v' } })), { 'x', 'lsp', '-v' }, 'explicit cmd')
end)

T.check('bad options are errors naming the key', function()
  local cases = {
    { { inlay_hints = 'yes' }, 'inlay_hints' },
    { { hot = { picker = 'telescope' } }, 'hot.picker' },
    { { settings = { traces = '*.trace' } }, 'settings.traces' },
    { { server_path = 3 }, 'server_path' },
  }
  for _, c in ipairs(cases) do
    local ok, err = pcall(config.resolve, c[1])
    assert(not ok, vim.inspect(c[1]) .. ' accepted')
    assert(tostring(err):find(c[2], 1, true), tostring(err))
  end
end)

local sample = {
  { uri = 'file:///ws/main.go', line = 108, totalNs = 2e9, count = 3, reasons = { 'chan receive' } },
  { uri = 'file:///ws/main.go', line = 251, totalNs = 2.5e9, count = 4, reasons = { 'sync.Mutex.Lock' } },
  { uri = 'file:///ws/producer.go', line = 31, totalNs = 1.5e6, count = 10, reasons = { { reason = 'select' } } },
}

T.check('hot lines: parse, sort, describe', function()
  local lines = hot.parse(sample)
  T.eq(vim.tbl_map(function(l) return l.line end, lines), { 251, 108, 31 }, 'hottest first')
  T.eq(hot.describe(lines[1]), 'Σ 2.50 s · 4× · sync.Mutex.Lock', 'describe')
  T.eq(hot.describe(lines[3]), 'Σ 1.5 ms · 10× · select', 'describe (object reasons)')
  T.eq(#hot.parse({ lines = sample }), 3, '{lines=…} form')
end)

T.check('hot lines: wrong shapes are errors', function()
  assert(not pcall(hot.parse, vim.NIL), 'nil accepted')
  assert(not pcall(hot.parse, { { uri = 'file:///x' } }), 'entry without line accepted')
  local ok, err = pcall(hot.parse, { sample[1], 'x' })
  assert(not ok and err:find('entry 2', 1, true), tostring(err))
end)

T.check('hot lines: quickfix items are 1-based with file names', function()
  local items = hot.qf_items(hot.parse(sample))
  T.eq({ items[1].filename, items[1].lnum, items[1].col }, { '/ws/main.go', 252, 1 }, 'first item')
  T.eq(items[3].text, 'Σ 1.5 ms · 10× · select', 'text')
  hot.show(hot.parse(sample), { picker = 'quickfix', open = false })
  local qf = vim.fn.getqflist({ title = 1, items = 1 })
  T.eq(qf.title, 'goblock: blocking hot spots', 'title')
  T.eq(#qf.items, 3, 'items')
end)

T.check('setup registers the server config and the commands (0.11+ path)', function()
  local g = require('goblock')
  assert(g._has_lsp_config(), 'this Neovim has vim.lsp.config')
  g.setup({ server_path = '/opt/goblock', settings = { categories = { 'sync', 'net' } } })
  local c = vim.lsp.config.goblock
  T.eq(c.cmd, { '/opt/goblock', 'lsp' }, 'cmd')
  T.eq(c.filetypes, { 'go', 'gomod' }, 'filetypes')
  T.eq(c.settings, { goblock = { categories = { 'sync', 'net' } } }, 'settings')
  for _, name in ipairs({ 'GoblockLoad', 'GoblockReload', 'GoblockClear', 'GoblockHot', 'GoblockHints' }) do
    assert(vim.fn.exists(':' .. name) == 2, name .. ' missing')
  end
  assert(vim.lsp.is_enabled == nil or vim.lsp.is_enabled('goblock'), 'enabled')
end)

T.check('commands without a server say so instead of failing silently', function()
  local msgs = {}
  local orig = vim.notify
  vim.notify = function(m) msgs[#msgs + 1] = m end
  vim.cmd('GoblockHot')
  vim.cmd('GoblockLoad /nonexistent.trace')
  vim.notify = orig
  assert(msgs[1] and msgs[1]:find('no goblock language server', 1, true), vim.inspect(msgs))
  assert(msgs[2] and msgs[2]:find('cannot read', 1, true), vim.inspect(msgs))
end)

T.check('checkhealth goblock runs', function()
  vim.cmd('silent checkhealth goblock')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  assert(text:find('setup() called', 1, true), text)
  assert(text:find('server binary "/opt/goblock" not found', 1, true), text)
  vim.cmd('bwipeout!')
end)
