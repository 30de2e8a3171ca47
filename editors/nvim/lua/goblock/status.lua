-- goblock.status: the server's `goblock/status` notification (docs/lsp.md, "Protocol
-- extensions"): what is loaded, whether a load runs, what failed. The plugin asks for it
-- (capabilities.experimental.goblockStatus), keeps the last one per client, redraws the
-- statusline and fires `User GoblockStatus` (data: the status) so that lists can refresh.
local M = {}

---@class goblock.StatusInput
---@field path string
---@field kind string trace, goroutine-dump, goroutine-profile, block-profile, mutex-profile
---@field go_version? string Traces only.
---@field count integer Episodes, goroutines or samples.
---@field partial? number A preview: the share analysed so far.

---@class goblock.Status
---@field state 'loading'|'loaded'|'failed'
---@field inputs goblock.StatusInput[]
---@field failures { path: string, message: string }[]
---@field lines integer
---@field files integer
---@field unmapped integer
---@field total_ns number
---@field total_label string
---@field message string

--- The last status of each client, by client id.
---@type table<integer, goblock.Status>
M.by_client = {}

--- Checks the notification's params; returns the status or nil and why.
---@param p any
---@return goblock.Status?
---@return string? err
function M.parse(p)
  if type(p) ~= 'table' or (p.state ~= 'loading' and p.state ~= 'loaded' and p.state ~= 'failed') then
    return nil, 'goblock/status without a state: ' .. vim.inspect(p):sub(1, 200)
  end
  local inputs = {}
  for _, i in ipairs(type(p.inputs) == 'table' and p.inputs or {}) do
    if type(i) == 'table' and type(i.path) == 'string' then
      inputs[#inputs + 1] = {
        path = i.path,
        kind = tostring(i.kind or 'trace'),
        go_version = type(i.goVersion) == 'string' and i.goVersion or nil,
        count = tonumber(i.count) or 0,
        partial = tonumber(i.partial),
      }
    end
  end
  local failures = {}
  for _, f in ipairs(type(p.failures) == 'table' and p.failures or {}) do
    if type(f) == 'table' then
      failures[#failures + 1] = { path = tostring(f.path), message = tostring(f.message) }
    end
  end
  return {
    state = p.state,
    inputs = inputs,
    failures = failures,
    lines = tonumber(p.lines) or 0,
    files = tonumber(p.files) or 0,
    unmapped = tonumber(p.unmapped) or 0,
    total_ns = tonumber(p.totalNs) or 0,
    total_label = type(p.totalLabel) == 'string' and p.totalLabel or '',
    message = type(p.message) == 'string' and p.message or '',
  }
end

--- One short text for a statusline: "goblock: loading…", "goblock: 2 inputs · 3.41 s",
--- "goblock: 1 input · 3.41 s · 1 failed" (state `loaded`: inputs shown, one could not be
--- used), "goblock: 0 inputs · 1 failed" (state `failed`: nothing shown).
---@param s goblock.Status
---@return string
function M.describe(s)
  if s.state == 'loading' then return 'goblock: loading…' end
  local text = ('goblock: %d input%s'):format(#s.inputs, #s.inputs == 1 and '' or 's')
  if s.total_label ~= '' and #s.inputs > 0 then text = text .. ' · ' .. s.total_label end
  if #s.failures > 0 then text = text .. (' · %d failed'):format(#s.failures) end
  return text
end

--- The notification handler (vim.lsp handler signature).
function M.handler(err, params, ctx)
  if err then return end
  local s, why = M.parse(params)
  if not s then
    vim.notify('goblock: ' .. why, vim.log.levels.WARN)
    return
  end
  M.by_client[ctx.client_id] = s
  vim.api.nvim_exec_autocmds('User', { pattern = 'GoblockStatus', data = s, modeline = false })
  vim.cmd.redrawstatus()
end

return M
