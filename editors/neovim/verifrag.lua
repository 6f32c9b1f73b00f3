-- VeriFrag in Neovim: put this file on your runtimepath (e.g. ~/.config/nvim/lua/verifrag.lua) and call
-- require("verifrag").setup() from init.lua. See docs/neovim.md for what each part does.
local M = {}

M.settings = {
  -- every key of docs/server-protocol.md may go here; these are examples
  maxNewTokens = 48,
  contextTokens = 1024,
  includeDirs = {},
  features = { inlineCompletion = true, completion = true },
}

function M.setup(opts)
  opts = opts or {}
  local cmd = opts.cmd or { "verifrag", "serve" }
  local settings = vim.tbl_deep_extend("force", M.settings, opts.settings or {})
  vim.api.nvim_create_autocmd("FileType", {
    pattern = { "verilog", "systemverilog" },
    callback = function(args)
      local root = vim.fs and vim.fs.dirname(vim.fs.find({ ".git" }, { upward = true, path = args.file })[1] or args.file)
        or vim.fn.getcwd()
      local config = {
        name = "verifrag",
        cmd = cmd,
        root_dir = root,
        init_options = settings,
        settings = { verifrag = settings },
        handlers = {
          ["verifrag/status"] = function(_, result)
            vim.notify("VeriFrag: " .. result.state .. (result.message ~= "" and (" - " .. result.message) or ""))
          end,
          ["verifrag/completionStats"] = function() end,
        },
      }
      if vim.lsp.start then -- Neovim 0.8+: reuses one client per root
        vim.lsp.start(config)
      else -- Neovim 0.7
        M.client_id = M.client_id or vim.lsp.start_client(config)
        vim.lsp.buf_attach_client(args.buf, M.client_id)
      end
      vim.bo[args.buf].omnifunc = "v:lua.vim.lsp.omnifunc"
    end,
  })
  vim.api.nvim_create_user_command("VeriFragGenerateModule", function()
    local line = vim.api.nvim_win_get_cursor(0)[1] - 1
    vim.lsp.buf.execute_command({
      command = "verifrag.generateModule",
      arguments = { { uri = vim.uri_from_bufnr(0), line = line } },
    })
  end, {})
end

return M
