-- What run.lua and dump.lua share (loaded with dofile): check() prints one
-- "ok"/"FAIL" line per check, finish() prints "nvim: N passed, N failed" and
-- exits (non-zero when a check failed), start() opens a file and starts
-- `goblock lsp` on it with vim.lsp.start. No checks of its own beyond
-- "client started".
local M = { passed = 0, failed = 0 }

function M.check(name, ok, detail)
  if ok then M.passed = M.passed + 1 else M.failed = M.failed + 1 end
  io.stdout:write((ok and "ok   " or "FAIL ") .. name .. (detail and (" " .. detail) or "") .. "\n")
end

function M.finish()
  io.stdout:write(string.format("nvim: %d passed, %d failed\n", M.passed, M.failed))
  os.exit(M.failed == 0 and 0 or 1)
end

--- Opens `file` and starts `<server> lsp` for it with root `ws` and the given
--- initializationOptions; returns the buffer and the client id (finishes the
--- run when the client did not start).
function M.start(server, ws, file, init_options)
  vim.cmd.edit(file)
  local buf = vim.api.nvim_get_current_buf()
  local id = vim.lsp.start({
    name = "goblock",
    cmd = { server, "lsp" },
    root_dir = ws,
    init_options = init_options,
  }, { bufnr = buf })
  M.check("client started", id ~= nil)
  if not id then M.finish() end
  return buf, id
end

return M
