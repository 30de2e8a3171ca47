-- workspace_spec.lua: the plugin against the real `goblock lsp` on the fixture workspace
-- (testdata/programs/blocking + a Go 1.26 trace): diagnostics at the expected lines, inlay
-- hints, :GoblockHot filling the quickfix list, the hover's goroutine table, :GoblockClear and
-- :GoblockLoad. Args: SERVER WORKSPACE MARKERS_TSV [legacy] ("legacy" forces vim.lsp.start).
local T = require('harness')
local server, ws, markers, mode = arg[1], arg[2], arg[3], arg[4]
assert(server and ws, 'usage: workspace_spec.lua SERVER WORKSPACE [MARKERS] [legacy]')
local LSP_TIMEOUT = tonumber(vim.env.GOBLOCK_NVIM_TIMEOUT_MS or '60000')

vim.env.XDG_STATE_HOME = vim.env.XDG_STATE_HOME or vim.fn.tempname()
local log_level = vim.lsp.log and vim.lsp.log.set_level or vim.lsp.set_log_level
log_level('debug')

-- BLOCK markers of blocking/*.go outside the categories goblock hides by default.
local function expected_lines(file)
  local want = {}
  if not markers or vim.fn.filereadable(markers) == 0 then return { 109 } end
  for l in io.lines(markers) do
    local f, line, kind, reason = l:match('^blocking/([^\t]+)\t(%d+)\t(%u+)\t([^\t]+)')
    if f == file and kind == 'BLOCK' and reason ~= 'sleep' and reason ~= 'forever' then
      want[#want + 1] = tonumber(line)
    end
  end
  return want
end
local WANT = expected_lines('main.go')

local g = require('goblock')
if mode == 'legacy' then
  g._has_lsp_config = function() return false end
end
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
  local ds = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local ns = vim.diagnostic.get_namespace(d.namespace)
    if (d.source and d.source:lower():find('goblock')) or (ns and ns.name:find('goblock')) then ds[#ds + 1] = d end
  end
  return ds
end

T.check('diagnostics at the expected lines', function()
  T.wait(LSP_TIMEOUT, function() return #ours() > 0 end, 'goblock diagnostics in main.go')
  vim.wait(1000) -- let the rest of the batch arrive
  local got = {}
  for _, d in ipairs(ours()) do got[d.lnum + 1] = d end
  local missing = {}
  for _, l in ipairs(WANT) do
    if not got[l] then missing[#missing + 1] = l end
  end
  local first = got[WANT[1]]
  assert(first, ('no diagnostic at main.go:%d; got lines %s'):format(WANT[1], vim.inspect(vim.tbl_keys(got))))
  assert(#missing == 0, ('no diagnostic at main.go lines %s (got %s)'):format(
    table.concat(missing, ', '), table.concat(vim.tbl_keys(got), ', ')))
  return ('%d diagnostics; line %d: %q'):format(#ours(), WANT[1], first.message:gsub('\n.*', ''))
end)

T.check('inlay hints are enabled and present', function()
  assert(vim.lsp.inlay_hint.is_enabled({ bufnr = buf }), 'inlay hints not enabled in the Go buffer')
  local hints
  T.wait(LSP_TIMEOUT, function()
    hints = vim.lsp.inlay_hint.get({ bufnr = buf })
    return #hints > 0
  end, 'inlay hints')
  local at
  for _, h in ipairs(hints) do
    if h.inlay_hint.position.line + 1 == WANT[1] then at = h.inlay_hint end
  end
  assert(at, ('no inlay hint on line %d'):format(WANT[1]))
  local label = at.label
  if type(label) == 'table' then
    label = table.concat(vim.tbl_map(function(p) return p.value end, label))
  end
  return ('%d hints; line %d: %q'):format(#hints, WANT[1], label)
end)

T.check('hover contains the goroutine table', function()
  local line = vim.api.nvim_buf_get_lines(buf, WANT[1] - 1, WANT[1], false)[1]
  local col = #line:match('^%s*')
  local params = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = WANT[1] - 1, character = col } }
  local res = vim.lsp.buf_request_sync(buf, 'textDocument/hover', params, LSP_TIMEOUT)
  local text
  for _, r in pairs(res or {}) do
    if r.result and r.result.contents then
      local c = r.result.contents
      text = type(c) == 'string' and c or c.value or vim.inspect(c)
    end
  end
  assert(text, 'no hover at main.go:' .. WANT[1])
  local header = text:match('\n?(|[^\n]*[Gg]oroutine[^\n]*|)')
  assert(header, 'no goroutine table in the hover:\n' .. text)
  local rows = select(2, text:gsub('\n|', '')) - 1
  assert(rows >= 2, 'table without rows:\n' .. text)
  return ('header %s, %d table line(s)'):format(header, rows)
end)

T.check(':GoblockHot fills the quickfix list', function()
  vim.fn.setqflist({}, 'r', { title = 'empty', items = {} })
  vim.cmd('GoblockHot')
  T.wait(LSP_TIMEOUT, function() return vim.fn.getqflist({ title = 1 }).title == 'goblock: blocking hot spots' end, 'the quickfix list')
  local items = vim.fn.getqflist()
  assert(#items > 0, 'empty quickfix list')
  local first = items[1]
  local name = vim.api.nvim_buf_get_name(first.bufnr)
  assert(name:find(ws, 1, true), 'first item outside the workspace: ' .. name)
  local listed = {}
  for _, it in ipairs(items) do
    if vim.api.nvim_buf_get_name(it.bufnr):match('/main%.go$') then listed[it.lnum] = true end
  end
  assert(listed[WANT[1]], ('main.go:%d not among the hot lines'):format(WANT[1]))
  assert(vim.fn.getqflist({ winid = 1 }).winid ~= 0, 'quickfix window not opened')
  vim.cmd('cclose')
  return ('%d items, first %s:%d %s'):format(#items, vim.fn.fnamemodify(name, ':t'), first.lnum, first.text)
end)

T.check(':GoblockHot! picks with vim.ui.select and jumps', function()
  local orig = vim.ui.select
  local seen
  vim.ui.select = function(items, opts, on_choice)
    seen = { n = #items, prompt = opts.prompt, first = opts.format_item(items[1]) }
    on_choice(items[1])
  end
  vim.cmd('GoblockHot!')
  T.wait(LSP_TIMEOUT, function() return seen end, 'vim.ui.select')
  vim.ui.select = orig
  local want = vim.fn.getqflist()[1]
  T.eq(vim.api.nvim_win_get_cursor(0)[1], want.lnum, 'cursor line')
  vim.cmd.edit(vim.fn.fnameescape(ws .. '/main.go'))
  return seen.first
end)

T.check(':GoblockClear removes the diagnostics, :GoblockLoad brings them back', function()
  local done
  g.clear(function(err) done = err or true end)
  T.wait(LSP_TIMEOUT, function() return done end, 'goblock.clear')
  assert(done == true, 'clear failed: ' .. vim.inspect(done))
  T.wait(LSP_TIMEOUT, function() return #ours() == 0 end, 'diagnostics to go away')
  done = nil
  g.load(ws .. '/blocking.trace', function(err) done = err or true end)
  T.wait(LSP_TIMEOUT, function() return done end, 'goblock.loadTrace')
  assert(done == true, 'load failed: ' .. vim.inspect(done))
  T.wait(LSP_TIMEOUT, function() return #ours() > 0 end, 'diagnostics after :GoblockLoad')
  return #ours() .. ' diagnostics again'
end)

T.check('progress reaches vim.lsp.status() or was reported', function()
  -- The server reports $/progress while loading; it is consumed by vim.lsp.status().
  local s = g.status()
  assert(type(s) == 'string' and s ~= '', 'empty status')
  return s
end)

T.check('the client stops cleanly', function()
  client:stop()
  T.wait(10000, function() return client:is_stopped() end, 'client stop')
end)
