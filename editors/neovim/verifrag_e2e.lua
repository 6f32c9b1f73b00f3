-- Drives the VeriFrag server through Neovim's own LSP client (works from Neovim 0.7 on) and writes
-- what it saw as JSON. Used by tests/test_neovim.py, which runs it as
--   VERIFRAG_CMD='["python","-m","verifrag.server"]' VERIFRAG_FILE=top.v VERIFRAG_OUT=out.json \
--     nvim --headless -u NONE -c "luafile editors/neovim/verifrag_e2e.lua"
local cmd = vim.fn.json_decode(os.getenv("VERIFRAG_CMD"))
local options = vim.fn.json_decode(os.getenv("VERIFRAG_OPTIONS") or "{}")
local out = os.getenv("VERIFRAG_OUT")
local file = os.getenv("VERIFRAG_FILE")

local client_id = vim.lsp.start_client({
  name = "verifrag",
  cmd = cmd,
  root_dir = vim.fn.fnamemodify(file, ":h"),
  init_options = options,
})
vim.cmd("edit " .. file)
vim.lsp.buf_attach_client(0, client_id)

local report = { diagnostics = {}, items = {} }
vim.wait(120000, function() return #vim.diagnostic.get(0) > 0 end, 50)
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(report.diagnostics, { line = d.lnum, col = d.col, message = d.message })
end

-- Complete at the end of line 4 (`  assign y = c`), 1-based row for the cursor API.
vim.api.nvim_win_set_cursor(0, { 4, 14 })
local params = vim.lsp.util.make_position_params()
local responses = vim.lsp.buf_request_sync(0, "textDocument/completion", params, 120000) or {}
for _, response in pairs(responses) do
  local result = response.result or {}
  for _, item in ipairs(result.items or result) do
    table.insert(report.items, item.label)
  end
end

local handle = io.open(out, "w")
handle:write(vim.fn.json_encode(report))
handle:close()
vim.lsp.stop_client(client_id)
vim.cmd("qa!")
