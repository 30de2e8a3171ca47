-- Plain headless-Neovim check of `goblock lsp` (no plugin): starts the server
-- with vim.lsp.start on a fixture workspace, waits for diagnostics, then reads
-- vim.diagnostic.get(), inlay hints and the hover at one line.
--   nvim --headless --clean -l run.lua <goblock> <workspace> <file.go> <line> <code>
-- <line> (1-based) must carry a diagnostic with code <code>.
-- Prints one "key=value" line per check and "nvim: N passed, N failed".
local server, ws, file, line, code = _G.arg[1], _G.arg[2], _G.arg[3], tonumber(_G.arg[4]), _G.arg[5]
local h = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "harness.lua"))
local check, finish = h.check, h.finish

local buf, id = h.start(server, ws, file, { goblock = { debounceMs = 100 } })
check("initialized", vim.wait(20000, function()
  local c = vim.lsp.get_client_by_id(id)
  return c and c.initialized
end, 20))
local client = vim.lsp.get_client_by_id(id)
check("inlay hint capability", client.server_capabilities.inlayHintProvider ~= nil)

-- Diagnostics arrive once the trace is loaded.
check("diagnostics", vim.wait(60000, function() return #vim.diagnostic.get(buf) > 0 end, 50))
local found
for _, d in ipairs(vim.diagnostic.get(buf)) do
  check("diagnostic source", d.source == "goblock", vim.inspect(d.source))
  if d.lnum == line - 1 then found = d end
end
check("diagnostic at line " .. line, found ~= nil)
if found then
  check("diagnostic code", found.code == code, vim.inspect(found.code))
  check("diagnostic message", found.message:find("blocks? · ") ~= nil, found.message)
end

-- Inlay hints: the raw request, then the built-in module.
local resp = client:request_sync("textDocument/inlayHint", {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  range = { start = { line = 0, character = 0 }, ["end"] = { line = vim.api.nvim_buf_line_count(buf), character = 0 } },
}, 10000, buf)
local hints = resp and resp.result or {}
local at_line
for _, h in ipairs(hints) do
  if h.position.line == line - 1 then at_line = h end
end
check("inlay hints", #hints > 0, tostring(#hints))
check("inlay hint at line " .. line, at_line ~= nil)
if at_line then
  local label = type(at_line.label) == "string" and at_line.label or table.concat(vim.tbl_map(function(p) return p.value end, at_line.label))
  check("inlay hint label", label:find("⏸") ~= nil, label)
  local len = #vim.api.nvim_buf_get_lines(buf, line - 1, line, false)[1]
  check("inlay hint at end of line", at_line.position.character == len, at_line.position.character .. " vs " .. len)
end
vim.lsp.inlay_hint.enable(true, { bufnr = buf })
check("inlay_hint.get", vim.wait(10000, function() return #vim.lsp.inlay_hint.get({ bufnr = buf }) > 0 end, 50))

-- Hover.
local hov = vim.lsp.buf_request_sync(buf, "textDocument/hover", {
  textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = line - 1, character = 1 },
}, 10000)
local r = hov and hov[id] and hov[id].result
local md = r and r.contents and r.contents.value or ""
-- Neovim does not draw Markdown tables: the goroutine table comes as aligned text.
check("hover", md:find("goblock") ~= nil and md:find("\ngoroutine +blocked") ~= nil
  and md:find("| goroutine |", 1, true) == nil, md:sub(1, 80))

-- Edit: two lines inserted at the top; the diagnostic follows.
vim.api.nvim_buf_set_lines(buf, 0, 0, false, { "// one", "// two" })
check("diagnostic moved with the edit", vim.wait(10000, function()
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.lnum == line + 1 and d.code == code then return true end
  end
  return false
end, 50))

client:stop()
vim.wait(5000, function() return client:is_stopped() end, 20)
check("stopped", client:is_stopped())
finish()
