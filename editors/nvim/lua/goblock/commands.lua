-- goblock.commands: the :Goblock {subcommand} command that plugin/goblock.lua defines and its
-- completion. Loaded on the first use of a command: the rest of the plugin loads with it. A subcommand used before setup() calls
-- setup() with the defaults. The old names (:GoblockLoad…) are plugin/goblock.lua's aliases.
-- Reference: doc/goblock.txt (|:Goblock|).
local M = {}

local function goblock()
  local g = require('goblock')
  if not g.opts then g.setup() end
  return g
end

local function notify(msg, level)
  vim.notify('goblock: ' .. msg, level or vim.log.levels.INFO)
end

---@class goblock.Subcommand
---@field desc string One line for :Goblock without arguments and the help.
---@field run fun(args: string[], cmd: table) `cmd` is the user command's table (bang, count…).
---@field complete? fun(arglead: string): string[]

local function files(arglead)
  return vim.fn.getcompletion(arglead, 'file')
end

--- Prints what is loaded: traces, their Go version and length, the categories shown, the total.
local function status()
  local g = goblock()
  g.exec(g.server_commands.hot, { 1 }, function(err, r)
    if err then return notify('status failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR) end
    if type(r) ~= 'table' then return notify('status: unexpected answer ' .. vim.inspect(r), vim.log.levels.ERROR) end
    local parts = {}
    for _, t in ipairs(r.traces or {}) do
      parts[#parts + 1] = ('%s (Go %s)'):format(vim.fn.fnamemodify(tostring(t.path), ':~:.'), tostring(t.goVersion))
    end
    local msg = #parts > 0 and ('loaded %s'):format(table.concat(parts, ', ')) or 'no trace loaded'
    if r.totalLabel then msg = msg .. (' · %s of completed blocking'):format(r.totalLabel) end
    if type(r.categories) == 'table' then
      msg = msg .. (' in %s (goblock.categories)'):format(table.concat(r.categories, ', '))
    end
    for _, f in ipairs(r.failures or {}) do
      msg = msg .. '\n' .. tostring(f.message) -- names its file (docs/lsp.md)
    end
    if r.loading then msg = msg .. ' (loading…)' end
    notify(msg)
  end)
end

---@type table<string, goblock.Subcommand>
M.subcommands = {
  load = {
    desc = 'load a Go trace, goroutine dump or profile: :Goblock load {file}',
    run = function(args)
      if #args ~= 1 then return notify('usage: :Goblock load {trace file}', vim.log.levels.ERROR) end
      goblock().load(args[1])
    end,
    complete = files,
  },
  reload = { desc = 're-discover and reload the traces', run = function() goblock().reload() end },
  clear = { desc = 'unload every trace', run = function() goblock().clear() end },
  hot = {
    desc = 'the hottest lines: :[N]Goblock[!] hot [N] [quickfix|select] (! = the other picker)',
    run = function(args, cmd)
      local g = goblock()
      local o = vim.deepcopy(g.opts.hot)
      if cmd.bang then o.picker = o.picker == 'select' and 'quickfix' or 'select' end
      if (cmd.count or 0) > 0 then o.limit = cmd.count end
      for _, a in ipairs(args) do
        if a == 'quickfix' or a == 'select' then
          o.picker = a
        elseif tonumber(a) and tonumber(a) > 0 then
          o.limit = math.floor(tonumber(a))
        else
          return notify(('hot: %q is neither a count nor quickfix/select'):format(a), vim.log.levels.ERROR)
        end
      end
      g.hot(o)
    end,
    complete = function() return { 'quickfix', 'select' } end,
  },
  goroutines = {
    desc = 'every goroutine the dumps have parked at the cursor line, in a scratch buffer',
    run = function() goblock().goroutines() end,
  },
  hints = {
    desc = 'toggle the inlay hints in this buffer',
    run = function() notify('inlay hints ' .. (goblock().toggle_hints() and 'on' or 'off')) end,
  },
  status = { desc = 'what is loaded, and the categories shown', run = status },
  trace = {
    desc = 'trace the test under the cursor; :Goblock! trace traces the package (runs your tests)',
    run = function(_, cmd)
      goblock()
      require('goblock.capture').trace({ package = cmd.bang })
    end,
  },
  capture = {
    desc = 'capture a running service (net/http/pprof): :Goblock capture {url} [trace|goroutines|block|mutex] [seconds]',
    run = function(args)
      local usage = 'usage: :Goblock capture {url} [trace|goroutines|block|mutex] [seconds]'
      if #args < 1 or #args > 3 then return notify(usage, vim.log.levels.ERROR) end
      -- After the URL, in any order: what to capture and the seconds.
      local what, seconds
      for i = 2, #args do
        if tonumber(args[i]) and not seconds then
          seconds = args[i]
        elseif not tonumber(args[i]) and not what then
          what = args[i]
        else
          return notify(usage, vim.log.levels.ERROR)
        end
      end
      goblock()
      require('goblock.capture').capture(args[1], seconds, nil, what)
    end,
    complete = function() return { 'trace', 'goroutines', 'block', 'mutex' } end,
  },
  captures = {
    desc = 'the captures made so far; the one picked is shown',
    run = function()
      goblock()
      require('goblock.capture').captures()
    end,
  },
  cancel = {
    desc = 'cancel the running capture',
    run = function()
      goblock()
      require('goblock.capture').cancel()
    end,
  },
  health = { desc = 'run :checkhealth goblock', run = function() vim.cmd('checkhealth goblock') end },
}

--- Subcommand names, sorted.
---@return string[]
function M.names()
  local names = vim.tbl_keys(M.subcommands)
  table.sort(names)
  return names
end

--- Runs `:Goblock {sub} {args}`; without a subcommand lists them.
---@param cmd table The user command's table (fargs, bang, count).
function M.dispatch(cmd)
  local name = cmd.fargs[1]
  if not name then
    local lines = { ':Goblock {subcommand} (:help :Goblock)' }
    for _, n in ipairs(M.names()) do lines[#lines + 1] = ('  %-7s %s'):format(n, M.subcommands[n].desc) end
    return notify(table.concat(lines, '\n'))
  end
  local sub = M.subcommands[name]
  if not sub then
    return notify(('unknown subcommand %q; one of %s'):format(name, table.concat(M.names(), ', ')), vim.log.levels.ERROR)
  end
  sub.run(vim.list_slice(cmd.fargs, 2), cmd)
end

--- Completion of `:Goblock …`: subcommand names, then the subcommand's arguments.
---@param arglead string
---@param cmdline string
---@return string[]
function M.complete(arglead, cmdline)
  local words = vim.split(cmdline:gsub('^%s*%d*%s*', ''), '%s+', { trimempty = true })
  -- words[1] is "Goblock" (or "Goblock!"); a finished word before the cursor counts.
  local n = #words - (arglead ~= '' and 1 or 0)
  if n <= 1 then
    return vim.tbl_filter(function(s) return vim.startswith(s, arglead) end, M.names())
  end
  local sub = M.subcommands[words[2]]
  if not sub or not sub.complete then return {} end
  return vim.tbl_filter(function(s) return vim.startswith(s, arglead) end, sub.complete(arglead))
end

return M
