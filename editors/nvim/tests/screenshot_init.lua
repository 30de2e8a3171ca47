-- screenshot_init.lua: the Neovim session shown in the README screenshot (run in tmux by
-- screenshot.sh): the plugin on the fixture workspace, a blocking line with its diagnostic and
-- inlay hint, the hover with the goroutine table, and :GoblockHot's quickfix list. Writes
-- $GOBLOCK_SHOT_READY when the screen is complete. GOBLOCK_SHOT_FILE / GOBLOCK_SHOT_LINE choose
-- the line (default main.go:109); GOBLOCK_SHOT_HOT=0 leaves the quickfix list out (the
-- goroutine dump screenshot: the dump's hover is taller).
local plugin = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
vim.opt.rtp:prepend(plugin)
vim.cmd('filetype plugin indent on | syntax on')
vim.o.termguicolors = true
vim.o.number = true
vim.o.signcolumn = 'yes'
vim.o.laststatus = 2
vim.o.shortmess = vim.o.shortmess .. 'I'
vim.o.statusline = ' %f %= %{luaeval("require(\'goblock\').status()")}  %l:%c '
vim.diagnostic.config({ virtual_text = { prefix = '●' }, severity_sort = true })

local line = tonumber(vim.env.GOBLOCK_SHOT_LINE or '109')
local file = vim.env.GOBLOCK_SHOT_FILE or 'main.go'
local with_hot = vim.env.GOBLOCK_SHOT_HOT ~= '0'
-- A lower share than the default (0.01) so that every site of this small program shows.
local g = require('goblock').setup({
  server_path = vim.env.GOBLOCK_BIN,
  settings = { diagnostics = { minShare = 0.005, hottest = 25 } },
})
local ready = false

local function done(msg)
  local f = assert(io.open(vim.env.GOBLOCK_SHOT_READY, 'w'))
  f:write(msg or 'ok')
  f:close()
end

local function show_hover()
  vim.api.nvim_win_set_cursor(0, { line, 0 })
  vim.cmd('normal! ^zt')
  vim.cmd('normal! 3\x19') -- three lines of context above
  vim.defer_fn(function()
    vim.lsp.buf.hover({ border = 'rounded', max_width = 130, max_height = 30 })
    vim.defer_fn(done, 1500)
  end, 800)
end

local function finish()
  if ready then return end
  ready = true
  if not with_hot then return show_hover() end
  g.hot({ limit = 8, picker = 'quickfix', open = true }, function(err)
    if err then return done('hot failed: ' .. vim.inspect(err)) end
    vim.cmd('resize 8 | wincmd p')
    show_hover()
  end)
end

vim.cmd.edit(file)
vim.api.nvim_win_set_cursor(0, { line, 0 })
vim.cmd('normal! zt')
vim.api.nvim_create_autocmd('DiagnosticChanged', {
  callback = function()
    if #vim.diagnostic.get(0) > 0 then vim.defer_fn(finish, 1500) end
  end,
})
vim.defer_fn(function()
  if not ready then done('no diagnostics after 60 s') end
end, 60000)
