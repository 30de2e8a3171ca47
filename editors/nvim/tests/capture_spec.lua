-- capture_spec.lua: a capture end to end in headless Neovim against the real `goblock lsp` on
-- the fixture workspace (testdata/programs/blocking, whose blocking_test.go has TestBlocking):
-- the "goblock: trace" code lenses in the _test.go buffer, :GoblockTrace with the cursor in
-- TestBlocking (a real `go test -c` and run; needs `go` on PATH), the trace shown at once
-- (diagnostics in main.go at its blocking sites), a lens run through vim.lsp.codelens.run(),
-- :Goblock captures and :Goblock cancel. Prints how long the command took to diagnostics.
-- Args: SERVER WORKSPACE MARKERS_TSV
local T = require('harness')
local server, ws, markers = arg[1], arg[2], arg[3]
assert(server and ws and markers, 'usage: capture_spec.lua SERVER WORKSPACE MARKERS')
local TIMEOUT = tonumber(vim.env.GOBLOCK_NVIM_TIMEOUT_MS or '180000')

if vim.fn.executable('go') == 0 then
  T.say('capture_spec: skipped: no `go` on PATH')
  return
end

-- Blocking sites of main.go that are still blocked at trace.Stop: present in any run.
local AT_END = {}
for l in io.lines(markers) do
  local f, line, kind, desc = l:match('^blocking/([^\t]+)\t(%d+)\t(%u+)\t[^\t]+\t(.*)$')
  if f == 'main.go' and kind == 'BLOCK' and desc:find('still blocked at trace.Stop', 1, true) then
    AT_END[#AT_END + 1] = tonumber(line)
  end
end
assert(#AT_END > 0, 'no end-of-trace markers in ' .. markers)

local notes = {}
local orig_notify = vim.notify
vim.notify = function(msg, level)
  notes[#notes + 1] = msg
  orig_notify(msg, level)
end

local g = require('goblock')
-- Every blocking line gets a diagnostic; the capture replaces the fixture's trace.
g.setup({ server_path = server, settings = { diagnostics = { minTotalMs = 0, minShare = 0 } } })
vim.cmd.cd(vim.fn.fnameescape(ws))
vim.cmd.edit('blocking_test.go')
local tbuf = vim.api.nvim_get_current_buf()
local test_line = vim.fn.search('^func TestBlocking(', 'nw')
assert(test_line > 0, 'no TestBlocking in blocking_test.go')

T.check('the client attaches to the _test.go buffer', function()
  T.wait(TIMEOUT, function()
    local c = g.client(tbuf)
    return c and c.initialized
  end, 'the goblock client')
end)

T.check('code lenses: goblock: trace above TestBlocking, the package lens', function()
  local titles
  T.wait(60000, function()
    titles = {}
    for _, l in ipairs(vim.lsp.codelens.get(tbuf)) do
      if l.command and l.command.title then titles[l.range.start.line + 1] = l.command.title end
    end
    -- Lenses resolve one by one: wait for both, not only the test's.
    return titles[test_line] == 'goblock: trace'
      and vim.tbl_contains(vim.tbl_values(titles), 'goblock: trace package tests')
  end, 'resolved lenses: the test on line ' .. test_line .. ' and the package')
  return vim.inspect(titles):gsub('%s+', ' ')
end)

local function ours(bufnr)
  local by_line = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.source == 'goblock' then by_line[d.lnum + 1] = d end
  end
  return by_line
end

T.check(':GoblockTrace traces the test under the cursor and shows its trace', function()
  vim.cmd.edit('main.go')
  local mbuf = vim.api.nvim_get_current_buf()
  vim.cmd.buffer(tbuf)
  vim.api.nvim_win_set_cursor(0, { test_line + 1, 0 })
  local t0 = vim.uv.hrtime()
  local done
  require('goblock.capture').trace({}, function(err, r) done = { err = err, r = r } end)
  T.wait(TIMEOUT, function() return done end, 'the capture')
  assert(not done.err, 'capture failed: ' .. vim.inspect(done.err))
  T.eq(done.r.capture.name, 'TestBlocking', 'capture')
  T.eq(done.r.loaded, true, 'loaded')
  local took_result = (vim.uv.hrtime() - t0) / 1e9
  T.wait(60000, function() return ours(mbuf)[AT_END[1]] end, 'a diagnostic at main.go:' .. AT_END[1])
  local took = (vim.uv.hrtime() - t0) / 1e9
  assert(vim.tbl_contains(notes, 'goblock: ' .. done.r.message .. ' (:Goblock hot for the hottest lines)'),
    vim.inspect(notes))
  return ('%s; result %.1f s, diagnostics %.1f s after the command'):format(done.r.message, took_result, took)
end)

T.check('a lens runs through vim.lsp.codelens.run()', function()
  vim.cmd.buffer(tbuf)
  vim.api.nvim_win_set_cursor(0, { test_line, 0 })
  local before = #notes
  vim.lsp.codelens.run()
  T.wait(TIMEOUT, function()
    for i = before + 1, #notes do
      if notes[i]:find('traced TestBlocking', 1, true) then return true end
    end
  end, 'the notification of the lens run')
  return notes[#notes]
end)

T.check(':GoblockCaptures lists both captures; the older one is shown again', function()
  local orig, seen = vim.ui.select, nil
  vim.ui.select = function(items, opts, on_choice)
    seen = { n = #items, first = opts.format_item(items[1]), last = opts.format_item(items[#items]) }
    on_choice(items[#items])
  end
  local before = #notes
  vim.cmd('GoblockCaptures')
  T.wait(TIMEOUT, function()
    for i = before + 1, #notes do
      if notes[i]:find('traced TestBlocking', 1, true) then return true end
    end
  end, 'the older capture shown')
  vim.ui.select = orig
  T.eq(seen.n, 2, 'captures')
  assert(seen.first:find('^● TestBlocking'), seen.first)
  return seen.last
end)

T.check(':Goblock cancel with nothing running says so', function()
  local before = #notes
  vim.cmd('Goblock cancel')
  T.wait(10000, function() return notes[before + 1] end, 'a message')
  T.eq(notes[before + 1], 'goblock: no capture is running', 'message')
end)

T.check(':Goblock cancel stops a running capture and says so; nothing is kept', function()
  local dirs = function() return #vim.fn.glob(ws .. '/.goblock/captures/*', true, true) end
  local kept = dirs()
  local before, ended = #notes, nil
  vim.cmd.buffer(tbuf)
  -- The package's tests: the build alone takes longer than the 300 ms before the cancel.
  require('goblock.capture').trace({ package = true }, function(err) ended = err end)
  vim.wait(300)
  vim.cmd('Goblock cancel')
  T.wait(30000, function() return ended end, 'the capture to end')
  T.eq(type(ended) == 'table' and type(ended.data) == 'table' and ended.data.reason, 'cancelled', 'reason')
  local said = table.concat(vim.list_slice(notes, before + 1), ' | ')
  assert(said:find('goblock: capture cancelled', 1, true), said)
  T.eq(dirs(), kept, 'capture directories')
  return said
end)
