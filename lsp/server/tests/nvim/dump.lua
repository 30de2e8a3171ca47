-- Headless-Neovim check of a goroutine dump (no plugin): starts `goblock lsp`
-- with vim.lsp.start on a workspace holding the program's sources and a
-- SIGQUIT dump of it whose goroutines waited minutes, then reads the
-- diagnostics and the hover of one line.
--   nvim --headless --clean -l dump.lua <goblock> <workspace> <file.go> <line> <goroutines> <ids>
-- <line> (1-based) has <goroutines> goroutines parked, ids <ids> ("2–6").
-- Prints one "key=value" line per check and "nvim: N passed, N failed".
local server, ws, file, line, n, ids = _G.arg[1], _G.arg[2], _G.arg[3], tonumber(_G.arg[4]), _G.arg[5], _G.arg[6]
local h = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "harness.lua"))
local check, finish = h.check, h.finish

-- A threshold below the line's goroutines: the line is a likely leak.
local buf, id = h.start(server, ws, file, { goblock = { debounceMs = 100, dumps = { parkedThreshold = tonumber(n) - 1 } } })
check("diagnostics", vim.wait(60000, function() return #vim.diagnostic.get(buf) > 0 end, 50))
local found
for _, d in ipairs(vim.diagnostic.get(buf)) do
  if d.lnum == line - 1 then found = d end
end
check("diagnostic at line " .. line, found ~= nil)
if found then
  check("diagnostic code", found.code == "goroutine-dump", vim.inspect(found.code))
  check("likely leak is a warning", found.severity == vim.diagnostic.severity.WARN, tostring(found.severity))
  check("diagnostic message", found.message:find("likely leak: parked now: " .. n .. " goroutines", 1, true) ~= nil, found.message)
end

local hov = vim.lsp.buf_request_sync(buf, "textDocument/hover", {
  textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = line - 1, character = 1 },
}, 10000)
local r = hov and hov[id] and hov[id].result
local md = r and r.contents and r.contents.value or ""
io.stdout:write("hover:\n" .. md .. "\n")
check("hover summary", md:find("parked now: **" .. n .. "** goroutines", 1, true) ~= nil, md:sub(1, 120))
-- The group, panicparse style: count × ids [status, minutes], creator.
check("hover group", md:find("**" .. n .. "** × goroutines " .. ids .. " (chan receive, ≥ ", 1, true) ~= nil)
check("hover creator", md:find("created by `main.NewPool` at [parked/pool.go:25]", 1, true) ~= nil)
check("hover flag", md:find("likely leak", 1, true) ~= nil)
check("hover panic message", md:find("SIGQUIT: quit", 1, true) ~= nil)

-- The rendered floating window: what the user reads.
local _, win = vim.lsp.util.open_floating_preview(vim.split(md, "\n"), "markdown", {})
local shown = table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false), "\n")
check("hover window", shown:find("× goroutines " .. ids, 1, true) ~= nil, shown:sub(1, 200))
finish()
