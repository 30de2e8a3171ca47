-- goblock.hot: the hottest blocking lines from the server's `goblock.hotLines` command (the
-- traces' lines, then the lines of goroutine dumps and profiles labelled by input kind), as
-- quickfix items or vim.ui.select choices; the text of `goblock.goroutines` (every goroutine
-- parked at a line). The conversion functions are pure. Formats no
-- number: the server sends nanoseconds (for ordering) and the labels to show.
local M = {}

---@class goblock.HotLine
---@field uri string
---@field line integer 1-based.
---@field total_ns number For ordering; shown through `label`.
---@field count integer
---@field reasons string[]
---@field label? string The server's row text.
---@field message? string The line's diagnostic message.
---@field func? string
---@field in_workspace boolean

--- Checks the server's answer ({ loading, traces, failures, lines, unmapped }, see
--- docs/lsp.md, "goblock.hotLines result") and returns its lines hottest first as
--- { uri, line (1-based), total_ns, count, reasons, label, message, func }, plus the whole result.
---@param result any The server's answer.
---@return goblock.HotLine[] lines
---@return table result
function M.parse(result)
  if type(result) ~= 'table' or type(result.lines) ~= 'table' then
    error('goblock.hotLines returned ' .. vim.inspect(result):sub(1, 200) .. ', not { lines = {...} }')
  end
  local out = {}
  for i, e in ipairs(result.lines) do
    if type(e) ~= 'table' or type(e.uri) ~= 'string' or type(e.line) ~= 'number' or e.line < 1 then
      error(('goblock.hotLines line %d lacks uri/line: %s'):format(i, vim.inspect(e):sub(1, 200)))
    end
    out[#out + 1] = {
      uri = e.uri,
      line = e.line,
      total_ns = tonumber(e.totalNs) or (tonumber(e.totalMs) or 0) * 1e6,
      count = tonumber(e.count) or 0,
      reasons = type(e.reasons) == 'table' and e.reasons or {},
      -- The row text; a server older than the labels sends only the diagnostic message.
      label = type(e.label) == 'string' and e.label or (type(e.message) == 'string' and e.message or nil),
      message = type(e.message) == 'string' and e.message or nil,
      func = type(e['function']) == 'string' and e['function'] or nil,
      in_workspace = e.inWorkspace ~= false,
    }
  end
  table.sort(out, function(a, b) return a.total_ns > b.total_ns end)
  return out, result
end

--- The lines to list: the workspace's (all with `library`), at most `limit`.
---@param lines goblock.HotLine[]
---@param library boolean
---@param limit integer
---@return goblock.HotLine[]
function M.visible(lines, library, limit)
  local out = {}
  for _, h in ipairs(lines) do
    if #out >= limit then break end
    if library or h.in_workspace then out[#out + 1] = h end
  end
  return out
end

--- The text of a line's row: the server's label ("155 ms · 5 blocks · 4.6 % · chan receive").
---@param h goblock.HotLine
---@return string
function M.describe(h)
  return h.label or table.concat(h.reasons, ', ')
end

--- Quickfix items for vim.fn.setqflist.
---@param lines goblock.HotLine[]
---@return vim.quickfix.entry[]
function M.qf_items(lines)
  local items = {}
  for _, h in ipairs(lines) do
    items[#items + 1] = {
      filename = vim.uri_to_fname(h.uri),
      lnum = h.line,
      col = 1,
      text = M.describe(h),
      type = 'I',
    }
  end
  return items
end

---@class goblock.ParkedItem
---@field uri string
---@field line integer 1-based.
---@field kind 'parked'|'block'|'mutex' The input kind the row's text is of.
---@field label string The row text, labelled by its kind.
---@field in_workspace boolean

-- The input kinds of the `parked` lines, in list order: goroutines parked now (dumps and
-- goroutine profiles), block profiles, mutex profiles; with the label each row starts with.
local KINDS = {
  { kind = 'parked', field = 'parkedLabel', prefix = '' },
  { kind = 'block', field = 'block', prefix = 'block profile: ' },
  { kind = 'mutex', field = 'mutex', prefix = 'mutex profile (where contention ended): ' },
}

--- The dump and profile lines of a goblock.hotLines answer (`parked`, docs/lsp.md), one row per
--- input kind a line has ("parked now: 5 goroutines · chan receive", "block profile: 79
--- contentions · 1.76 s delay (sampled)"), kind by kind in the server's order; library lines only
--- with `library`; at most `limit` per kind. Empty for an older server.
---@param result table
---@param library boolean
---@param limit integer
---@return goblock.ParkedItem[]
function M.parked(result, library, limit)
  local out = {}
  local rows = type(result) == 'table' and type(result.parked) == 'table' and result.parked or {}
  for _, k in ipairs(KINDS) do
    local n = 0
    for _, e in ipairs(rows) do
      local v = type(e) == 'table' and e[k.field] or nil
      local text = type(v) == 'table' and v.label or v
      if n < limit and type(text) == 'string' and type(e.uri) == 'string' and type(e.line) == 'number'
        and e.line >= 1 and (library or e.inWorkspace ~= false) then
        n = n + 1
        out[#out + 1] = { uri = e.uri, line = e.line, kind = k.kind, label = k.prefix .. text,
          in_workspace = e.inWorkspace ~= false }
      end
    end
  end
  return out
end

--- Fills the quickfix list (and opens it) or asks with vim.ui.select, then jumps.
---@param lines goblock.HotLine[]
---@param o goblock.HotOptions
---@param parked? goblock.ParkedItem[] Dump and profile rows, listed after the traces' lines.
function M.show(lines, o, parked)
  parked = parked or {}
  if #lines == 0 and #parked == 0 then
    vim.notify('goblock: no blocking recorded; :Goblock load {trace, dump or profile} first', vim.log.levels.INFO)
    return
  end
  local items = M.qf_items(lines)
  for _, p in ipairs(parked) do
    items[#items + 1] = { filename = vim.uri_to_fname(p.uri), lnum = p.line, col = 1, text = p.label,
      type = p.kind == 'parked' and 'W' or 'I' }
  end
  if o.picker == 'select' then
    vim.ui.select(items, {
      prompt = 'Blocking hot spots',
      format_item = function(it) return ('%s:%d  %s'):format(vim.fn.fnamemodify(it.filename, ':~:.'), it.lnum, it.text) end,
    }, function(it)
      if not it then return end
      vim.cmd.edit(vim.fn.fnameescape(it.filename))
      vim.api.nvim_win_set_cursor(0, { it.lnum, 0 })
      vim.cmd('normal! ^')
    end)
    return
  end
  vim.fn.setqflist({}, ' ', { title = 'goblock: blocking hot spots', items = items })
  if o.open then vim.cmd('botright copen') end
end

--- The lines of the goroutines buffer from a goblock.goroutines answer (docs/lsp.md): a heading,
--- then each group's label and its goroutines' rows. Errors on a wrong shape.
---@param r any
---@return string[]
function M.goroutine_lines(r)
  if type(r) ~= 'table' or type(r.rows) ~= 'table' or type(r.groups) ~= 'table' then
    error('goblock.goroutines returned ' .. vim.inspect(r):sub(1, 200) .. ', not { groups, rows }')
  end
  local name = type(r.uri) == 'string' and vim.fs.basename(vim.uri_to_fname(r.uri)) or '?'
  local out = { ('%s:%s%s'):format(name, tostring(r.line), type(r['function']) == 'string' and (' · ' .. r['function']) or ''),
    tostring(r.label or ''), '' }
  for gi, g in ipairs(r.groups) do
    out[#out + 1] = tostring(g.label or '')
    for _, row in ipairs(r.rows) do
      -- `group` indexes `groups` from 0.
      if row.group == gi - 1 then out[#out + 1] = '  ' .. tostring(row.label or ('goroutine ' .. tostring(row.id))) end
    end
    out[#out + 1] = ''
  end
  return out
end

return M
