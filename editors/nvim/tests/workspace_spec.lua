-- workspace_spec.lua: the plugin against the real `goblock lsp` on the fixture workspace
-- (testdata/programs/blocking + its Go 1.26 trace): diagnostics at the expected lines (with
-- the default thresholds and with none), inlay hints, the hover window (summary first, the
-- goroutine table as aligned text),
-- :Goblock hot (quickfix) and :GoblockHot! (vim.ui.select), :Goblock clear, :Goblock status,
-- load and progress.
-- Args: SERVER WORKSPACE MARKERS_TSV [legacy] ("legacy" forces the vim.lsp.start path).
local T = require('harness')
local server, ws, markers, mode = arg[1], arg[2], arg[3], arg[4]
assert(server and ws and markers, 'usage: workspace_spec.lua SERVER WORKSPACE MARKERS [legacy]')
local LSP_TIMEOUT = tonumber(vim.env.GOBLOCK_NVIM_TIMEOUT_MS or '60000')

local log = vim.lsp.log and vim.lsp.log.set_level or vim.lsp.set_log_level
log('debug')

-- BLOCK markers (testdata/markers.tsv) of blocking/main.go in the default categories (no
-- sleep) that block while the trace runs. Left out: select{} forever and the goroutines that
-- blocked before trace.Start (the server does not attribute those yet).
local SITES, AT_END = {}, {}
for l in io.lines(markers) do
  local f, line, kind, reason, desc = l:match('^blocking/([^\t]+)\t(%d+)\t(%u+)\t([^\t]+)\t(.*)$')
  if f == 'main.go' and kind == 'BLOCK' and reason ~= 'sleep' and reason ~= 'forever'
    and not desc:find('before trace.Start', 1, true) then
    SITES[#SITES + 1] = { line = tonumber(line), reason = reason, desc = desc }
    if desc:find('still blocked at trace.Stop', 1, true) then AT_END[#AT_END + 1] = tonumber(line) end
  end
end
assert(#SITES >= 10 and #AT_END == 3, ('markers: %d sites, %d at the end'):format(#SITES, #AT_END))
local HOVER_LINE = SITES[1].line -- the unbuffered chan receive, woken by a send
-- Diagnostic codes (docs/lsp.md, "What it shows") a marker's reason may map to.
local CODES = {
  ['chan receive'] = { 'chan-recv' },
  ['chan send'] = { 'chan-send' },
  ['select'] = { 'select' },
  ['sync'] = { 'mutex', 'waitgroup', 'cond', 'sync' },
  ['sync.(*Cond).Wait'] = { 'cond' },
  ['network'] = { 'net' },
  ['syscall'] = { 'syscall' },
}

local progress = {}
vim.api.nvim_create_autocmd('LspProgress', {
  callback = function(ev)
    local v = ev.data.params.value
    progress[#progress + 1] = v.kind .. ':' .. (v.title or v.message or '')
  end,
})

local g = require('goblock')
if mode == 'legacy' then g._has_lsp_config = function() return false end end
g.setup({ server_path = server })
vim.cmd.cd(vim.fn.fnameescape(ws))
vim.cmd.edit('main.go')
local buf = vim.api.nvim_get_current_buf()
local client

T.check(('server attaches (%s)'):format(mode == 'legacy' and 'vim.lsp.start' or 'vim.lsp.enable'), function()
  T.wait(LSP_TIMEOUT, function()
    client = g.client(buf)
    return client and client.initialized
  end, 'the goblock client')
  T.eq(client.config.cmd, { server, 'lsp' }, 'cmd')
  return 'root ' .. tostring(client.root_dir or client.config.root_dir)
end)
if not client then
  T.say('(no client: see ' .. (vim.lsp.log and vim.lsp.log.get_filename or vim.lsp.get_log_path)() .. ')')
  return
end

local function ours()
  local by_line = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.source == 'goblock' then by_line[d.lnum + 1] = d end
  end
  return by_line
end
local DEFAULT_LINES -- main.go lines with a diagnostic at the default thresholds
local function lines_of(t)
  local ls = vim.tbl_keys(t)
  table.sort(ls)
  return table.concat(ls, ', ')
end

T.check('diagnostics at the expected lines (default thresholds)', function()
  T.wait(LSP_TIMEOUT, function() return next(ours()) end, 'goblock diagnostics in main.go')
  vim.wait(500)
  local got, block = ours(), {}
  for _, s in ipairs(SITES) do block[s.line] = true end
  for _, l in ipairs(AT_END) do
    assert(got[l], ('no diagnostic at main.go:%d (still blocked at trace.Stop); got %s'):format(l, lines_of(got)))
  end
  for l in pairs(got) do
    assert(block[l], ('diagnostic at main.go:%d, which is no blocking site'):format(l))
  end
  DEFAULT_LINES = lines_of(got)
  return ('lines %s; %d: %s'):format(DEFAULT_LINES, AT_END[1], got[AT_END[1]].message)
end)

T.check('with zero thresholds every blocking site has a diagnostic of its kind', function()
  g.set_settings({ diagnostics = { minTotalMs = 0, minShare = 0 } })
  local missing
  T.wait(LSP_TIMEOUT, function()
    local got = ours()
    missing = vim.tbl_filter(function(s) return not got[s.line] end, SITES)
    return #missing == 0
  end, 'diagnostics at every site; missing ' .. vim.inspect(vim.tbl_map(function(s) return s.line end, missing or {})))
  local got = ours()
  for _, s in ipairs(SITES) do
    local code = got[s.line].code
    assert(vim.tbl_contains(CODES[s.reason] or {}, code),
      ('main.go:%d (%s): code %s'):format(s.line, s.reason, vim.inspect(code)))
  end
  g.set_settings({ diagnostics = { minTotalMs = 1, minShare = 0.01 } })
  T.wait(LSP_TIMEOUT, function() return lines_of(ours()) == DEFAULT_LINES end, 'the default thresholds again')
  return #SITES .. ' sites'
end)

T.check('inlay hints are enabled and present', function()
  assert(vim.lsp.inlay_hint.is_enabled({ bufnr = buf }), 'inlay hints not enabled in the Go buffer')
  local hints, at
  T.wait(LSP_TIMEOUT, function()
    hints = vim.lsp.inlay_hint.get({ bufnr = buf })
    for _, h in ipairs(hints) do
      if h.inlay_hint.position.line + 1 == HOVER_LINE then at = h.inlay_hint end
    end
    return at
  end, 'an inlay hint on line ' .. HOVER_LINE)
  local eol = #vim.api.nvim_buf_get_lines(buf, HOVER_LINE - 1, HOVER_LINE, false)[1]
  assert(at.position.character >= eol, 'hint not at the end of the line')
  local label = at.label
  if type(label) == 'table' then label = table.concat(vim.tbl_map(function(p) return p.value end, label)) end
  return ('%d hints; line %d: %q'):format(#hints, HOVER_LINE, label)
end)

T.check('the hover window shows the goroutine table as aligned text', function()
  vim.api.nvim_set_current_buf(buf)
  local text = vim.api.nvim_buf_get_lines(buf, HOVER_LINE - 1, HOVER_LINE, false)[1]
  vim.api.nvim_win_set_cursor(0, { HOVER_LINE, #text:match('^%s*') })
  local before = {}
  for _, w in ipairs(vim.api.nvim_list_wins()) do before[w] = true end
  vim.lsp.buf.hover()
  local float
  T.wait(LSP_TIMEOUT, function()
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      if not before[w] and vim.api.nvim_win_get_config(w).relative ~= '' then float = w end
    end
    return float
  end, 'the hover window')
  local lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(float), 0, -1, false)
  vim.api.nvim_win_close(float, true)
  local shown = table.concat(lines, '\n')
  assert(lines[1]:find('goblock', 1, true) and lines[1]:find('blocks', 1, true),
    'the hover does not lead with the summary line:\n' .. shown)
  for _, l in ipairs(lines) do
    assert(not l:match('^%s*|'), 'a Markdown table row, which Neovim shows raw:\n' .. shown)
  end
  local head
  for i, l in ipairs(lines) do
    if l:match('^goroutine%s+blocked') then head = i end
  end
  assert(head, 'no goroutine table in the hover window:\n' .. shown)
  -- Right-aligned "blocked" column: every row's duration ends where the header's word does.
  local col = vim.fn.strdisplaywidth(lines[head]:match('^(goroutine%s+blocked)'))
  local rows = 0
  for i = head + 1, #lines do
    local l = lines[i]
    if l == '' or l:match('^```') then break end
    local upto = l:match('^(%s*%d+%s+%S*%s?[%d.]+ %S+)')
    assert(upto, ('row %d is not "goroutine duration …": %q\n%s'):format(i - head, l, shown))
    T.eq(vim.fn.strdisplaywidth(upto), col, 'end of the duration in row ' .. (i - head))
    rows = rows + 1
  end
  assert(rows >= 1, 'table without rows:\n' .. shown)
  return ('%d lines, %d goroutine row(s): %s'):format(#lines, rows, lines[head + 1])
end)

T.check(':Goblock hot fills the quickfix list', function()
  vim.fn.setqflist({}, 'r', { title = 'empty', items = {} })
  vim.cmd('Goblock hot')
  T.wait(LSP_TIMEOUT, function() return vim.fn.getqflist({ title = 1 }).title == 'goblock: blocking hot spots' end,
    'the quickfix list')
  local items = vim.fn.getqflist()
  assert(#items > 0, 'empty quickfix list')
  local listed = {}
  for _, it in ipairs(items) do
    local name = vim.api.nvim_buf_get_name(it.bufnr)
    assert(vim.startswith(name, ws), 'item outside the workspace: ' .. name)
    if name:match('/main%.go$') then listed[it.lnum] = true end
  end
  for _, l in ipairs(AT_END) do assert(listed[l], ('main.go:%d not among the hot lines'):format(l)) end
  assert(vim.fn.getqflist({ winid = 1 }).winid ~= 0, 'quickfix window not opened')
  vim.cmd('cclose')
  local first = items[1]
  return ('%d items, first %s:%d %s'):format(#items, vim.fs.basename(vim.api.nvim_buf_get_name(first.bufnr)), first.lnum, first.text)
end)

T.check(':GoblockHot! (the old name) picks with vim.ui.select and jumps', function()
  local orig, seen = vim.ui.select, nil
  vim.ui.select = function(items, opts, on_choice)
    seen = { n = #items, first = opts.format_item(items[1]), item = items[1] }
    on_choice(items[1])
  end
  vim.cmd('GoblockHot!')
  T.wait(LSP_TIMEOUT, function() return seen end, 'vim.ui.select')
  vim.ui.select = orig
  T.eq(vim.api.nvim_buf_get_name(0), seen.item.filename, 'buffer')
  T.eq(vim.api.nvim_win_get_cursor(0)[1], seen.item.lnum, 'cursor line')
  vim.cmd.buffer(buf)
  return seen.first
end)

T.check(':Goblock clear removes the diagnostics, goblock.load() brings them back', function()
  local done
  vim.cmd('Goblock clear')
  g.clear(function(err) done = err or true end)
  T.wait(LSP_TIMEOUT, function() return done end, 'goblock.clear')
  assert(done == true, 'clear failed: ' .. vim.inspect(done))
  T.wait(LSP_TIMEOUT, function() return next(ours()) == nil end, 'diagnostics to go away')
  done = nil
  progress = {}
  g.load(ws .. '/blocking.trace', function(err) done = err or true end)
  T.wait(LSP_TIMEOUT, function() return done end, 'goblock.loadTrace')
  assert(done == true, 'load failed: ' .. vim.inspect(done))
  T.wait(LSP_TIMEOUT, function() return ours()[AT_END[1]] end, 'diagnostics after :GoblockLoad')
  return lines_of(ours())
end)

T.check(':Goblock status says what is loaded and the categories shown', function()
  local msgs = {}
  local orig = vim.notify
  vim.notify = function(m) msgs[#msgs + 1] = m end
  vim.cmd('Goblock status')
  T.wait(LSP_TIMEOUT, function() return #msgs > 0 end, 'the status message')
  vim.notify = orig
  local m = msgs[1]
  assert(m:find('blocking.trace (Go 1.26)', 1, true), m)
  assert(m:find('in sync, net, syscall (goblock.categories)', 1, true), m)
  return m
end)

T.check('goblock/status says what is loaded (statusline)', function()
  local st = require('goblock.status')
  T.wait(LSP_TIMEOUT, function()
    local s = st.by_client[client.id]
    return s and s.state ~= 'loading' and #s.inputs > 0
  end, 'a goblock/status with the trace')
  local s = st.by_client[client.id]
  T.eq(s.inputs[1].kind, 'trace', 'input kind')
  assert(s.inputs[1].path:match('blocking%.trace$'), s.inputs[1].path)
  assert(s.inputs[1].go_version and s.inputs[1].count > 0, vim.inspect(s.inputs[1]))
  assert(s.lines > 0 and s.total_label ~= '', vim.inspect(s))
  vim.lsp.status() -- takes the progress messages, which the statusline shows first
  local line = g.status()
  assert(line:match('^goblock: 1 input · '), line)
  return line
end)

T.check('the load reported $/progress (vim.lsp.status())', function()
  T.wait(LSP_TIMEOUT, function()
    return vim.tbl_contains(vim.tbl_map(function(p) return p:match('^%a+') end, progress), 'end')
  end, 'a progress end')
  assert(progress[1]:match('^begin'), 'first progress event: ' .. tostring(progress[1]))
  return table.concat(progress, ' | '):sub(1, 160)
end)

T.check(':checkhealth goblock sees the server and the client', function()
  vim.cmd('silent checkhealth goblock')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  vim.cmd('bwipeout!')
  assert(text:find(server .. ' (goblock ', 1, true), 'no server version in:\n' .. text)
  assert(text:find('client %d+, root ' .. vim.pesc(ws)), 'no running client in:\n' .. text)
  assert(text:find('trace file(s): blocking.trace', 1, true), 'no trace file in:\n' .. text)
  assert(not text:find('ERROR', 1, true), 'errors in:\n' .. text)
  return (text:match('goblock %d+%.%d+%.%d+') or '?')
end)

T.check('the client stops cleanly', function()
  client:stop()
  T.wait(10000, function() return client:is_stopped() end, 'client stop')
end)
