-- goblock.config: the plugin's options (snake_case, as Neovim plugins take them) with their
-- defaults, and the `goblock` settings section the language server reads. Pure Lua.
-- Documented in doc/goblock.txt (|goblock-options|).
local M = {}

---@class goblock.HotOptions
---@field limit? integer Lines :Goblock hot shows (default 30).
---@field picker? 'quickfix'|'select' Where they go (default 'quickfix').
---@field open? boolean Open the quickfix window (default true).
---@field library? boolean Also list lines outside the workspace: GOROOT, module cache (default false).

---@class goblock.Options
---@field server_path? string The goblock binary (default: `goblock` on PATH).
---@field cmd? string[]|fun(dispatchers: table): table The server command; wins over server_path.
---@field filetypes? string[] Buffers the server attaches to (default { 'go', 'gomod' }).
---@field root_markers? string[] Files that mark the workspace root (default { 'go.work', 'go.mod', '.git' }).
---@field inlay_hints? boolean Turn inlay hints on in attached buffers (default true).
---@field codelens? boolean Show the "goblock: trace" lenses in _test.go buffers (default true).
---@field hot? goblock.HotOptions
---@field settings? table<string, any> Server settings (docs/lsp.md), camelCase: { categories = { 'sync' } }.
---@field on_attach? fun(client: vim.lsp.Client, bufnr: integer)
---@field capabilities? table Client capabilities merged into the defaults.

---@type goblock.Options
M.defaults = {
  -- The server: `cmd` wins; else `server_path` (or `goblock` on PATH) with the `lsp` argument.
  server_path = nil,
  cmd = nil,
  filetypes = { 'go', 'gomod' },
  root_markers = { 'go.work', 'go.mod', '.git' },
  -- Turn inlay hints on in buffers the server attaches to.
  inlay_hints = true,
  -- Show (and refresh) the server's "goblock: trace" code lenses in _test.go buffers.
  codelens = true,
  -- :Goblock hot shows this many lines; 'quickfix' fills the quickfix list, 'select' uses
  -- vim.ui.select; library = true also lists lines outside the workspace (GOROOT, module cache).
  hot = { limit = 30, picker = 'quickfix', open = true, library = false },
  -- Settings sent to the server (section `goblock`); nil leaves the server's default.
  settings = {
    traces = nil, -- globs, default { '**/*.trace', '**/trace.out', '**/*.trace.out' }
    binaries = nil, -- traced binaries (paths or globs)
    categories = nil, -- default { 'sync', 'net', 'syscall' }
    diagnostics = nil, -- { minTotalMs = …, minShare = …, severity = 'hint'|'information'|'warning'|'error' }
    inlayHints = nil, -- { enable = true }
    substitutePath = nil, -- { { from = '/build/src', to = '/home/me/src' } }
  },
  on_attach = nil,
  capabilities = nil,
}

local function is_list_of_strings(v)
  if type(v) ~= 'table' then return false end
  for _, s in ipairs(v) do
    if type(s) ~= 'string' then return false end
  end
  return true
end

-- vim.validate changed its signature in 0.11; this works on 0.10 too.
local function check(name, value, types, optional)
  if value == nil and optional then return end
  for _, t in ipairs(types) do
    if type(value) == t then return end
  end
  error(('goblock: %s must be %s, got %s'):format(name, table.concat(types, ' or '), vim.inspect(value)))
end

--- Merges user options over the defaults and checks their types; errors name the bad key.
---@param opts? goblock.Options
---@return goblock.Options
function M.resolve(opts)
  opts = opts or {}
  check('setup() options', opts, { 'table' })
  local o = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts)
  check('server_path', o.server_path, { 'string' }, true)
  check('cmd', o.cmd, { 'table', 'function' }, true)
  check('inlay_hints', o.inlay_hints, { 'boolean' })
  check('codelens', o.codelens, { 'boolean' })
  check('hot.limit', o.hot.limit, { 'number' })
  if o.hot.picker ~= 'quickfix' and o.hot.picker ~= 'select' then
    error("goblock: hot.picker must be 'quickfix' or 'select', got " .. vim.inspect(o.hot.picker))
  end
  for _, k in ipairs({ 'traces', 'binaries', 'categories' }) do
    if o.settings[k] ~= nil and not is_list_of_strings(o.settings[k]) then
      error('goblock: settings.' .. k .. ' must be a list of strings')
    end
  end
  return o
end

--- The command that starts the server.
---@param o goblock.Options
---@return string[]|fun(dispatchers: table): table
function M.cmd(o)
  if o.cmd then return o.cmd end
  return { vim.fn.expand(o.server_path or 'goblock'), 'lsp' }
end

--- The `goblock` settings section without the unset keys (the server keeps its defaults).
--- Never an empty Lua table: that would be sent as a JSON array, not an object.
---@param o goblock.Options
---@return table
function M.server_settings(o)
  local s = vim.empty_dict()
  for k, v in pairs(o.settings or {}) do
    if v ~= nil and v ~= vim.NIL then s[k] = v end
  end
  return s
end

return M
