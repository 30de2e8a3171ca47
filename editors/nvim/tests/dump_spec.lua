-- dump_spec.lua: the plugin against the real `goblock lsp` on a workspace with a goroutine dump
-- and a block profile (testdata/programs/parked, its Go 1.26 SIGQUIT dump of goroutines parked
-- for minutes as hang.txt, its block profile): :Goblock hot lists the dump's and the profile's
-- lines labelled by input kind, :Goblock goroutines lists every goroutine of a line. Checked
-- against the dump's own text, read here without goblock, and testdata/dumps/markers.tsv.
-- Args: SERVER WORKSPACE MARKERS_TSV; WORKSPACE is a copy of testdata/programs/parked (the Go
-- module: the plugin's root) with hang.txt and block.pb.gz added.
local T = require('harness')
local server, ws, markers = arg[1], arg[2], arg[3]
assert(server and ws and markers, 'usage: dump_spec.lua SERVER WORKSPACE MARKERS')
local LSP_TIMEOUT = tonumber(vim.env.GOBLOCK_NVIM_TIMEOUT_MS or '60000')

-- PARK and CONTEND markers of the program: "pool.go:27" → kind.
local PARK, BLOCK = {}, {}
for l in io.lines(markers) do
  local f, line, marker, kind = l:match('^parked/([^\t]+)\t(%d+)\t(%u+)\t([^\t]+)\t')
  if marker == 'PARK' then PARK[f .. ':' .. line] = kind end
  if marker == 'CONTEND' and kind == 'block' then BLOCK[f .. ':' .. line] = true end
end
assert(next(PARK) and next(BLOCK), 'no markers in ' .. markers)

-- The dump's goroutines whose first frame in the program is at a site: site → { id → minutes }.
local BY_SITE = {}
do
  local id, minutes, site
  for l in io.lines(ws .. '/hang.txt') do
    local gid, head = l:match('^goroutine (%d+) .-%[(.*)%]:$')
    if gid then
      id, minutes, site = tonumber(gid), tonumber(head:match(', (%d+) minutes')) or false, nil
    elseif l:match('^created by ') then
      id = nil -- the creator's position is not where the goroutine waits
    elseif id and not site then
      local s = l:match('^\t%S+/parked/(%S+%.go:%d+)')
      if s then
        site = s
        BY_SITE[s] = BY_SITE[s] or {}
        BY_SITE[s][id] = minutes
      end
    end
  end
end
-- The directory the dump's program was built in must not exist here: a recorded path that exists
-- is used as recorded, so no line of this workspace would show and every wait below would time
-- out (testdata/dumps/gen.sh builds there while it runs).
for l in io.lines(ws .. '/hang.txt') do
  local dir = l:match('^\t(/%S-/parked/)%S+%.go:%d+')
  if dir then
    assert(not vim.uv.fs_stat(dir), dir .. ' (where the dump was recorded) exists: its files would be'
      .. ' shown instead of the workspace\'s; delete it (testdata/dumps/gen.sh leaves it while it runs)')
    break
  end
end
local workers = BY_SITE['pool.go:27']
assert(workers and next(workers), 'no goroutine at pool.go:27 in hang.txt')
local n_workers = vim.tbl_count(workers)

local g = require('goblock')
g.setup({ server_path = server, settings = { categories = { 'sync', 'net', 'syscall', 'sched', 'sleep', 'gc', 'other' } } })
vim.cmd.cd(vim.fn.fnameescape(ws))
vim.cmd.edit('pool.go')
local buf = vim.api.nvim_get_current_buf()
local client

T.check('server attaches and loads the dump and the profile', function()
  T.wait(LSP_TIMEOUT, function()
    client = g.client(buf)
    return client and client.initialized
  end, 'the goblock client')
  T.wait(LSP_TIMEOUT, function()
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      if d.source == 'goblock' and d.lnum == 26 then return true end
    end
  end, 'a diagnostic at pool.go:27')
end)
if not client then return end

T.check(':Goblock hot lists the dump and the block profile, labelled by kind', function()
  vim.fn.setqflist({}, 'r', { title = 'empty', items = {} })
  vim.cmd('Goblock hot 100')
  T.wait(LSP_TIMEOUT, function() return vim.fn.getqflist({ title = 1 }).title == 'goblock: blocking hot spots' end,
    'the quickfix list')
  local parked, block, seen_workers, blocked = 0, 0, nil, {}
  for _, it in ipairs(vim.fn.getqflist()) do
    local site = vim.fs.basename(vim.api.nvim_buf_get_name(it.bufnr)) .. ':' .. it.lnum
    local n = it.text:match('parked now: (%d+) goroutine')
    if n then
      parked = parked + 1
      T.eq(it.type, 'W', 'type of ' .. site)
      assert(PARK[site], ('dump row at %s, which is no PARK marker: %s'):format(site, it.text))
      T.eq(tonumber(n), vim.tbl_count(BY_SITE[site] or {}), 'goroutines at ' .. site .. ' vs the dump text')
      if site == 'pool.go:27' then seen_workers = it.text end
    elseif it.text:match('^block profile: %d+ contentions? · .* %(sampled%)$') then
      block = block + 1
      blocked[site] = true
    end
  end
  assert(seen_workers, 'pool.go:27 not listed')
  -- Every line the program marks as blocking on a lock or a channel is in the block profile.
  for site in pairs(BLOCK) do assert(blocked[site], site .. ' (a CONTEND block marker) has no block row') end
  assert(parked >= 8 and block >= 2, ('%d dump rows, %d block rows'):format(parked, block))
  vim.cmd('cclose')
  return ('%d dump rows, %d block rows; %s'):format(parked, block, seen_workers)
end)

T.check(':Goblock goroutines lists every goroutine of the line with its minutes', function()
  vim.cmd.buffer(buf)
  vim.api.nvim_win_set_cursor(0, { 27, 0 })
  local wins = #vim.api.nvim_list_wins()
  vim.cmd('Goblock goroutines')
  T.wait(LSP_TIMEOUT, function() return #vim.api.nvim_list_wins() > wins end, 'the goroutines window')
  local sbuf = vim.api.nvim_get_current_buf()
  T.eq(vim.bo[sbuf].buftype, 'nofile', 'scratch buffer')
  local lines = vim.api.nvim_buf_get_lines(sbuf, 0, -1, false)
  T.eq(lines[1]:match('^pool%.go:27'), 'pool.go:27', 'heading ' .. lines[1])
  local got = {}
  for _, l in ipairs(lines) do
    local id, rest = l:match('^  goroutine (%d+) · (.*)$')
    if id then got[tonumber(id)] = tonumber(rest:match(' · (%d+) min')) or false end
  end
  T.eq(got, workers, 'ids and minutes vs the dump text')
  vim.cmd('normal q')
  T.eq(#vim.api.nvim_list_wins(), wins, 'q closes it')
  return ('%d goroutines: %s'):format(n_workers, lines[5] or '')
end)

T.check(':Goblock goroutines on a line without goroutines says so', function()
  local msgs, orig = {}, vim.notify
  vim.notify = function(m) msgs[#msgs + 1] = m end
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  local wins = #vim.api.nvim_list_wins()
  vim.cmd('Goblock goroutines')
  T.wait(LSP_TIMEOUT, function() return #msgs > 0 end, 'a message')
  vim.notify = orig
  T.eq(#vim.api.nvim_list_wins(), wins, 'no window')
  assert(msgs[1]:find('pool.go:1: no goroutine', 1, true), msgs[1])
  return msgs[1]
end)

T.check('the client stops cleanly', function()
  vim.lsp.stop_client(client.id)
  T.wait(10000, function() return vim.lsp.get_client_by_id(client.id) == nil end, 'the client to stop')
end)
