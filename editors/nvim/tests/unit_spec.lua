-- unit_spec.lua: the plugin's own logic without a server: plugin/goblock.lua (commands before
-- setup(), nothing loaded), :Goblock's completion, the help file's tags, options, settings sent
-- to the server, hot-line parsing and quickfix items, and the legacy (vim.lsp.start) path.
local T = require('harness')
local plugin = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')

T.check('plugin/goblock.lua defines the commands without loading the plugin', function()
  vim.cmd.runtime('plugin/goblock.lua')
  for _, name in ipairs({ 'Goblock', 'GoblockLoad', 'GoblockReload', 'GoblockClear', 'GoblockHot', 'GoblockHints' }) do
    assert(vim.fn.exists(':' .. name) == 2, ':' .. name .. ' missing')
  end
  for _, m in ipairs({ 'goblock', 'goblock.commands', 'goblock.config', 'goblock.hot' }) do
    assert(package.loaded[m] == nil, m .. ' loaded at startup')
  end
  vim.cmd.runtime('plugin/goblock.lua') -- a second source is a no-op
end)

T.check(':Goblock completes its subcommands and their arguments', function()
  local c = function(line) return vim.fn.getcompletion(line, 'cmdline') end
  T.eq(c('Goblock '), {
    'cancel', 'capture', 'captures', 'clear', 'goroutines', 'health', 'hints', 'hot', 'load', 'reload', 'status', 'trace',
  }, 'subcommands')
  T.eq(c('Goblock h'), { 'health', 'hints', 'hot' }, 'prefix')
  T.eq(c('Goblock! hot '), { 'quickfix', 'select' }, 'hot')
  T.eq(c('Goblock hot 10 s'), { 'select' }, 'hot after a count')
  T.eq(c('Goblock clear '), {}, 'no arguments')
  local files = c('Goblock load ' .. plugin .. '/doc/gob')
  T.eq(#files, 1, 'file completion ' .. vim.inspect(files))
  assert(files[1]:match('doc/goblock%.txt$'), files[1])
end)

T.check(':Goblock without or with a wrong subcommand says what exists', function()
  local msgs = {}
  local orig = vim.notify
  vim.notify = function(m) msgs[#msgs + 1] = m end
  vim.cmd('Goblock')
  vim.cmd('Goblock frobnicate')
  vim.notify = orig
  assert(msgs[1]:find('load', 1, true) and msgs[1]:find('hot', 1, true), vim.inspect(msgs))
  assert(msgs[2]:find('unknown subcommand "frobnicate"', 1, true), vim.inspect(msgs))
  assert(require('goblock').opts == nil, 'listing the subcommands ran setup()')
  vim.notify = function() end
  vim.cmd('Goblock hints')
  vim.notify = orig
  assert(require('goblock').opts, 'a subcommand before setup() did not call setup()')
end)

T.check(':help goblock: every tag, subcommand, option and function is there; links resolve', function()
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir .. '/doc', 'p')
  vim.fn.writefile(vim.fn.readfile(plugin .. '/doc/goblock.txt'), dir .. '/doc/goblock.txt')
  vim.cmd.helptags(dir .. '/doc') -- errors on a duplicate tag
  local tags = {}
  for _, l in ipairs(vim.fn.readfile(dir .. '/doc/tags')) do tags[l:match('^[^\t]+')] = true end
  vim.opt.rtp:prepend(dir)
  vim.cmd.help('goblock')
  assert(vim.api.nvim_buf_get_name(0):match('goblock%.txt$'), 'help opened ' .. vim.api.nvim_buf_get_name(0))
  vim.cmd.helpclose()
  local want = { 'goblock', 'goblock-setup', 'goblock.setup()', 'goblock-options', ':Goblock' }
  for name in pairs(require('goblock.commands').subcommands) do want[#want + 1] = ':Goblock-' .. name end
  for _, a in ipairs({ 'GoblockLoad', 'GoblockReload', 'GoblockClear', 'GoblockHot', 'GoblockHints' }) do
    want[#want + 1] = ':' .. a
  end
  for key in pairs(require('goblock.config').defaults) do want[#want + 1] = 'goblock-opt-' .. key end
  for name, v in pairs(require('goblock')) do
    if type(v) == 'function' and not name:match('^_') then want[#want + 1] = 'goblock.' .. name .. '()' end
  end
  local missing = vim.tbl_filter(function(t) return not tags[t] end, want)
  T.eq(missing, {}, 'tags missing from doc/goblock.txt')
  -- Every |link| is one of ours or one of Neovim's help tags.
  local text = table.concat(vim.fn.readfile(plugin .. '/doc/goblock.txt'), '\n')
  local broken = {}
  for link in text:gmatch('|([^|%s]+)|') do
    if not tags[link] and not pcall(vim.cmd.help, link) then broken[#broken + 1] = link end
  end
  pcall(vim.cmd.helpclose)
  T.eq(broken, {}, 'links without a help tag')
  vim.fn.delete(dir, 'rf')
  return #want .. ' tags checked'
end)

local config = require('goblock.config')
local hot = require('goblock.hot')

T.check('defaults resolve', function()
  local o = config.resolve()
  T.eq(o.inlay_hints, true, 'inlay_hints')
  T.eq(o.hot, { limit = 30, picker = 'quickfix', open = true, library = false }, 'hot')
  T.eq(config.cmd(o), { 'goblock', 'lsp' }, 'cmd')
  T.eq(vim.json.encode(config.server_settings(o)), '{}', 'unset settings are not sent (and make an object)')
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

-- Shaped like the example of goblock.hotLines in docs/lsp.md, "goblock.hotLines result" (1-based lines).
local function line(uri, l, total_ms, count, reasons, label)
  return { file = uri:sub(8), uri = uri, line = l, ['function'] = 'main.f', kind = 'chan-recv', reasons = reasons,
    count = count, totalNs = total_ms * 1e6, totalMs = total_ms, p99Ms = 1, share = 0.1, inWorkspace = true,
    message = count .. ' blocks', label = label }
end
local sample = {
  loading = false,
  traces = { { path = '/ws/blocking.trace', goVersion = '1.26' } },
  failures = {},
  lines = {
    line('file:///ws/main.go', 109, 2000, 3, { 'chan receive' }, '2.00 s · 3 blocks · 10 % · chan receive'),
    line('file:///ws/main.go', 252, 2500, 4, { 'sync.Mutex.Lock' }, '2.50 s · 4 blocks · 10 % · sync.Mutex.Lock'),
    line('file:///ws/producer.go', 32, 1.5, 10, { 'select' }),
  },
  unmapped = {},
}

T.check('hot lines: parse, sort, describe', function()
  local lines, all = hot.parse(sample)
  T.eq(vim.tbl_map(function(l) return l.line end, lines), { 252, 109, 32 }, 'hottest first, 1-based')
  T.eq(all.traces[1].goVersion, '1.26', 'whole result')
  T.eq(hot.describe(lines[1]), '2.50 s · 4 blocks · 10 % · sync.Mutex.Lock', 'the server label')
  T.eq(hot.describe(lines[3]), '10 blocks', 'an older server: its diagnostic message')
  T.eq(lines[2].func, 'main.f', 'function')
end)

T.check('hot lines: library lines only on request, limit after filtering', function()
  local s = vim.deepcopy(sample)
  table.insert(s.lines, 1, line('file:///usr/local/go/src/runtime/chan.go', 509, 2200, 7, { 'chan receive' }))
  s.lines[1].inWorkspace = false
  local lines = hot.parse(s)
  local names = function(ls)
    return vim.tbl_map(function(l) return vim.fs.basename(l.uri) .. ':' .. l.line end, ls)
  end
  T.eq(names(hot.visible(lines, false, 2)), { 'main.go:252', 'main.go:109' }, 'workspace only')
  T.eq(names(hot.visible(lines, true, 2)), { 'main.go:252', 'chan.go:509' }, 'with library lines')
end)

T.check('hot lines: wrong shapes are errors', function()
  assert(not pcall(hot.parse, vim.NIL), 'nil accepted')
  assert(not pcall(hot.parse, { { uri = 'file:///x', line = 1 } }), 'bare list accepted')
  assert(not pcall(hot.parse, { lines = { { uri = 'file:///x' } } }), 'entry without line accepted')
  local ok, err = pcall(hot.parse, { lines = { sample.lines[1], 'x' } })
  assert(not ok and err:find('line 2', 1, true), tostring(err))
end)

T.check('hot lines: quickfix items with file names and the server label', function()
  local items = hot.qf_items((hot.parse(sample)))
  T.eq({ items[1].filename, items[1].lnum, items[1].col }, { '/ws/main.go', 252, 1 }, 'first item')
  T.eq(items[1].text, '2.50 s · 4 blocks · 10 % · sync.Mutex.Lock', 'server label')
  T.eq(items[3].text, '10 blocks', 'an older server: its message')
  hot.show((hot.parse(sample)), { picker = 'quickfix', open = false })
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
  T.eq(msgs[2], 'goblock: no such file: /nonexistent.trace', 'a missing file')
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, 'p')
  vim.notify = function(m) msgs[#msgs + 1] = m end
  vim.cmd('Goblock load ' .. vim.fn.fnameescape(dir))
  vim.notify = orig
  T.eq(msgs[3], 'goblock: is a directory, not a file: ' .. dir, 'a directory')
  vim.fn.delete(dir, 'rf')
end)

-- The dumps' and profiles' part of goblock.hotLines (docs/lsp.md).
local dumps = vim.tbl_extend('force', vim.deepcopy(sample), {
  inputs = { { path = '/ws/hang.txt', kind = 'goroutine-dump', label = 'goroutine dump · 37 goroutines · SIGQUIT: quit' } },
  parked = {
    { uri = 'file:///ws/parked/pool.go', line = 27, inWorkspace = true, goroutines = 5,
      parkedLabel = 'parked now: 5 goroutines · chan receive · longest 3 min', label = 'x' },
    { uri = 'file:///ws/parked/contend.go', line = 17, inWorkspace = true,
      block = { count = 79, totalNs = 1.76e9, sampled = true, label = '79 contentions · 1.76 s delay (sampled)' },
      mutex = { count = 2, totalNs = 2.1e9, sampled = true, label = 'critical section delayed others by 2.10 s (sampled)' },
      label = 'y' },
    { uri = 'file:///usr/local/go/src/net/fd_unix.go', line = 172, inWorkspace = false, goroutines = 1,
      parkedLabel = 'parked now: 1 goroutine · IO wait', label = 'z' },
  },
})

T.check('hot lines: dump and profile rows by input kind, labelled by it', function()
  local rows = hot.parked(dumps, false, 10)
  T.eq(vim.tbl_map(function(r) return ('%s %s:%d %s'):format(r.kind, vim.fs.basename(r.uri), r.line, r.label) end, rows), {
    'parked pool.go:27 parked now: 5 goroutines · chan receive · longest 3 min',
    'block contend.go:17 block profile: 79 contentions · 1.76 s delay (sampled)',
    'mutex contend.go:17 mutex profile (where contention ended): critical section delayed others by 2.10 s (sampled)',
  }, 'rows')
  T.eq(#hot.parked(dumps, true, 10), 4, 'with library lines')
  T.eq(#hot.parked(dumps, true, 1), 3, 'at most 1 per kind')
  T.eq(hot.parked(sample, false, 10), {}, 'an older server')
  hot.show(hot.parse(dumps), { picker = 'quickfix', open = false }, rows)
  local qf = vim.fn.getqflist()
  T.eq(#qf, 6, 'traces then dumps/profiles')
  T.eq({ qf[4].lnum, qf[4].type, qf[4].text }, { 27, 'W', 'parked now: 5 goroutines · chan receive · longest 3 min' }, 'a dump row')
end)

T.check('goroutines: the buffer lists every row under its group', function()
  local lines = hot.goroutine_lines({
    uri = 'file:///ws/parked/pool.go', line = 27, ['function'] = 'main.(*Pool).worker', goroutines = 3,
    label = '3 goroutines in 2 groups',
    groups = { { label = '2 × chan receive' }, { label = '1 × select' } },
    rows = { { id = 8, group = 0, label = 'goroutine 8 · chan receive · 3 min' }, { id = 12, group = 0, label = 'goroutine 12 · chan receive' },
      { id = 40, group = 1, label = 'goroutine 40 · select' } },
  })
  T.eq(lines, { 'pool.go:27 · main.(*Pool).worker', '3 goroutines in 2 groups', '', '2 × chan receive',
    '  goroutine 8 · chan receive · 3 min', '  goroutine 12 · chan receive', '', '1 × select', '  goroutine 40 · select', '' }, 'lines')
  assert(not pcall(hot.goroutine_lines, { rows = {} }), 'no groups accepted')
end)

T.check('goblock/status: parsed, described, kept per client, announced', function()
  local st = require('goblock.status')
  local s = assert(st.parse({
    state = 'loaded', inputs = { { path = '/ws/a.trace', kind = 'trace', goVersion = '1.26', count = 12 } },
    failures = { { path = '/ws/b.trace', message = 'b.trace: an empty file' } },
    lines = 3, files = 1, unmapped = 0, totalNs = 3.41e9, totalLabel = '3.41 s', message = 'm',
  }))
  T.eq(s.inputs[1].go_version, '1.26', 'goVersion')
  T.eq(st.describe(s), 'goblock: 1 input · 3.41 s · 1 failed', 'describe')
  T.eq(st.describe(st.parse({ state = 'loading' })), 'goblock: loading…', 'loading')
  T.eq(st.describe(st.parse({ state = 'failed', inputs = {}, failures = { { path = '/b.trace', message = 'm' } } })),
    'goblock: 0 inputs · 1 failed', 'nothing shown')
  local bad, why = st.parse({ inputs = {} })
  assert(bad == nil and why:find('without a state'), why)
  local seen
  local id = vim.api.nvim_create_autocmd('User', {
    pattern = 'GoblockStatus',
    callback = function(ev) seen = ev.data end,
  })
  st.handler(nil, { state = 'loaded', inputs = {}, failures = {} }, { client_id = 4242 })
  vim.api.nvim_del_autocmd(id)
  T.eq(st.by_client[4242].state, 'loaded', 'kept')
  T.eq(seen and seen.state, 'loaded', 'User GoblockStatus')
end)

T.check('setup asks the server for goblock/status', function()
  local sc = vim.lsp.config and vim.lsp.config.goblock
  if not sc then return 'skipped: no vim.lsp.config (Neovim < 0.11)' end
  T.eq(sc.capabilities.experimental.goblockStatus, true, 'capability')
  assert(type(sc.handlers['goblock/status']) == 'function', 'handler')
end)

T.check(':Goblock capture sends what to capture and the seconds, in any order', function()
  local g = require('goblock')
  local sent, msgs = {}, {}
  local exec, notify = g.exec, vim.notify
  g.exec = function(command, args) sent[#sent + 1] = { command, args[1] } end
  vim.notify = function(m) msgs[#msgs + 1] = m end
  vim.cmd('Goblock capture localhost:6060')
  vim.cmd('Goblock capture localhost:6060 2 block')
  vim.cmd('Goblock capture localhost:6060 goroutines')
  vim.cmd('Goblock capture localhost:6060 heap 2')
  vim.cmd('Goblock capture localhost:6060 1 2')
  g.exec, vim.notify = exec, notify
  local svc = 'goblock.captureService'
  T.eq(sent, {
    { svc, { url = 'localhost:6060', seconds = 5, what = 'trace' } },
    { svc, { url = 'localhost:6060', seconds = 2, what = 'block' } },
    { svc, { url = 'localhost:6060', what = 'goroutines' } },
  }, 'sent')
  T.eq(msgs[#msgs - 1]:find('cannot capture "heap"', 1, true) ~= nil, true, vim.inspect(msgs))
  T.eq(msgs[#msgs]:find('usage: :Goblock capture', 1, true) ~= nil, true, vim.inspect(msgs))
  local c = function(line) return vim.fn.getcompletion(line, 'cmdline') end
  T.eq(c('Goblock capture localhost:6060 g'), { 'goroutines' }, 'completion')
end)

T.check('load failures become one message', function()
  local f = require('goblock')._failures
  T.eq(f({ loaded = { '/a' }, failures = {} }), nil, 'no failures')
  T.eq(f({ superseded = true }), nil, 'superseded')
  -- The message names its file: said once.
  T.eq(f({ failures = { { path = '/x/bad.trace', message = '/x/bad.trace: not a Go trace' } } }),
    '/x/bad.trace: not a Go trace', 'one')
  T.eq(f({ failures = { { path = '/a', message = '/a: x' }, { path = '/b', message = '/b: y' } } }), '/a: x; /b: y', 'two')
end)

T.check('checkhealth goblock runs', function()
  vim.cmd('silent checkhealth goblock')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  assert(text:find('setup() called', 1, true), text)
  assert(text:find('server binary "/opt/goblock" not found', 1, true), text)
  vim.cmd('bwipeout!')
end)
