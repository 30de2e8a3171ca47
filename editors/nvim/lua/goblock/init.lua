-- goblock: Neovim client for `goblock lsp`, which shows where Go goroutines block from Go
-- execution traces. setup() registers the server (vim.lsp.config + vim.lsp.enable on 0.11+,
-- vim.lsp.start from a FileType autocmd before) and turns inlay hints on in the buffers it
-- attaches to. The :Goblock command is plugin/goblock.lua's (goblock.commands); progress is the
-- server's $/progress, shown by vim.lsp.status(). Reference: doc/goblock.txt (:help goblock).
local config = require('goblock.config')
local hot = require('goblock.hot')

local M = {}
M.name = 'goblock'
---@type goblock.Options? The resolved options; nil until setup().
M.opts = nil
-- Server commands (workspace/executeCommand), see lsp/server.
M.server_commands = {
  load = 'goblock.loadTrace',
  reload = 'goblock.reload',
  clear = 'goblock.clear',
  hot = 'goblock.hotLines',
  goroutines = 'goblock.goroutines',
}

--- True when vim.lsp.config/vim.lsp.enable exist (Neovim 0.11+). Tests replace it.
function M._has_lsp_config()
  return vim.lsp.config ~= nil and vim.lsp.enable ~= nil and vim.fn.has('nvim-0.11') == 1
end

--- The running goblock client (for the current buffer first), or nil.
---@param bufnr? integer
---@return vim.lsp.Client?
function M.client(bufnr)
  local clients = vim.lsp.get_clients({ name = M.name, bufnr = bufnr })
  if #clients == 0 then clients = vim.lsp.get_clients({ name = M.name }) end
  return clients[1]
end

-- Client methods became colon methods in 0.11 (the dot forms are deprecated there).
local has_011 = vim.fn.has('nvim-0.11') == 1
local function request(client, method, params, handler, bufnr)
  if has_011 then return client:request(method, params, handler, bufnr) end
  return client.request(method, params, handler, bufnr)
end
local function send(client, method, params)
  if has_011 then return client:notify(method, params) end
  return client.notify(method, params)
end
local function stopped(client)
  if has_011 then return client:is_stopped() end
  return client.is_stopped()
end
local function supports(client, method, bufnr)
  if has_011 then return client:supports_method(method, bufnr) end
  return client.supports_method(method, { bufnr = bufnr })
end

local function notify(msg, level)
  vim.notify('goblock: ' .. msg, level or vim.log.levels.INFO)
end

--- The failures of a loadTrace/reload/clear result ({ loaded, failures, summary }) as one
--- message, or nil. Each message names its file (docs/lsp.md).
local function failures(result)
  if type(result) ~= 'table' or type(result.failures) ~= 'table' or #result.failures == 0 then return nil end
  return table.concat(vim.tbl_map(function(f)
    return tostring(f.message)
  end, result.failures), '; ')
end
M._failures = failures

--- How long a command waits for a client that is still starting, ms.
M.start_timeout_ms = 15000

---@alias goblock.Callback fun(err: table?, result: any)

--- Runs a server command (workspace/executeCommand); calls back with (err, result). Waits for a
--- client that is still initializing; errors when none runs.
---@param command string
---@param arguments? any[]
---@param cb? goblock.Callback
function M.exec(command, arguments, cb)
  local function fail(msg)
    if cb then cb({ message = msg }) else notify(msg, vim.log.levels.ERROR) end
  end
  local client = M.client(0)
  if not client then
    return fail('no goblock language server is running (open a Go file in a Go module, see :checkhealth goblock)')
  end
  local function send_request()
    request(client, 'workspace/executeCommand', { command = command, arguments = arguments or {} }, function(err, result)
      if cb then
        cb(err, result)
      elseif err then
        notify(command .. ' failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      end
    end, 0)
  end
  if client.initialized then return send_request() end
  local waited = 0
  local function retry()
    if client.initialized then return send_request() end
    if stopped(client) or waited >= M.start_timeout_ms then
      return fail('the goblock language server did not start (see :checkhealth goblock)')
    end
    waited = waited + 100
    vim.defer_fn(retry, 100)
  end
  retry()
end

--- Why `abs` cannot be loaded before asking the server ("no such file: PATH", "is a
--- directory: PATH", "cannot read PATH"), or nil.
---@param abs string
---@return string?
function M._unloadable(abs)
  local st = vim.uv.fs_stat(abs)
  if not st then return 'no such file: ' .. abs end
  if st.type == 'directory' then return 'is a directory, not a file: ' .. abs:gsub('/$', '') end
  if vim.fn.filereadable(abs) == 0 then return 'cannot read ' .. abs .. ' (permissions?)' end
  return nil
end

--- Loads a trace file (:Goblock load {file}).
---@param path string
---@param cb? goblock.Callback
function M.load(path, cb)
  if not path or path == '' then return notify('usage: :Goblock load {trace file}', vim.log.levels.ERROR) end
  local abs = vim.fn.fnamemodify(vim.fn.expand(path), ':p')
  local problem = M._unloadable(abs)
  if problem then
    notify(problem, vim.log.levels.ERROR)
    if cb then cb({ message = problem }) end
    return
  end
  notify('loading ' .. vim.fn.fnamemodify(abs, ':~:.') .. '…')
  M.exec(M.server_commands.load, { abs }, function(err, result)
    local failed = err and (err.message or vim.inspect(err)) or failures(result)
    if failed then
      notify('loading ' .. abs .. ' failed: ' .. failed, vim.log.levels.ERROR)
      err = err or { message = failed }
    elseif type(result) == 'table' and result.superseded then
      notify('loading ' .. vim.fn.fnamemodify(abs, ':t') .. ' was superseded by a newer load')
    else
      notify('loaded ' .. vim.fn.fnamemodify(abs, ':t'))
    end
    if cb then cb(err, result) end
  end)
end

local function simple(command, done_msg)
  return function(cb)
    M.exec(command, {}, function(err, result)
      local failed = err and (err.message or vim.inspect(err)) or failures(result)
      if failed then
        notify(command .. ' failed: ' .. failed, vim.log.levels.ERROR)
        err = err or { message = failed }
      else
        notify(done_msg)
      end
      if cb then cb(err, result) end
    end)
  end
end
--- Re-discovers and reloads the traces (:Goblock reload).
---@type fun(cb?: goblock.Callback)
M.reload = simple(M.server_commands.reload, 'reloaded')
--- Unloads every trace (:Goblock clear).
---@type fun(cb?: goblock.Callback)
M.clear = simple(M.server_commands.clear, 'cleared')

--- The hottest lines of the workspace in the quickfix list or vim.ui.select (:Goblock hot).
---@param opts? goblock.HotOptions Overrides setup()'s `hot` options.
---@param cb? fun(err: table?, lines: table[]?)
function M.hot(opts, cb)
  opts = vim.tbl_extend('force', M.opts and M.opts.hot or config.defaults.hot, opts or {})
  -- Ask for more than shown: library lines are filtered out here.
  M.exec(M.server_commands.hot, { opts.limit * 4 }, function(err, result)
    if err then
      notify('hot lines failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      if cb then cb(err) end
      return
    end
    local ok, lines = pcall(hot.parse, result)
    if not ok then
      notify(lines, vim.log.levels.ERROR)
      if cb then cb({ message = lines }) end
      return
    end
    lines = hot.visible(lines, opts.library, opts.limit)
    local parked = hot.parked(result, opts.library, opts.limit)
    hot.show(lines, opts, parked)
    if cb then cb(nil, lines, parked) end
  end)
end

--- Every goroutine the loaded dumps have parked at the cursor's line (:Goblock goroutines), in a
--- scratch buffer in a split (q closes it): the hover lists at most 16 id ranges per group.
---@param cb? fun(err: table?, buf: integer?)
function M.goroutines(cb)
  local src = vim.api.nvim_get_current_buf()
  local line = vim.api.nvim_win_get_cursor(0)[1]
  local where = ('%s:%d'):format(vim.fs.basename(vim.api.nvim_buf_get_name(src)), line)
  M.exec(M.server_commands.goroutines, { { uri = vim.uri_from_bufnr(src), line = line - 1 } }, function(err, r)
    local ok, lines = false, nil
    if not err then ok, lines = pcall(hot.goroutine_lines, r) end
    if err or not ok then
      local msg = err and (err.message or vim.inspect(err)) or lines
      notify('goroutines failed: ' .. msg, vim.log.levels.ERROR)
      if cb then cb({ message = msg }) end
      return
    end
    if #r.rows == 0 then
      notify(where .. ': ' .. tostring(r.label))
      if cb then cb(nil, nil) end
      return
    end
    vim.cmd('botright new')
    local buf = vim.api.nvim_get_current_buf()
    vim.bo[buf].buftype = 'nofile'
    vim.bo[buf].bufhidden = 'wipe'
    vim.bo[buf].swapfile = false
    pcall(vim.api.nvim_buf_set_name, buf, 'goblock://goroutines/' .. where)
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
    vim.bo[buf].modifiable = false
    vim.bo[buf].filetype = 'goblock-goroutines'
    vim.keymap.set('n', 'q', '<cmd>close<cr>', { buffer = buf, desc = 'close the goroutines list' })
    if cb then cb(nil, buf) end
  end)
end

--- Toggles inlay hints in a buffer (:Goblock hints); returns whether they are on now.
---@param bufnr? integer Default: the current buffer.
---@return boolean
function M.toggle_hints(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local on = not vim.lsp.inlay_hint.is_enabled({ bufnr = bufnr })
  vim.lsp.inlay_hint.enable(on, { bufnr = bufnr })
  return on
end

--- Changes server settings at run time (merged into setup()'s `settings`) and sends them to
--- the running clients, e.g. set_settings({ diagnostics = { minShare = 0 } }).
---@param settings table<string, any>
function M.set_settings(settings)
  if not M.opts then M.setup() end
  M.opts.settings = vim.tbl_deep_extend('force', M.opts.settings, settings)
  local section = config.server_settings(M.opts)
  for _, c in ipairs(vim.lsp.get_clients({ name = M.name })) do
    c.settings = { goblock = section }
    send(c, 'workspace/didChangeConfiguration', { settings = { goblock = section } })
  end
end

--- For a statusline: the server's progress (vim.lsp.status()) when there is some, else what
--- the server's last goblock/status says ("goblock: 1 input · 3.41 s"), else 'goblock' while a
--- client runs, else ''.
---@return string
function M.status()
  local c = M.client()
  if not c then return '' end
  local s = vim.lsp.status()
  if s ~= '' then return s end
  local st = require('goblock.status').by_client[c.id]
  return st and require('goblock.status').describe(st) or 'goblock'
end

local function on_attach(client, bufnr)
  if M.opts.inlay_hints and supports(client, 'textDocument/inlayHint', bufnr) then
    vim.lsp.inlay_hint.enable(true, { bufnr = bufnr })
  end
  if M.opts.codelens and vim.api.nvim_buf_get_name(bufnr):match('_test%.go$')
    and supports(client, 'textDocument/codeLens', bufnr) then
    require('goblock.capture').attach_lenses(bufnr)
  end
  if M.opts.on_attach then M.opts.on_attach(client, bufnr) end
end

local function server_config(o)
  local settings = config.server_settings(o)
  return {
    cmd = config.cmd(o),
    filetypes = o.filetypes,
    root_markers = o.root_markers,
    settings = { goblock = settings },
    init_options = settings,
    -- goblock/status: what is loaded, sent when it changes (goblock.status).
    capabilities = vim.tbl_deep_extend('force', o.capabilities or {}, { experimental = { goblockStatus = true } }),
    handlers = { ['goblock/status'] = require('goblock.status').handler },
    on_attach = on_attach,
  }
end

--- Registers the server for Go buffers. Calling it again replaces the options. The :Goblock
--- command works without it (its first use calls setup() with the defaults).
---@param opts? goblock.Options
---@return table goblock The module.
function M.setup(opts)
  M.opts = config.resolve(opts)
  require('goblock.capture').register_lens_handler()
  local sc = server_config(M.opts)
  local group = vim.api.nvim_create_augroup('goblock', { clear = true })
  if M._has_lsp_config() then
    vim.lsp.config(M.name, sc)
    vim.lsp.enable(M.name)
  else
    -- Neovim 0.10: start (or reuse) one client per root from a FileType autocmd.
    vim.api.nvim_create_autocmd('FileType', {
      group = group,
      pattern = M.opts.filetypes,
      callback = function(ev)
        local root = vim.fs.root(ev.buf, M.opts.root_markers)
        if not root then return end
        vim.lsp.start(vim.tbl_extend('force', sc, { name = M.name, root_dir = root }), { bufnr = ev.buf })
      end,
    })
    -- Buffers already open when setup() runs.
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(b) and vim.tbl_contains(M.opts.filetypes, vim.bo[b].filetype) then
        vim.api.nvim_exec_autocmds('FileType', { group = group, buffer = b })
      end
    end
  end
  vim.api.nvim_create_autocmd('LspProgress', {
    group = group,
    callback = function(ev)
      local c = vim.lsp.get_client_by_id(ev.data.client_id)
      if c and c.name == M.name then vim.cmd.redrawstatus() end
    end,
  })
  return M
end

return M
