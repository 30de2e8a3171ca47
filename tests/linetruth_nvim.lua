-- Line truth in Neovim (driven by tests/linetruth_nvim.rs): the goblock plugin (editors/nvim)
-- runs `goblock lsp` on a copy of a line-truth workspace (testdata/linetruth) holding one trace,
-- and every surface that names a line is checked against the marker comments of the text
-- currently in the buffers (`// BLOCK[reason]`, `MAY[reason]`, `WAKE[…]`; see
-- testdata/linetruth/README.md), before and after edits.
--
--   nvim --headless --clean -l linetruth_nvim.lua SERVER PLUGIN WORKSPACE SYMBOLIZATION EDITS
--
-- SYMBOLIZATION: "dwarf" (the traced binary is in the workspace) or "trace". EDITS: "edits" to
-- run the edit scenarios, anything else not to. Prints one "ok   [GROUP] name" / "FAIL [GROUP]
-- name" line per check (problems indented below it) and ends with "linetruth_nvim: N passed, N
-- failed". GROUP says what a check is about, so that tests/linetruth_nvim.rs can assert each
-- group separately:
--   load         the server attaches and loads the trace
--   shown        before any edit: annotations on marked lines only, every BLOCK line annotated,
--                hovers with reasons and goroutines
--   links        before any edit: lines named by related information, inlay-hint links and
--                hover links ("Woken by") are WAKE lines or go statements
--   hover-names  before any edit: file:line mentions in a hover's goroutine table (woken by,
--                created at) that name a workspace file name a WAKE line or go statement
--   hot          before any edit: goblock.hotLines and :Goblock hot name marked lines only
--   edit         after an edit: every annotation on its marker's new line or hidden as stale
--   edit-links   after an edit: every line named (links, hover mentions) still holds its text
--   edit-hot     after an edit: goblock.hotLines and :Goblock hot follow the edit
--   undo         after undoing an edit: the same diagnostics as before it
--   undo-delete  the same, for edits that deleted lines
--   same-text    every check of the scenario replacing a buffer's text by itself
local server, plugin, ws, symbolization, edits = arg[1], arg[2], arg[3], arg[4], arg[5]
assert(server and plugin and ws and symbolization, 'usage: linetruth_nvim.lua SERVER PLUGIN WORKSPACE SYMBOLIZATION [edits]')
local TIMEOUT = tonumber(vim.env.GOBLOCK_NVIM_TIMEOUT_MS or '60000')
local passed, failed = 0, 0

local function say(s)
  io.stdout:write(s, '\n')
  io.stdout:flush()
end

--- Runs fn, which returns a list of problems (empty: pass) and optionally a detail string.
local function check(group, name, fn)
  local ok, problems, detail = xpcall(fn, debug.traceback)
  if not ok then
    problems = { tostring(problems) }
  end
  if #problems == 0 then
    passed = passed + 1
    say(('ok   [%s] %s%s'):format(group, name, detail and (' — ' .. detail) or ''))
  else
    failed = failed + 1
    say(('FAIL [%s] %s:\n  %s'):format(group, name, table.concat(problems, '\n  ')))
  end
end

local function finish()
  say(('linetruth_nvim: %d passed, %d failed'):format(passed, failed))
  os.exit(failed == 0 and 0 or 1)
end

-- Categories shown (all the corpus' markers use), and the diagnostic codes (docs/lsp.md) a
-- marker reason may show as.
local CATEGORIES = { 'sync', 'net', 'syscall', 'sleep' }
local CODES = {
  ['chan receive'] = { 'chan-recv' },
  ['chan send'] = { 'chan-send' },
  ['select'] = { 'select' },
  ['sync'] = { 'mutex', 'waitgroup', 'cond', 'sync' },
  ['sync.(*Cond).Wait'] = { 'cond' },
  ['network'] = { 'net' },
  ['syscall'] = { 'syscall' },
  ['sleep'] = { 'sleep' },
}

-- Marker comments of a line of text: { block = {reason…}, may = {…}, wake = bool }.
local function marks_of(text)
  local c = text and text:match('//(.*)$')
  local m = { block = {}, may = {}, wake = false }
  if not c then return m end
  for kind, list in c:gmatch('%f[%w](%u+)%[([^%]]*)%]') do
    for r in list:gmatch('[^,]+') do
      r = vim.trim(r)
      if kind == 'BLOCK' then m.block[#m.block + 1] = r
      elseif kind == 'MAY' then m.may[#m.may + 1] = r
      elseif kind == 'WAKE' then m.wake = true end
    end
  end
  return m
end

local function allows_code(m, code)
  for _, r in ipairs(vim.list_extend(vim.deepcopy(m.block), m.may)) do
    if vim.tbl_contains(CODES[r] or {}, code) then return true end
  end
  return false
end

local function any_block(m) return #m.block + #m.may > 0 end

-- The workspace's Go files (not vendor/), relative paths.
local files = {}
for name, kind in vim.fs.dir(ws, { depth = 4 }) do
  if kind == 'file' and name:match('%.go$') and not name:match('^vendor/') then files[#files + 1] = name end
end
table.sort(files)
assert(#files > 0, 'no Go files in ' .. ws)

-- Raw publishDiagnostics, per URI, with a counter (to wait for the server after an edit).
local published, publish_count = {}, {}
local orig_publish = vim.lsp.handlers['textDocument/publishDiagnostics']
vim.lsp.handlers['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
  if result and result.uri then
    published[result.uri] = result.diagnostics or {}
    publish_count[result.uri] = (publish_count[result.uri] or 0) + 1
  end
  return orig_publish(err, result, ctx, config)
end

vim.opt.rtp:append(plugin)
vim.cmd.runtime('plugin/goblock.lua') -- defines :Goblock (startup is over)
local g = require('goblock')
g.setup({
  server_path = server,
  settings = {
    categories = CATEGORIES,
    diagnostics = { minTotalMs = 0, minShare = 0 },
    inlayHints = { minTotalMs = 0 },
    debounceMs = 50,
  },
})
vim.cmd.cd(vim.fn.fnameescape(ws))

local bufs, client = {}, nil
for _, f in ipairs(files) do
  vim.cmd.edit(vim.fn.fnameescape(f))
  bufs[f] = vim.api.nvim_get_current_buf()
end
local function uri_of(f) return vim.uri_from_fname(ws .. '/' .. f) end
local function rel_of_uri(uri)
  local p = vim.uri_to_fname(uri)
  return vim.startswith(p, ws .. '/') and p:sub(#ws + 2) or nil
end
local function line_text(f, l)
  local b = bufs[f]
  if b then return vim.api.nvim_buf_get_lines(b, l - 1, l, false)[1] end
  local fh = io.open(ws .. '/' .. f)
  if not fh then return nil end
  local i, out = 0, nil
  for s in fh:lines() do
    i = i + 1
    if i == l then out = s break end
  end
  fh:close()
  return out
end

local function request(method, params, buf)
  local r = client:request_sync(method, params, TIMEOUT, buf or bufs[files[1]])
  if not r then error(method .. ': no answer') end
  if r.err then error(method .. ': ' .. vim.inspect(r.err)) end
  return r.result
end

local function hot_lines()
  return request('workspace/executeCommand', { command = 'goblock.hotLines', arguments = { { limit = 1000 } } })
end

check('load', 'server attaches and loads the trace', function()
  local ok = vim.wait(TIMEOUT, function()
    client = g.client(bufs[files[1]])
    return client and client.initialized
  end, 20)
  if not ok then return { 'no goblock client' } end
  local res
  ok = vim.wait(TIMEOUT, function()
    res = hot_lines()
    return res and res.loading == false and #(res.traces or {}) > 0
  end, 100)
  if not ok then return { 'no trace loaded: ' .. vim.inspect(res):sub(1, 400) } end
  local t = res.traces[1]
  if t.symbolization ~= symbolization then
    return { ('symbolization %s, want %s (%s)'):format(tostring(t.symbolization), symbolization, vim.inspect(t.notes)) }
  end
  return {}, ('go %s, %s, %d episodes'):format(t.goVersion, t.symbolization, t.episodes or 0)
end)
if not client then finish() end

-- A workspace file named by its base name in a hover's text: the one beside `from`, else the
-- only one of that name; nil when none is (a file of the library).
-- A name with directories (`inventory/stock.go`, or a library's `testing/testing.go`) is the
-- workspace file of that relative path or ending in it, else nil.
local function resolve(base, from)
  local dir = vim.fs.dirname(from)
  local beside = (dir == '.' and '' or dir .. '/') .. base
  if vim.tbl_contains(files, beside) then return beside end
  local hits = vim.tbl_filter(function(x)
    return x == base or vim.endswith(x, '/' .. base)
  end, files)
  return #hits == 1 and hits[1] or nil
end

-- Lines a hover names: links (`[file.go:N](uri#LN)`, as in "Woken by: …") and the file:line
-- mentions of the goroutine table (Markdown or aligned text): its "woken by" and "created at"
-- columns.
local function hover_named(md, f, l)
  local out = {}
  local function add(uri, line, kind, ctx, mention)
    out[#out + 1] = {
      uri = uri, line = line, waker = kind == 'waker', created = kind == 'created', mention = mention,
      what = ('hover of %s:%d (%s)'):format(f, l, vim.trim(ctx):sub(1, 80)),
    }
  end
  local function mentions(text, kind, ctx)
    for base, ln in text:gmatch('([%w_%-%./]+%.go):(%d+)') do
      local rf = resolve(base, f)
      if rf then add(uri_of(rf), tonumber(ln), kind, ctx, true) end
    end
  end
  local wcol, ccol -- columns of the aligned table
  for row in md:gmatch('[^\n]+') do
    if row:match('^Woken by') then
      for uri, ln in row:gmatch('%((file://[^)#]+)#L(%d+)%)') do add(uri, tonumber(ln), 'waker', row) end
    elseif row:match('^|') then -- Markdown table row: the last two cells
      local cells = vim.split(row, '|', { plain = true })
      if #cells >= 4 then
        mentions(cells[#cells - 2], 'waker', row)
        mentions(cells[#cells - 1], 'created', row)
      end
    elseif row:match('^goroutine%s') then
      wcol, ccol = row:find('woken by', 1, true), row:find('created at', 1, true)
    elseif wcol and row:match('^%s*%d+%s') then
      mentions(row:sub(wcol, (ccol or 0) - 1), 'waker', row)
      if ccol then mentions(row:sub(ccol), 'created', row) end
    elseif row:match('^```') then
      wcol = nil
    end
  end
  return out
end

-- Everything the server says about one file: diagnostics (with related locations), inlay
-- hints (with link locations), and the hover of every given line.
local function annotations(f, hover_lines)
  local b = bufs[f]
  local out = { diags = {}, hints = {}, hovers = {}, named = {} }
  for _, d in ipairs(published[uri_of(f)] or {}) do
    out.diags[#out.diags + 1] = d
    for _, r in ipairs(d.relatedInformation or {}) do
      out.named[#out.named + 1] = {
        uri = r.location.uri, line = r.location.range.start.line + 1,
        what = ('related information of %s:%d (%s)'):format(f, d.range.start.line + 1, r.message),
        waker = r.message:match('^woken') ~= nil, created = r.message:match('created') ~= nil
          or r.message:match('started') ~= nil,
      }
    end
  end
  local n = vim.api.nvim_buf_line_count(b)
  for _, h in ipairs(request('textDocument/inlayHint', {
    textDocument = { uri = uri_of(f) },
    range = { start = { line = 0, character = 0 }, ['end'] = { line = n, character = 0 } },
  }, b) or {}) do
    out.hints[#out.hints + 1] = h
    if type(h.label) == 'table' then
      for _, p in ipairs(h.label) do
        if p.location then
          out.named[#out.named + 1] = {
            uri = p.location.uri, line = p.location.range.start.line + 1,
            what = ('inlay hint link of %s:%d (%s)'):format(f, h.position.line + 1, p.value),
            waker = true,
          }
        end
      end
    end
  end
  for _, l in ipairs(hover_lines) do
    local text = vim.api.nvim_buf_get_lines(b, l - 1, l, false)[1] or ''
    local res = request('textDocument/hover', {
      textDocument = { uri = uri_of(f) },
      position = { line = l - 1, character = #text:match('^%s*') },
    }, b)
    local c = res and res.contents
    local md = c and (type(c) == 'string' and c or c.value) or ''
    out.hovers[l] = md
    for _, n in ipairs(hover_named(md, f, l)) do out.named[#out.named + 1] = n end
  end
  return out
end

-- The BLOCK lines of a buffer, from its current text.
local function block_lines(f)
  local out = {}
  for i, text in ipairs(vim.api.nvim_buf_get_lines(bufs[f], 0, -1, false)) do
    local m = marks_of(text)
    if #m.block > 0 then out[#out + 1] = i end
  end
  return out
end

-- Checks that every annotation of f sits on a marked line of f's current text; returns the
-- problems and the set of lines annotated.
local function placement(f, a)
  local problems, shown = {}, {}
  for _, d in ipairs(a.diags) do
    local l = d.range.start.line + 1
    shown[l] = true
    local text = line_text(f, l)
    if not allows_code(marks_of(text), d.code) then
      problems[#problems + 1] = ('diagnostic %s at %s:%d, a line without such marker: %q'):format(d.code, f, l, vim.trim(text or '<past the end>'))
    end
  end
  for _, h in ipairs(a.hints) do
    local l = h.position.line + 1
    shown[l] = true
    local text = line_text(f, l)
    if not any_block(marks_of(text)) then
      local label = type(h.label) == 'string' and h.label or table.concat(vim.tbl_map(function(p) return p.value end, h.label))
      problems[#problems + 1] = ('inlay hint %q at %s:%d, a line without a marker: %q'):format(label, f, l, vim.trim(text or '<past the end>'))
    end
  end
  return problems, shown
end

-- A line named by a link: a waker must be a WAKE line, a creation site a `go` statement or a
-- call that starts goroutines (errgroup's Go, testing's Run, net/http's Serve).
local function named_ok(n)
  local f = rel_of_uri(n.uri)
  if not f then return nil end -- outside the workspace (the library's own lines)
  local text = line_text(f, n.line)
  if not text then return ('%s names %s:%d, past the end of the file'):format(n.what, f, n.line) end
  if n.created then
    if text:match('^%s*go%s') or text:match('%.Go%(') or text:match('%.Run%(') or text:match('%.Serve%(') then return end
    return ('%s names %s:%d as a creation site: %q'):format(n.what, f, n.line, vim.trim(text))
  end
  if n.waker and not marks_of(text).wake then
    return ('%s names %s:%d as a waker, a line without WAKE marker: %q'):format(n.what, f, n.line, vim.trim(text))
  end
end

-- Adds a problem about a named line once per named line (many links name the same line).
local seen_named = {}
local function add_once(problems, p)
  if not p then return end
  local key = p:match(' names (%S+:%d+)') or p
  if seen_named[problems] == nil then seen_named[problems] = {} end
  local seen = seen_named[problems]
  if seen[key] then
    seen[key].n = seen[key].n + 1
    problems[seen[key].i] = seen[key].p .. (' (and %d more links)'):format(seen[key].n)
    return
  end
  problems[#problems + 1] = p
  seen[key] = { i = #problems, p = p, n = 0 }
end

-- ---------------------------------------------------------------------------------------------
-- Before any edit.

-- Diagnostics of every file with BLOCK lines (the first may take the whole load; then 5 s).
local before = {}
local wait_ms = TIMEOUT
for _, f in ipairs(files) do
  if #block_lines(f) > 0 then
    vim.wait(wait_ms, function() return #(published[uri_of(f)] or {}) > 0 end, 20)
    wait_ms = 5000
  end
end
vim.wait(300)

check('shown', 'every annotation on a marked line, every BLOCK line annotated, hovers list goroutines', function()
  local problems, lines_checked = {}, 0
  for _, f in ipairs(files) do
    local blocks = block_lines(f)
    local a = annotations(f, blocks)
    before[f] = a
    local p, shown = placement(f, a)
    vim.list_extend(problems, p)
    for _, l in ipairs(blocks) do
      lines_checked = lines_checked + 1
      local m = marks_of(line_text(f, l))
      local md = a.hovers[l] or ''
      if not shown[l] then
        problems[#problems + 1] = ('%s:%d (BLOCK[%s]) has no diagnostic/inlay hint; hover: %q'):format(
          f, l, table.concat(m.block, ', '), md:sub(1, 160))
      end
      local hint = false
      for _, h in ipairs(a.hints) do if h.position.line + 1 == l then hint = true end end
      if shown[l] and not hint then problems[#problems + 1] = ('%s:%d has a diagnostic but no inlay hint'):format(f, l) end
      -- Reasons: in the first line ("**goblock** · N blocks · T · chan send, select · `f`") or
      -- the "Reasons:" line.
      local reasons = (md:match('^[^\n]*') or '') .. ' ' .. (md:match('Reasons: ([^\n]*)') or '')
      for _, r in ipairs(m.block) do
        if not reasons:find(r, 1, true) then
          problems[#problems + 1] = ('%s:%d: the hover does not give the reason %q: %q'):format(f, l, r, reasons)
        end
      end
      -- Goroutine rows: "| 42 | …" (Markdown) or "       42  6.80 ms  …" (aligned text).
      local rows = 0
      for row in md:gmatch('[^\n]+') do
        if row:match('^|%s*%d+%s*|') or row:match('^%s*%d+%s+%d') then rows = rows + 1 end
      end
      if not md:find('goroutine', 1, true) or rows == 0 then
        problems[#problems + 1] = ('%s:%d: the hover lists no goroutine:\n%s'):format(f, l, md)
      end
    end
  end
  return problems, ('%d BLOCK lines'):format(lines_checked)
end)

-- Lines named before any edit: by links (mention = false) or by file:line text in hovers.
local function named_check(group, label, mention)
  check(group, label, function()
    local problems, named = {}, 0
    for _, f in ipairs(files) do
      for _, n in ipairs(before[f] and before[f].named or {}) do
        if (n.mention or false) == mention then
          named = named + 1
          add_once(problems, named_ok(n))
        end
      end
    end
    return problems, ('%d named lines'):format(named)
  end)
end
named_check('links', 'related information, inlay-hint and hover links name WAKE lines and go statements', false)
named_check('hover-names', 'file:line mentions in hovers name WAKE lines and go statements', true)

local function hot_check(group, label, expect_all)
  check(group, label, function()
    local res = hot_lines()
    local problems, listed = {}, {}
    for _, e in ipairs(res.lines or {}) do
      local f = rel_of_uri(e.uri)
      if e.inWorkspace ~= false and f then
        local m = marks_of(line_text(f, e.line))
        local ok = false
        for _, r in ipairs(e.reasons or {}) do
          if vim.tbl_contains(m.block, r) or vim.tbl_contains(m.may, r) then ok = true end
        end
        if not ok then
          problems[#problems + 1] = ('goblock.hotLines lists %s:%d (%s), a line without such marker: %q'):format(
            f, e.line, table.concat(e.reasons or {}, ', '), vim.trim(line_text(f, e.line) or '<past the end>'))
        end
        listed[f .. ':' .. e.line] = true
      elseif e.inWorkspace ~= false then
        problems[#problems + 1] = ('goblock.hotLines lists %s:%d in the workspace, outside it'):format(e.file, e.line)
      end
    end
    if expect_all then
      for _, f in ipairs(files) do
        for _, l in ipairs(block_lines(f)) do
          if not listed[f .. ':' .. l] then problems[#problems + 1] = ('goblock.hotLines lacks %s:%d'):format(f, l) end
        end
      end
    end
    -- The quickfix list of :GoblockHot.
    vim.fn.setqflist({}, 'r', { title = 'none', items = {} })
    vim.cmd('Goblock hot 1000 quickfix')
    vim.wait(TIMEOUT, function() return vim.fn.getqflist({ title = 1 }).title ~= 'none' end, 20)
    local items = vim.fn.getqflist()
    for _, it in ipairs(items) do
      local name = vim.api.nvim_buf_get_name(it.bufnr)
      if vim.startswith(name, ws .. '/') then
        local f = name:sub(#ws + 2)
        if not any_block(marks_of(line_text(f, it.lnum))) then
          problems[#problems + 1] = ('quickfix item %s:%d, a line without a marker: %q'):format(f, it.lnum, vim.trim(line_text(f, it.lnum) or ''))
        end
      end
    end
    vim.cmd('cclose')
    return problems, ('%d hot lines, %d quickfix items'):format(#(res.lines or {}), #items)
  end)
end
hot_check('hot', 'goblock.hotLines and :GoblockHot name marked lines only, every BLOCK line', true)

if edits ~= 'edits' then finish() end

-- ---------------------------------------------------------------------------------------------
-- Edits. Each scenario edits one buffer (unsaved: didChange), then checks every surface against
-- the markers of the edited text: an annotation is on its marker's new line or not shown (and
-- then its hover says stale); a line named by a link holds the same text as before the edit or
-- is not named any more. The buffer is then restored.

--- Waits until the server published diagnostics for f after the edit (or 3 s passed: an edit
--- that changes nothing may not be republished).
local function settle(f, count_before)
  vim.wait(3000, function() return (publish_count[uri_of(f)] or 0) > count_before end, 20)
  vim.wait(200)
end

local function find_line(f, pattern, from)
  for i, text in ipairs(vim.api.nvim_buf_get_lines(bufs[f], 0, -1, false)) do
    if i >= (from or 1) and text:find(pattern, 1, true) then return i end
  end
  error(('%s: no line with %q'):format(f, pattern))
end

-- A scenario: file, name, a function that edits the buffer and returns a map from old line
-- numbers to new ones (nil: deleted), and what kind of edit it is ('delete', 'same-text' or nil;
-- it chooses the groups of the scenario's checks).
local scenarios = {}
local function scenario(f, name, fn, kind) scenarios[#scenarios + 1] = { f = f, name = name, fn = fn, kind = kind } end

local function insert(f, at, lines) -- before line `at`
  vim.api.nvim_buf_set_lines(bufs[f], at - 1, at - 1, false, lines)
  return function(l) return l >= at and l + #lines or l end
end
local function delete(f, first, last)
  vim.api.nvim_buf_set_lines(bufs[f], first - 1, last, false, {})
  return function(l)
    if l < first then return l end
    if l <= last then return nil end
    return l - (last - first + 1)
  end
end
local function replace_in(f, l, from, to)
  local text = vim.api.nvim_buf_get_lines(bufs[f], l - 1, l, false)[1]
  local s = text:find(from, 1, true)
  vim.api.nvim_buf_set_lines(bufs[f], l - 1, l, false, { text:sub(1, s - 1) .. to .. text:sub(s + #from) })
  return function(x) return x end
end

-- The scenarios of the workspace in use (files that exist).
local have = {}
for _, f in ipairs(files) do have[f] = true end
if have['shopd/pipeline.go'] then
  local f = 'shopd/pipeline.go'
  scenario(f, 'insert lines above source and save', function()
    local m = insert(f, find_line(f, '// source emits'), { '// orderDelay paces the sources.', 'var orderDelay = time.Millisecond', '' })
    vim.cmd.buffer(bufs[f])
    vim.cmd('silent write')
    return m
  end)
  scenario(f, 'insert a function above stage', function()
    return insert(f, find_line(f, '// stage applies f'), { '// started counts the stages.', 'var started int', '' })
  end)
  scenario(f, 'insert a line in stage\'s closure above its markers', function()
    return insert(f, find_line(f, 'for v := range in { // BLOCK[chan receive] waiting for the upstream'), { '\t\tstarted++' })
  end)
  scenario(f, 'insert lines in stage below its markers', function()
    return insert(f, find_line(f, 'return out', find_line(f, 'func stage[')), { '\tstarted++', '\tstarted--' })
  end)
  scenario(f, 'rename merge', function()
    return replace_in(f, find_line(f, 'func merge['), 'func merge[', 'func fanIn[')
  end)
  scenario(f, 'delete the closure that closes merge\'s output', function()
    local first = find_line(f, 'go func() {', find_line(f, 'func merge['))
    return delete(f, first, first + 3)
  end, 'delete')
  -- Last: the server may not recover from it.
  scenario(f, 'replace the whole text by itself (as a formatter may)', function()
    vim.api.nvim_buf_set_lines(bufs[f], 0, -1, false, vim.api.nvim_buf_get_lines(bufs[f], 0, -1, false))
    return function(l) return l end
  end, 'same-text')
end
if have['shopd/server.go'] then
  local f = 'shopd/server.go'
  scenario(f, 'insert a handler in newServer (closures of an inlined function)', function()
    return insert(f, find_line(f, '"AWAIT": func('), { '\t\t"PING": func([]string) (string, error) {', '\t\t\treturn "PONG", nil', '\t\t},' })
  end)
  scenario(f, 'insert lines above handle', function()
    return insert(f, find_line(f, '// handle answers'), { '// maxLine bounds a request line.', 'const maxLine = 1 << 10', '' })
  end)
  scenario(f, 'delete the deferred closure of shutdown', function()
    local first = find_line(f, 'defer func() {', find_line(f, 'func (s *server) shutdown('))
    return delete(f, first, first + 3)
  end, 'delete')
end
if have['inventory/feed.go'] then
  local f = 'inventory/feed.go'
  scenario(f, 'insert lines above the second init', function()
    return insert(f, find_line(f, '// The restock feed'), { '// feedDelay is how long a delivery takes.', 'var feedDelay = 2', '' })
  end)
  scenario(f, 'rename Restock', function()
    return replace_in(f, find_line(f, 'func Restock['), 'func Restock[', 'func Deliver[')
  end)
end
if have['inventory/stock.go'] then
  local f = 'inventory/stock.go'
  scenario(f, 'insert a line in WaitUntil above its markers', function()
    return insert(f, find_line(f, 'for !ok(c.items[k]) {'), { '\tc.waiters++' })
  end)
end
if have['testing.go'] then
  local f = 'testing.go'
  scenario(f, 'insert lines in Hold\'s closure above its markers', function()
    return insert(f, find_line(f, 'close(held)'), { '\t\t\ttb.Log("holding")', '' })
  end)
  scenario(f, 'rename Hold', function()
    return replace_in(f, find_line(f, 'func Hold('), 'func Hold(', 'func Occupy(')
  end)
end
if have['limiter_test.go'] then
  local f = 'limiter_test.go'
  scenario(f, 'insert lines in TestCapacity above t.Run', function()
    return insert(f, find_line(f, 't.Run(tc.name'), { '\t\tt.Logf("case %s", tc.name)' })
  end)
  scenario(f, 'delete the work closure', function()
    local first = find_line(f, 'return func() error {')
    return delete(f, first, first + 11)
  end, 'delete')
end

if have['catalogue.go'] then
  local f = 'catalogue.go'
  scenario(f, 'insert lines in the /item handler closure above its markers', function()
    return insert(f, find_line(f, '<-c.ready // BLOCK[chan receive] until the catalogue is loaded'), { '\t\tif r.Method != http.MethodGet {', '\t\t}' })
  end)
  scenario(f, 'rename restock (registered as a method value)', function()
    return replace_in(f, find_line(f, 'func (c *catalogue) restock('), ') restock(', ') refill(')
  end)
  scenario(f, 'insert lines above limit (inlined, its closure named run.limit.func2)', function()
    return insert(f, find_line(f, '// limit lets at most'), { '// maxSlots bounds limit\'s n.', 'const maxSlots = 64', '' })
  end)
end
if have['client.go'] then
  local f = 'client.go'
  scenario(f, 'insert lines above getJSON (generic)', function()
    return insert(f, find_line(f, '// getJSON fetches'), { '// userAgent names the client.', 'const userAgent = "webd"', '' })
  end)
  scenario(f, 'insert a line in fetchAll\'s goroutine above its marker', function()
    return insert(f, find_line(f, 'items[i], errs[i] = getJSON'), { '\t\t\tname = strings.TrimSpace(name)' })
  end)
  scenario(f, 'delete the goroutine of restock', function()
    local first = find_line(f, 'go func() {', find_line(f, 'func restock('))
    return delete(f, first, first + 6)
  end, 'delete')
end

for _, sc in ipairs(scenarios) do
  local f, b = sc.f, bufs[sc.f]
  local original = vim.api.nvim_buf_get_lines(b, 0, -1, false)
  local count = publish_count[uri_of(f)] or 0
  local map = sc.fn()
  settle(f, count)
  local same_text = sc.kind == 'same-text' and 'same-text' or nil
  local a -- the edited file's annotations, from the first check
  check(same_text or 'edit', ('%s: %s'):format(f, sc.name), function()
    local problems = {}
    local blocks = block_lines(f)
    a = annotations(f, blocks)
    local p, shown = placement(f, a)
    vim.list_extend(problems, p)
    -- A BLOCK line annotated before and not now must say why (stale).
    local had = {}
    for _, d in ipairs(before[f].diags) do had[d.range.start.line + 1] = true end
    local hidden = 0
    for old in pairs(had) do
      local new = map(old)
      if new and any_block(marks_of(line_text(f, new))) and not shown[new] then
        hidden = hidden + 1
        if not (a.hovers[new] or ''):lower():find('stale', 1, true) then
          problems[#problems + 1] = ('%s:%d (was %d) lost its annotation, and its hover does not say stale: %q'):format(
            f, new, old, (a.hovers[new] or ''):sub(1, 200))
        end
      end
    end
    return problems, ('%d annotated lines, %d hidden as stale'):format(vim.tbl_count(shown), hidden)
  end)
  check(same_text or 'edit-links', ('%s: %s: named lines'):format(f, sc.name), function()
    if not a then return { 'no annotations of the edited file (see the check above)' } end
    local problems = {}
    -- Lines named by links: the same text as before, or not named.
    local old_text = {}
    for i, s in ipairs(original) do old_text[i] = s end
    local function same(n)
      local nf = rel_of_uri(n.uri)
      if nf ~= f then return named_ok(n) end
      local now = line_text(f, n.line)
      for old, s in pairs(old_text) do
        if map(old) == n.line then
          if s == now then return nil end
          return ('%s names %s:%d, which was line %d before the edit (%q), now %q'):format(n.what, f, n.line, old, vim.trim(s), vim.trim(now or ''))
        end
      end
      return ('%s names %s:%d, which holds none of the lines before the edit: %q'):format(
        n.what, f, n.line, vim.trim(now or '<past the end>'))
    end
    for _, other in ipairs(files) do
      local oa = other == f and a or annotations(other, {})
      for _, n in ipairs(oa.named) do
        add_once(problems, same(n))
      end
    end
    return problems
  end)
  hot_check(same_text or 'edit-hot', ('%s: %s: hot lines and quickfix'):format(f, sc.name), false)
  -- Undo (as `u` would: the inverse change), then everything is back where it was.
  count = publish_count[uri_of(f)] or 0
  vim.cmd.buffer(b)
  vim.cmd('silent undo')
  if sc.name:match('save') then vim.cmd('silent write') end
  settle(f, count)
  check(same_text or (sc.kind == 'delete' and 'undo-delete' or 'undo'), ('%s: %s: undone'):format(f, sc.name), function()
    local problems = {}
    local now = vim.api.nvim_buf_get_lines(b, 0, -1, false)
    if not vim.deep_equal(now, original) then
      problems[#problems + 1] = 'undo did not restore the text'
      vim.api.nvim_buf_set_lines(b, 0, -1, false, original)
      settle(f, publish_count[uri_of(f)] or 0)
    end
    local want, got = {}, {}
    for _, d in ipairs(before[f].diags) do want[#want + 1] = d.range.start.line + 1 end
    for _, d in ipairs(published[uri_of(f)] or {}) do got[#got + 1] = d.range.start.line + 1 end
    table.sort(want)
    table.sort(got)
    if not vim.deep_equal(want, got) then
      problems[#problems + 1] = ('diagnostics at lines %s after the undo, %s before the edit'):format(
        table.concat(got, ','), table.concat(want, ','))
    end
    return problems
  end)
end

finish()
