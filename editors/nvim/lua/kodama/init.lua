--- Kodama for Neovim: a local AI pair programmer over LSP.
---
--- `require("kodama").setup({...})` registers the `kodama serve` language server, turns on
--- inline ghost text (Neovim 0.12+) with an accept key, and adds the :Kodama* commands.
--- Neovim 0.10 and 0.11 get Kodama's suggestion as the first item of the completion menu.
local M = {}

local uv = vim.uv or vim.loop

M.name = "kodama"

--- Defaults; every key can be overridden in setup().
M.defaults = {
  --- The full server command ({ "kodama", "serve", ... }). When nil it is built from
  --- `python` (a Python with Kodama installed: `python -m kodama.server serve`) or else from
  --- `executable` (default: `kodama` on PATH).
  cmd = nil,
  executable = "kodama",
  python = nil,
  --- Buffers of these filetypes start/attach the server.
  filetypes = {
    "python", "javascript", "javascriptreact", "typescript", "typescriptreact",
    "go", "rust", "java", "c", "cpp",
  },
  --- The workspace root is the nearest folder holding one of these (else the file's folder).
  root_markers = {
    ".git", "pyproject.toml", "setup.py", "package.json", "go.mod", "Cargo.toml",
    "pom.xml", "build.gradle",
  },
  --- Shortcuts for settings.model.name / settings.model.adapter.
  model = nil,
  adapter = nil,
  --- Server settings sent as initializationOptions: the same keys as `kodama serve --help`
  --- lists (camelCase or snake_case), e.g. { completion = { debounceMs = 120 } }.
  settings = {},
  --- Insert-mode keys (false disables one). `accept` falls through to its normal meaning when
  --- no suggestion is shown.
  keymaps = {
    accept = "<Tab>",
    next = "<M-]>",
    prev = "<M-[>",
    --- Neovim < 0.12: open the completion menu with Kodama's suggestion (it also opens by
    --- itself after a space, "." or "(" on 0.11).
    trigger = "<C-Space>",
    --- Normal-mode keys for the commands (off unless set, e.g. "<leader>ke").
    explain = false,
    docstring = false,
    tests = false,
  },
  --- Turn on ghost text (vim.lsp.inline_completion) on Neovim 0.12+.
  inline = true,
  --- Fall back to the completion menu (vim.lsp.completion, autotrigger) on Neovim < 0.12.
  completion_menu = true,
  --- Show state changes of the model with vim.notify (errors always are).
  notify = true,
}

M.config = vim.deepcopy(M.defaults)

--- Per client id: the last `kodama/status` params ({ state, message, model }).
M._status = {}
--- Per client id: the last progress message of a running task (explaining…, documenting…).
M._progress = {}
--- Per client id: the token of the progress shown now, and of the model loading's once settled.
M._progress_token = {}
M._settled_token = {}
M._setup_done = false

local function has(version)
  return vim.fn.has("nvim-" .. version) == 1
end

--- Whether this Neovim shows LSP inline completions (ghost text).
function M.inline_supported()
  local inline = vim.lsp.inline_completion
  return type(inline) == "table" and type(inline.enable) == "function"
end

--- The command that runs Kodama's CLI with `args` (e.g. { "--version" } or
--- { "fine-tune", root }): the configured cmd up to its `serve`, or python/executable.
function M.cli(args)
  local cfg = M.config
  local base
  if cfg.cmd then
    base = {}
    for _, part in ipairs(cfg.cmd) do
      if part == "serve" then
        break
      end
      table.insert(base, part)
    end
  elseif cfg.python then
    base = { vim.fn.expand(cfg.python), "-m", "kodama.server" }
  else
    base = { vim.fn.expand(cfg.executable or "kodama") }
  end
  return vim.list_extend(vim.deepcopy(base), args or {})
end

--- The server command.
function M.server_cmd()
  if M.config.cmd then
    return vim.deepcopy(M.config.cmd)
  end
  return M.cli({ "serve" })
end

--- The initializationOptions: settings, with model/adapter folded in.
function M.init_options()
  local options = vim.deepcopy(M.config.settings or {})
  if M.config.model or M.config.adapter then
    options.model = options.model or {}
    options.model.name = M.config.model or options.model.name
    options.model.adapter = M.config.adapter or options.model.adapter
  end
  return options
end

--- Kodama clients (all, or those attached to `bufnr`).
function M.clients(bufnr)
  local get = vim.lsp.get_clients or vim.lsp.get_active_clients
  return get({ name = M.name, bufnr = bufnr })
end

local function client_request(client, method, params, handler, bufnr)
  if has("0.11") then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

local function notify(msg, level)
  vim.notify(msg, level or vim.log.levels.INFO, { title = "Kodama" })
end

local function emit_user_event()
  pcall(vim.api.nvim_exec_autocmds, "User", { pattern = "KodamaStatus", modeline = false })
  pcall(vim.cmd, "redrawstatus")
end

--- Per client id: the model error shown to the user (the server reports a model error both as
--- `kodama/status` and as window/showMessage: show it once).
M._error_shown = {}

--- window/showMessage, less the repeat of a model error already shown.
local function on_show_message(err, result, ctx, config)
  local status = M._status[ctx.client_id]
  if type(result) == "table" and status and status.state == "error"
      and result.message == M._error_shown[ctx.client_id] then
    return vim.NIL
  end
  if type(result) == "table" and result.type == 1 then
    M._error_shown[ctx.client_id] = result.message
  end
  return vim.lsp.handlers["window/showMessage"](err, result, ctx, config)
end

--- Neovim < 0.12: open the completion menu with Kodama's suggestion (vim.lsp.completion.get()
--- on 0.11); returns the keys that do it where that API is missing (0.10: the omnifunc).
local function open_menu()
  if type(vim.lsp.completion) == "table" and vim.lsp.completion.get then
    vim.lsp.completion.get()
    return ""
  end
  return "<C-x><C-o>"
end

--- The model just became ready: ask again at the cursor of the current buffer when it is in
--- insert mode and served by this client (what was asked while loading got an empty answer).
--- 0.12+: the inline completion's own refresh (its CursorMovedI autocommand for the buffer);
--- 0.10/0.11: the completion-menu fallback.
local function reask_at_cursor(client_id)
  local bufnr = vim.api.nvim_get_current_buf()
  local insert = vim.api.nvim_get_mode().mode:sub(1, 1) == "i"  -- "ic", "ix": a menu is open
  if not insert or not vim.lsp.buf_is_attached(bufnr, client_id) then
    return
  end
  if M.inline_supported() then
    if M.config.inline and vim.lsp.inline_completion.is_enabled({ bufnr = bufnr }) then
      local ok, own = pcall(vim.api.nvim_get_autocmds,
        { group = "nvim.lsp.inline_completion:" .. bufnr, event = "CursorMovedI" })
      vim.api.nvim_exec_autocmds("CursorMovedI", {
        group = (ok and #own > 0) and ("nvim.lsp.inline_completion:" .. bufnr) or nil,
        buffer = bufnr,
        modeline = false,
      })
    end
  elseif M.config.completion_menu and vim.fn.pumvisible() == 0 then
    local keys = open_menu()
    if keys ~= "" then
      vim.api.nvim_feedkeys(vim.keycode(keys), "n", false)
    end
  end
end

--- Handler of the `kodama/status` notification.
local function on_status(_, params, ctx)
  if type(params) ~= "table" then
    return
  end
  local previous = M._status[ctx.client_id]
  M._status[ctx.client_id] = params
  if params.state ~= "loading" then
    -- The model is settled: the loading progress is over, even if its `end` comes later.
    M._settled_token[ctx.client_id] = M._progress_token[ctx.client_id]
    M._progress[ctx.client_id] = nil
  end
  if params.state == "error" then
    local message = "Kodama: " .. (params.message or "the model could not be loaded")
    if M._error_shown[ctx.client_id] ~= message then
      M._error_shown[ctx.client_id] = message
      notify(message, vim.log.levels.ERROR)
    end
  elseif params.state == "ready" and not (previous and previous.state == "ready") then
    if M.config.notify and previous then
      notify("Kodama: model ready (" .. (params.model or "?") .. ")")
    end
    vim.schedule(function() reask_at_cursor(ctx.client_id) end)
  end
  emit_user_event()
end

--- A one-line state for a statusline: "Kodama: ready", "Kodama: loading…", "Kodama: error",
--- "Kodama: documenting area 40%", or "" when no Kodama client runs for the buffer.
function M.status(bufnr)
  local clients = M.clients(bufnr or vim.api.nvim_get_current_buf())
  local client = clients[1]
  if not client then
    return ""
  end
  local progress = M._progress[client.id]
  if progress then
    return "Kodama: " .. progress
  end
  local status = M._status[client.id]
  if not status then
    return "Kodama: starting…"
  end
  if status.state == "loading" then
    return "Kodama: loading…"
  end
  return "Kodama: " .. status.state
end

--- The state table of the first Kodama client ({ state, message, model }), or nil.
function M.state(bufnr)
  local client = M.clients(bufnr)[1]
  return client and M._status[client.id] or nil
end

local function root_dir_for(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" then
    return uv.cwd()
  end
  local root = vim.fs.root and vim.fs.root(bufnr, M.config.root_markers)
  return root or vim.fs.dirname(name)
end

local function position_params(bufnr, client)
  local win = vim.fn.bufwinid(bufnr)
  return vim.lsp.util.make_position_params(win ~= -1 and win or 0, client.offset_encoding)
end

local function utf_len(text, encoding)
  if has("0.11") then
    return vim.str_utfindex(text, encoding)
  end
  if encoding == "utf-8" then
    return #text
  end
  local utf32, utf16 = vim.str_utfindex(text)
  return encoding == "utf-16" and utf16 or utf32
end

--- The `{uri, line, character}` argument of Kodama's commands for the cursor (or the
--- lines line1..line2 of a range: then with "end").
function M.command_argument(bufnr, client, line1, line2)
  if line1 and line2 then
    local last = vim.api.nvim_buf_get_lines(bufnr, line2 - 1, line2, false)[1] or ""
    return {
      uri = vim.uri_from_bufnr(bufnr),
      line = line1 - 1,
      character = 0,
      ["end"] = { line = line2 - 1, character = utf_len(last, client.offset_encoding) },
    }
  end
  local params = position_params(bufnr, client)
  return {
    uri = params.textDocument.uri,
    line = params.position.line,
    character = params.position.character,
  }
end

--- Show markdown in a float next to the cursor; returns the float's window and buffer.
function M.show_markdown(markdown, title)
  local lines = vim.split(markdown, "\n", { plain = true })
  local buf, win = vim.lsp.util.open_floating_preview(lines, "markdown", {
    border = "rounded",
    focus_id = "kodama_explain",
    title = title,
    max_width = math.max(40, math.floor(vim.o.columns * 0.7)),
  })
  return win, buf
end

--- Run one of Kodama's commands (`kodama.explain`, …) for the cursor (or a line range) of the
--- current buffer; `on_result(result, client)` gets the server's answer.
function M.execute(command, opts, on_result)
  opts = opts or {}
  local bufnr = vim.api.nvim_get_current_buf()
  local client = M.clients(bufnr)[1]
  if not client then
    notify("Kodama is not attached to this buffer. Run :checkhealth kodama",
      vim.log.levels.WARN)
    return false
  end
  local argument = M.command_argument(bufnr, client, opts.line1, opts.line2)
  client_request(client, "workspace/executeCommand", {
    command = command,
    arguments = { argument },
  }, function(err, result)
    if err then
      notify("Kodama: " .. command .. " failed: " .. (err.message or vim.inspect(err)),
        vim.log.levels.ERROR)
      return
    end
    if on_result then
      on_result(result, client)
    end
  end, bufnr)
  return true
end

--- :KodamaExplain: the explanation of the function/class at the cursor (or the selected
--- lines) in a float.
function M.explain(opts)
  opts = opts or {}
  notify("Kodama: writing an explanation…")
  return M.execute("kodama.explain", opts, function(result)
    if type(result) == "table" and type(result.markdown) == "string" then
      M.last_explanation = result.markdown
      M.show_markdown(result.markdown, " Kodama ")
    end
  end)
end

--- :KodamaDocstring: write a docstring for the definition at the cursor (applied as an edit).
function M.docstring()
  notify("Kodama: writing a docstring…")
  return M.execute("kodama.generateDocstring", {}, function(result)
    if result == true then
      notify("Kodama: docstring added")
    end
  end)
end

--- :KodamaTests: write tests for the definition at the cursor into the repository's tests.
function M.tests()
  notify("Kodama: writing tests…")
  return M.execute("kodama.generateTests", {}, function(result)
    if type(result) == "string" then
      notify("Kodama: tests written to " .. vim.uri_to_fname(result))
    end
  end)
end

--- Options of the server command that `kodama fine-tune` takes too (the same model).
local SHARED_OPTIONS = {
  ["--model"] = true, ["--dtype"] = true, ["--threads"] = true, ["--quantization"] = true,
  ["--adapter"] = true, ["--log-level"] = true,
}

--- `kodama fine-tune` for the same model as the server: the options of the server command
--- that fine-tune shares, then the model/adapter settings (which override them, as they do
--- for the server).
function M.fine_tune_cmd(args)
  local cmd = M.cli({ "fine-tune" })
  local server = M.config.cmd or {}
  local after_serve = false
  local i = 1
  while i <= #server do
    local part = server[i]
    if part == "serve" then
      after_serve = true
    elseif after_serve then
      local name, value = part:match("^(%-%-[%w-]+)=(.*)$")
      if name and SHARED_OPTIONS[name] then
        vim.list_extend(cmd, { name, value })
      elseif SHARED_OPTIONS[part] and server[i + 1] then
        vim.list_extend(cmd, { part, server[i + 1] })
        i = i + 1
      end
    end
    i = i + 1
  end
  local model = (M.init_options().model or {})
  if model.name then
    vim.list_extend(cmd, { "--model", model.name })
  end
  if model.adapter then
    vim.list_extend(cmd, { "--adapter", model.adapter })
  end
  return vim.list_extend(cmd, args)
end

--- :KodamaFineTune [options] [path]: `kodama fine-tune` on the repository (default: the
--- server's workspace root) in a terminal split; options such as --dry-run or --resume are
--- passed on. Returns the terminal's buffer.
function M.fine_tune(args)
  args = vim.deepcopy(args or {})
  local has_path = false
  for index, arg in ipairs(args) do
    if not arg:match("^%-") and not SHARED_OPTIONS[args[index - 1] or ""] then
      has_path = true
      args[index] = vim.fn.fnamemodify(vim.fn.expand(arg), ":p")
    end
  end
  if not has_path then
    local client = M.clients(vim.api.nvim_get_current_buf())[1]
    table.insert(args,
      client and client.config.root_dir or root_dir_for(vim.api.nvim_get_current_buf()))
  end
  local cmd = M.fine_tune_cmd(args)
  vim.cmd("botright 15split")
  vim.cmd("enew")
  local bufnr = vim.api.nvim_get_current_buf()
  if has("0.11") then
    vim.fn.jobstart(cmd, { term = true })
  else
    vim.fn.termopen(cmd)
  end
  vim.b[bufnr].kodama_fine_tune = cmd
  return bufnr
end

--- Accept the ghost text shown (0.12+); false when there is none.
function M.accept()
  if M.inline_supported() then
    return vim.lsp.inline_completion.get()
  end
  return false
end

local function set_keymaps(bufnr)
  local keys = M.config.keymaps or {}
  local function map(mode, lhs, rhs, desc, expr)
    if lhs and lhs ~= "" then
      vim.keymap.set(mode, lhs, rhs, { buffer = bufnr, desc = desc, expr = expr, silent = true })
    end
  end
  if M.inline_supported() and M.config.inline then
    local accept = keys.accept
    map("i", accept, function()
      if vim.lsp.inline_completion.get() then
        return ""
      end
      return accept
    end, "Kodama: accept the suggestion", true)
    map("i", keys.next, function()
      vim.lsp.inline_completion.select({ count = 1 })
    end, "Kodama: next suggestion")
    map("i", keys.prev, function()
      vim.lsp.inline_completion.select({ count = -1 })
    end, "Kodama: previous suggestion")
  end
  if not (M.inline_supported() and M.config.inline) and M.config.completion_menu then
    map("i", keys.trigger, open_menu, "Kodama: show the suggestion in the completion menu", true)
  end
  map("n", keys.explain, M.explain, "Kodama: explain")
  map("n", keys.docstring, M.docstring, "Kodama: generate docstring")
  map("n", keys.tests, M.tests, "Kodama: generate tests")
end

local function on_attach(client, bufnr)
  if M.inline_supported() then
    if M.config.inline then
      vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
    end
  elseif M.config.completion_menu and type(vim.lsp.completion) == "table"
      and vim.lsp.completion.enable then
    vim.lsp.completion.enable(true, client.id, bufnr, { autotrigger = true })
  end
  set_keymaps(bufnr)
  if M.config.on_attach then
    M.config.on_attach(client, bufnr)
  end
  emit_user_event()
end

--- The client configuration (vim.lsp.config / vim.lsp.start shape).
function M.client_config()
  return {
    name = M.name,
    cmd = M.server_cmd(),
    filetypes = M.config.filetypes,
    root_markers = M.config.root_markers,
    init_options = M.init_options(),
    handlers = { ["kodama/status"] = on_status, ["window/showMessage"] = on_show_message },
    on_attach = on_attach,
    on_exit = function(_, _, client_id)
      M._status[client_id] = nil
      M._progress[client_id] = nil
      M._error_shown[client_id] = nil
      vim.schedule(emit_user_event)
    end,
  }
end

--- Start (or reuse) a Kodama client for `bufnr`.
function M.start(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local config = M.client_config()
  config.root_dir = root_dir_for(bufnr)
  config.root_markers = nil
  config.filetypes = nil
  return vim.lsp.start(config, { bufnr = bufnr })
end

--- :KodamaRestart: stop the server(s) and start again for the buffers they served.
function M.restart()
  local clients = M.clients()
  local buffers = {}
  for _, client in ipairs(clients) do
    for bufnr in pairs(client.attached_buffers or {}) do
      buffers[bufnr] = true
    end
    if has("0.11") then
      client:stop()
    else
      client.stop()
    end
  end
  if vim.tbl_isempty(buffers) then
    local bufnr = vim.api.nvim_get_current_buf()
    if vim.tbl_contains(M.config.filetypes, vim.bo[bufnr].filetype) then
      buffers[bufnr] = true
    end
  end
  local waited = 0
  local function again()
    local running = vim.tbl_filter(function(c)
      return not (has("0.11") and c:is_stopped() or (not has("0.11") and c.is_stopped()))
    end, clients)
    if #running > 0 and waited < 5000 then
      if waited >= 3000 then
        for _, c in ipairs(running) do
          if has("0.11") then c:stop(true) else c.stop(true) end
        end
      end
      waited = waited + 100
      vim.defer_fn(again, 100)
      return
    end
    for bufnr in pairs(buffers) do
      if vim.api.nvim_buf_is_valid(bufnr) then
        M.start(bufnr)
      end
    end
    notify("Kodama: restarted")
  end
  again()
end

--- :KodamaStatus: the state of the server(s) in a message.
function M.show_status()
  local clients = M.clients()
  if #clients == 0 then
    notify("Kodama: no server running (open a " .. table.concat(M.config.filetypes, "/")
      .. " file, or run :checkhealth kodama)", vim.log.levels.WARN)
    return
  end
  local lines = {}
  for _, client in ipairs(clients) do
    local status = M._status[client.id] or { state = "starting", message = "" }
    local buffers = vim.tbl_count(client.attached_buffers or {})
    table.insert(lines, ("Kodama [%d] %s%s — model %s, root %s, %d buffer(s)%s"):format(
      client.id, status.state, status.message ~= "" and (": " .. status.message) or "",
      status.model or "?", client.config.root_dir or "(none)", buffers,
      M._progress[client.id] and (", " .. M._progress[client.id]) or ""))
  end
  local level = vim.log.levels.INFO
  for _, client in ipairs(clients) do
    if (M._status[client.id] or {}).state == "error" then
      level = vim.log.levels.ERROR
    end
  end
  notify(table.concat(lines, "\n"), level)
end

local function on_progress(args)
  local data = args.data or {}
  local client = data.client_id and vim.lsp.get_client_by_id(data.client_id)
  if not client or client.name ~= M.name then
    return
  end
  local value = (data.params or {}).value or {}
  local token = (data.params or {}).token
  if token ~= nil and token == M._settled_token[client.id] then
    return -- the model loading's progress, reported after the model was already ready
  end
  if value.kind == "end" then
    M._progress[client.id] = nil
  elseif value.kind == "begin" or value.kind == "report" then
    M._progress_token[client.id] = token
    local text = value.message or value.title or "working"
    if value.percentage then
      text = text .. (" %d%%"):format(value.percentage)
    end
    M._progress[client.id] = text
  end
  emit_user_event()
end

local function create_commands()
  local command = vim.api.nvim_create_user_command
  command("KodamaExplain", function(opts)
    M.explain(opts.range > 0 and { line1 = opts.line1, line2 = opts.line2 } or {})
  end, { range = true, desc = "Kodama: explain the definition at the cursor (or the lines)" })
  command("KodamaDocstring", function() M.docstring() end,
    { desc = "Kodama: generate a docstring for the definition at the cursor" })
  command("KodamaTests", function() M.tests() end,
    { desc = "Kodama: generate tests for the definition at the cursor" })
  command("KodamaFineTune", function(opts) M.fine_tune(opts.fargs) end,
    { nargs = "*", complete = "dir", desc = "Kodama: fine-tune the model on this repository" })
  command("KodamaRestart", function() M.restart() end, { desc = "Kodama: restart the server" })
  command("KodamaStatus", function() M.show_status() end, { desc = "Kodama: server state" })
end

--- Register the server, the keymaps and the commands. Calling it again re-applies `opts`.
function M.setup(opts)
  M.config = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  if opts and opts.cmd then
    M.config.cmd = opts.cmd  -- a list: replace, never merge element by element
  end
  if opts and opts.filetypes then
    M.config.filetypes = opts.filetypes
  end
  if opts and opts.root_markers then
    M.config.root_markers = opts.root_markers
  end
  create_commands()
  local group = vim.api.nvim_create_augroup("kodama", { clear = true })
  if vim.fn.exists("##LspProgress") == 1 then
    vim.api.nvim_create_autocmd("LspProgress", { group = group, callback = on_progress })
  end
  if vim.lsp.config and vim.lsp.enable then
    vim.lsp.config(M.name, M.client_config())
    vim.lsp.enable(M.name)
  else
    vim.api.nvim_create_autocmd("FileType", {
      group = group,
      pattern = M.config.filetypes,
      callback = function(args)
        M.start(args.buf)
      end,
    })
    -- Buffers already open when setup() runs (e.g. lazy-loaded plugins).
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(bufnr)
          and vim.tbl_contains(M.config.filetypes, vim.bo[bufnr].filetype) then
        M.start(bufnr)
      end
    end
  end
  M._setup_done = true
end

return M
