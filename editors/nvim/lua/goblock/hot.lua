-- goblock.hot: the hottest blocking lines from the server's `goblock.hotLines` command, as
-- quickfix items or vim.ui.select choices. The conversion functions are pure.
local M = {}

local function fmt_duration(ns)
  if ns < 1e3 then return string.format('%d ns', ns) end
  if ns < 1e6 then return string.format('%.1f µs', ns / 1e3) end
  if ns < 1e9 then return string.format('%.1f ms', ns / 1e6) end
  return string.format('%.2f s', ns / 1e9)
end
M.fmt_duration = fmt_duration

--- Checks the server's answer ({ loading, traces, failures, lines, unmapped }, see
--- docs/lsp.md, "goblock.hotLines result") and returns its lines hottest first as
--- { uri, line (1-based), total_ns, count, reasons, label, func }, plus the whole result.
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
      total_ns = (tonumber(e.totalMs) or 0) * 1e6,
      count = tonumber(e.count) or 0,
      reasons = type(e.reasons) == 'table' and e.reasons or {},
      label = type(e.message) == 'string' and e.message or nil,
      func = type(e['function']) == 'string' and e['function'] or nil,
      in_workspace = e.inWorkspace ~= false,
    }
  end
  table.sort(out, function(a, b) return a.total_ns > b.total_ns end)
  return out, result
end

--- The lines to list: the workspace's (all with `library`), at most `limit`.
function M.visible(lines, library, limit)
  local out = {}
  for _, h in ipairs(lines) do
    if #out >= limit then break end
    if library or h.in_workspace then out[#out + 1] = h end
  end
  return out
end

--- "Σ 1.24 s · 34× · chan receive"
function M.describe(h)
  local parts = { 'Σ ' .. fmt_duration(h.total_ns), ('%d×'):format(h.count) }
  if #h.reasons > 0 then parts[#parts + 1] = table.concat(h.reasons, ', ') end
  return table.concat(parts, ' · ')
end

--- Quickfix items for vim.fn.setqflist.
function M.qf_items(lines)
  local items = {}
  for _, h in ipairs(lines) do
    items[#items + 1] = {
      filename = vim.uri_to_fname(h.uri),
      lnum = h.line,
      col = 1,
      text = h.label or M.describe(h),
      type = 'I',
    }
  end
  return items
end

--- Fills the quickfix list (and opens it) or asks with vim.ui.select, then jumps.
function M.show(lines, o)
  if #lines == 0 then
    vim.notify('goblock: no blocking recorded; :GoblockLoad {trace} first', vim.log.levels.INFO)
    return
  end
  local items = M.qf_items(lines)
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

return M
