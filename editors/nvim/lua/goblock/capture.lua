-- goblock.capture: tracing from Neovim (docs/capture.md): the test under the cursor or the whole
-- package (:Goblock trace, :Goblock! trace; :GoblockTrace[!]), a running service (:Goblock
-- capture {url} [what] [seconds]; :GoblockCapture: a trace, a goroutine dump, a block or mutex
-- profile), the captures made so far (:Goblock captures;
-- :GoblockCaptures), cancelling the one running (:Goblock cancel), and the server's
-- "goblock: trace" code lenses (vim.lsp.codelens; running one runs goblock.captureTest through
-- the handler registered here). The server's $/progress shows the capture (vim.lsp.status());
-- its output goes to the LSP log; the end is a notification. A capture runs your code: only
-- these commands and a lens you run start one. Reference: doc/goblock.txt (|goblock-capture|).
local M = {}

M.server_commands = {
  test = 'goblock.captureTest',
  service = 'goblock.captureService',
  list = 'goblock.captures',
  load = 'goblock.loadCapture',
  cancel = 'goblock.cancelCapture',
}

local function goblock() return require('goblock') end

local function notify(msg, level)
  vim.notify('goblock: ' .. msg, level or vim.log.levels.INFO)
end

local function reason(err)
  return type(err) == 'table' and type(err.data) == 'table' and err.data.reason or nil
end

--- The message of a finished capture ({ capture, message, loaded }) and its level.
---@param r table
---@return string, integer
function M.describe(r)
  if type(r) ~= 'table' or type(r.capture) ~= 'table' or type(r.message) ~= 'string' then
    return 'unexpected capture result ' .. vim.inspect(r), vim.log.levels.ERROR
  end
  local msg = r.message
  local level = vim.log.levels.INFO
  if r.loaded ~= true then
    msg = msg .. ' (not shown: a newer load superseded it)'
    level = vim.log.levels.WARN
  end
  if type(r.capture.warnings) == 'table' and #r.capture.warnings > 0 then
    msg = msg .. ' — ' .. tostring(r.capture.warnings[1])
    level = vim.log.levels.WARN
  end
  return msg .. ' (:Goblock hot for the hottest lines)', level
end

--- Runs a capture command and reports how it ended; cb(err, result) when given.
---@param command string
---@param args table
---@param label string What is captured ("TestX", "the package's tests").
---@param cb? goblock.Callback
function M.run(command, args, label, cb)
  notify(label .. '…')
  goblock().exec(command, args, function(err, result)
    if err then
      local why = reason(err)
      if why == 'cancelled' then
        notify('capture cancelled')
      elseif why == 'busy' then
        local running = err.data.running or 'another capture'
        vim.ui.select({ 'Cancel it and start ' .. label, 'Keep it' }, {
          prompt = ('goblock: %s is being traced'):format(running),
        }, function(_, idx)
          if idx ~= 1 then return end
          goblock().exec(M.server_commands.cancel, {}, function()
            vim.defer_fn(function() M.run(command, args, label, cb) end, 500)
          end)
        end)
        return
      else
        local extra = why == 'build' and ' (the errors are diagnostics: :lua vim.diagnostic.setqflist())' or ''
        notify((err.message or vim.inspect(err)):gsub('^goblock: ', '') .. extra, vim.log.levels.ERROR)
      end
    else
      local msg, level = M.describe(result)
      notify(msg, level)
    end
    if cb then cb(err, result) end
  end)
end

--- :Goblock trace — the test, benchmark or fuzz test around the cursor; with `package` every
--- test of the buffer's package.
---@param opts? { package?: boolean, bufnr?: integer }
---@param cb? goblock.Callback
function M.trace(opts, cb)
  opts = opts or {}
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  local name = vim.api.nvim_buf_get_name(bufnr)
  if not name:match('%.go$') or (not opts.package and not name:match('_test%.go$')) then
    local msg = opts.package and 'open a Go file of the package' or 'put the cursor in a test of a _test.go file'
    notify(msg .. ' (:Goblock! trace traces the whole package)', vim.log.levels.ERROR)
    if cb then cb({ message = msg }) end
    return
  end
  -- The build reads the files on disk.
  if vim.bo[bufnr].modified then vim.api.nvim_buf_call(bufnr, function() vim.cmd('silent write') end) end
  local args = { uri = vim.uri_from_bufnr(bufnr) }
  local label
  if opts.package then
    label = 'tracing the tests of ' .. vim.fn.fnamemodify(name, ':h:t')
  else
    local win = vim.fn.bufwinid(bufnr)
    args.line = vim.api.nvim_win_get_cursor(win ~= -1 and win or 0)[1] - 1
    label = 'tracing the test at line ' .. (args.line + 1)
  end
  M.run(M.server_commands.test, { args }, label, cb)
end

--- What :Goblock capture can fetch (goblock.captureService's `what`), and what each is.
M.service_kinds = {
  trace = 'an execution trace of N seconds (/debug/pprof/trace)',
  goroutines = 'a goroutine dump, now (/debug/pprof/goroutine?debug=2)',
  block = 'the block profile of N seconds (/debug/pprof/block; runtime.SetBlockProfileRate)',
  mutex = 'the mutex profile of N seconds (/debug/pprof/mutex; runtime.SetMutexProfileFraction)',
}

--- :Goblock capture {url} [trace|goroutines|block|mutex] [seconds]
---@param url string
---@param seconds? number Default 5 (not used for a goroutine dump).
---@param cb? goblock.Callback
---@param what? string 'trace' (default), 'goroutines', 'block' or 'mutex'.
function M.capture(url, seconds, cb, what)
  local usage = 'usage: :Goblock capture {url} [trace|goroutines|block|mutex] [seconds]'
  if not url or url == '' then
    return notify(usage, vim.log.levels.ERROR)
  end
  what = what or 'trace'
  if not M.service_kinds[what] then
    return notify(('cannot capture %q: %s'):format(what, usage), vim.log.levels.ERROR)
  end
  seconds = tonumber(seconds or 5)
  if not seconds or seconds <= 0 then
    return notify('seconds: a number above 0', vim.log.levels.ERROR)
  end
  local args = { url = url, seconds = seconds, what = what }
  local label = ('capturing %s s of %s'):format(seconds, url)
  if what == 'goroutines' then
    args.seconds = nil
    label = 'capturing a goroutine dump of ' .. url
  elseif what ~= 'trace' then
    label = ('capturing the %s profile of %s s of %s'):format(what, math.ceil(seconds), url)
  end
  M.run(M.server_commands.service, { args }, label, cb)
end

--- :Goblock captures — the captures, newest first, in vim.ui.select; the one picked is shown.
---@param cb? goblock.Callback
function M.captures(cb)
  goblock().exec(M.server_commands.list, {}, function(err, r)
    if err or type(r) ~= 'table' or type(r.captures) ~= 'table' then
      notify('captures: ' .. (err and err.message or vim.inspect(r)), vim.log.levels.ERROR)
      if cb then cb(err or { message = 'unexpected result' }) end
      return
    end
    if #r.captures == 0 then
      notify(('no captures yet in %s (:Goblock trace, :Goblock capture {url})'):format(r.root))
      if cb then cb(nil, r) end
      return
    end
    vim.ui.select(r.captures, {
      prompt = 'goblock: captures in ' .. vim.fn.fnamemodify(r.root, ':~:.')
        .. (r.running and (' (running: ' .. r.running .. ')') or ''),
      format_item = function(c)
        return ('%s%s  %s · %s · %s'):format(c.loaded and '● ' or '  ', c.name, c.kind, c.outcome, c.started)
      end,
    }, function(c)
      if not c then
        if cb then cb(nil, r) end
        return
      end
      M.run(M.server_commands.load, { { dir = c.dir } }, 'showing ' .. c.name, cb)
    end)
  end)
end

--- :Goblock cancel
function M.cancel()
  goblock().exec(M.server_commands.cancel, {}, function(err, r)
    if err then return notify('cancel: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR) end
    if type(r) == 'table' and not r.cancelled then notify('no capture is running') end
  end)
end

--- Client-side handler of goblock.captureTest, so that a lens run through vim.lsp.codelens.run()
--- reports like :Goblock trace.
function M.register_lens_handler()
  vim.lsp.commands[M.server_commands.test] = function(command)
    local a = command.arguments and command.arguments[1] or {}
    M.run(command.command, command.arguments or {}, 'tracing ' .. (a.name or "the package's tests"))
  end
end

--- Keeps the code lenses of a buffer fresh (vim.lsp.codelens.refresh on enter, save and leaving
--- insert mode).
---@param bufnr integer
function M.attach_lenses(bufnr)
  local group = vim.api.nvim_create_augroup('goblock_lens_' .. bufnr, { clear = true })
  local function refresh() vim.lsp.codelens.refresh({ bufnr = bufnr }) end
  vim.api.nvim_create_autocmd({ 'BufEnter', 'BufWritePost', 'InsertLeave' }, {
    group = group,
    buffer = bufnr,
    callback = refresh,
  })
  refresh()
end

return M
