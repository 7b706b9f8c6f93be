-- Drives the Kodama Neovim plugin through Neovim's real UI paths (run by test_nvim.py):
--   nvim --headless --clean -u NONE -c "luafile tests/editors/nvim_driver.lua"
-- with KODAMA_NVIM_TEST pointing at a JSON file { plugin, cmd, file, results, settings }.
-- The steps run in a coroutine resumed by timers, so Neovim's main loop processes the keys fed
-- with nvim_feedkeys exactly as if typed. Every observation goes into the results JSON file.

local spec = vim.json.decode(table.concat(vim.fn.readfile(vim.env.KODAMA_NVIM_TEST), "\n"),
  { luanil = { object = true } })
local results = { steps = {}, errors = {} }
local started = vim.uv.hrtime()

local function elapsed()
  return math.floor((vim.uv.hrtime() - started) / 1e6)
end

local function write_results()
  results.elapsed_ms = elapsed()
  results.messages = vim.api.nvim_exec2("messages", { output = true }).output
  vim.fn.writefile({ vim.json.encode(results) }, spec.results)
end

local function finish(code)
  local ok, err = pcall(write_results)
  if not ok then
    pcall(vim.fn.writefile, { vim.json.encode({ errors = { "results: " .. tostring(err) },
      steps = results.steps }) }, spec.results)
    code = 3
  end
  vim.cmd((code == 0) and "qa!" or ("cquit " .. code))
end

local co
local function resume()
  local ok, err = coroutine.resume(co)
  if not ok then
    table.insert(results.errors, debug.traceback(co, tostring(err)))
    finish(1)
  end
end

--- Yield to the main loop for `ms` milliseconds.
local function sleep(ms)
  vim.defer_fn(resume, ms)
  coroutine.yield()
end

--- Poll `cond` every 50 ms until it returns a truthy value (returned) or `timeout` ms pass.
local function wait_for(what, timeout, cond)
  local deadline = elapsed() + timeout
  while true do
    local value = cond()
    if value then
      table.insert(results.steps, { what = what, at_ms = elapsed() })
      return value
    end
    if elapsed() > deadline then
      error("timed out waiting for " .. what)
    end
    sleep(50)
  end
end

local function feed(keys)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), "m", false)
end

local function lines(bufnr)
  return vim.api.nvim_buf_get_lines(bufnr or 0, 0, -1, false)
end

local function floats()
  local found = {}
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= "" then
      table.insert(found, win)
    end
  end
  return found
end

local function close_floats()
  for _, win in ipairs(floats()) do
    pcall(vim.api.nvim_win_close, win, true)
  end
end

--- Run `action`, wait for the float it opens (`what` names it in a timeout), return its lines
--- and close it.
local function float_lines(what, action)
  action()
  local win = wait_for(what, 90000, function()
    return floats()[1]
  end)
  local text = lines(vim.api.nvim_win_get_buf(win))
  close_floats()
  return text
end

local function ghost_text(bufnr)
  local ns = vim.api.nvim_get_namespaces()["nvim.lsp.inline_completion"]
  if not ns then
    return nil
  end
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })) do
    local details = mark[4] or {}
    local text = {}
    for _, chunk in ipairs(details.virt_text or {}) do
      table.insert(text, chunk[1])
    end
    if #text > 0 then
      return { row = mark[2], col = mark[3], text = table.concat(text),
               virt_lines = #(details.virt_lines or {}) }
    end
  end
  return nil
end

local function find_line(bufnr, pattern)
  for i, line in ipairs(lines(bufnr)) do
    if line:find(pattern, 1, true) then
      return i
    end
  end
  error("no line with " .. pattern)
end

--- The plugin as an older Neovim would run it: loaded with a `vim` in which what `simulate`
--- ("0.10" or "0.11") lacks is missing (vim.lsp.inline_completion on both; vim.lsp.config,
--- vim.lsp.enable and vim.lsp.completion on 0.10) and has("nvim-X") answers for that version.
local function load_plugin(simulate)
  if not simulate then
    return require("kodama")
  end
  local hidden = { inline_completion = true }
  if simulate == "0.10" then
    hidden.config, hidden.enable, hidden.completion = true, true, true
  end
  local lsp = setmetatable({}, { __index = function(_, key)
    if hidden[key] then
      return nil
    end
    return vim.lsp[key]
  end })
  local fn = setmetatable({ has = function(feature)
    local version = feature:match("^nvim%-(.+)$")
    if version and vim.version.cmp(version, simulate) > 0 then
      return 0
    end
    return vim.fn.has(feature)
  end }, { __index = vim.fn })
  local fake_vim = setmetatable({ lsp = lsp, fn = fn }, { __index = vim })
  local path = vim.api.nvim_get_runtime_file("lua/kodama/init.lua", false)[1]
  local chunk = assert(loadfile(path))
  setfenv(chunk, setmetatable({ vim = fake_vim }, { __index = _G }))
  package.loaded.kodama = chunk()
  return package.loaded.kodama
end

--- Neovim < 0.12: Kodama's suggestion in the completion menu, accepted with <C-y>.
local function completion_menu(kodama, bufnr)
  local row = find_line(bufnr, "    total =")
  vim.api.nvim_win_set_cursor(0, { row, 0 })
  results.line_before = lines(bufnr)[row]
  feed("A")
  wait_for("insert mode", 5000, function()
    return vim.api.nvim_get_mode().mode == "i"
  end)
  -- 0.11: typing a space (a trigger character) opens the menu; 0.10: the trigger key does.
  feed(spec.simulate == "0.11" and " " or (" " .. kodama.config.keymaps.trigger))
  local items = wait_for("completion menu", 60000, function()
    local info = vim.fn.complete_info({ "items", "pum_visible" })
    return #info.items > 0 and info.items
  end)
  results.menu_words = vim.tbl_map(function(item) return item.word end, items)
  results.menu_line = lines(bufnr)[row]
  feed("<C-y>")
  sleep(300)
  results.line_after = lines(bufnr)[row]
  feed("<Esc>")
  wait_for("normal mode", 5000, function()
    return vim.api.nvim_get_mode().mode == "n"
  end)
end

--- Record every completion request `client` sends and its answer in results.requests:
--- { method, state (the model's when asked), items (how many came back) }.
local function record_requests(kodama, client, bufnr)
  results.requests = {}
  local request = client.request
  client.request = function(self, method, params, handler, ...)
    if method ~= "textDocument/inlineCompletion" and method ~= "textDocument/completion" then
      return request(self, method, params, handler, ...)
    end
    local seen = { method = method, state = (kodama.state(bufnr) or {}).state or "starting" }
    table.insert(results.requests, seen)
    return request(self, method, params, function(err, result, ...)
      local items = type(result) == "table" and (result.items or result) or {}
      seen.items = #items
      return handler(err, result, ...)
    end, ...)
  end
end

--- Insert mode entered while the model loads (the gated server waits for spec.gate): what is
--- asked then is answered empty; once the server reports ready the plugin asks again at the
--- cursor by itself, and the suggestion shows with no keystroke (ghost text on 0.12, the
--- completion menu on 0.10 / 0.11).
local function suggestion_once_ready(kodama, client, bufnr)
  wait_for("model loading", 60000, function()
    return (kodama.state(bufnr) or {}).state == "loading"
  end)
  record_requests(kodama, client, bufnr)
  local menu = spec.simulate ~= nil
  local row = find_line(bufnr, menu and "    total =" or "    total = ")
  vim.api.nvim_win_set_cursor(0, { row, 0 })
  feed("A")
  wait_for("insert mode", 5000, function()
    return vim.api.nvim_get_mode().mode == "i"
  end)
  if menu then
    feed(spec.simulate == "0.11" and " " or (" " .. kodama.config.keymaps.trigger))
  end
  wait_for("a request answered while loading", 30000, function()
    local first = results.requests[1]
    return first and first.items ~= nil
  end)
  sleep(300)
  results.line_before = lines(bufnr)[row]
  results.shown_while_loading = ghost_text(bufnr) ~= nil
    or #vim.fn.complete_info({ "items" }).items > 0
  results.requests_while_loading = #results.requests
  results.mode_while_loading = vim.api.nvim_get_mode().mode
  -- From here on the driver types nothing: the suggestion must come by itself.
  vim.fn.writefile({}, spec.gate)
  wait_for("model ready", 120000, function()
    return (kodama.state(bufnr) or {}).state == "ready"
  end)
  if menu then
    local items = wait_for("the completion menu once ready", 30000, function()
      local info = vim.fn.complete_info({ "items", "pum_visible" })
      return #info.items > 0 and info.items
    end)
    results.menu_words = vim.tbl_map(function(item) return item.word end, items)
  else
    results.ghost = wait_for("ghost text once ready", 30000, function()
      local mark = ghost_text(bufnr)
      return mark and mark.text ~= "" and mark
    end)
  end
  results.mode_once_ready = vim.api.nvim_get_mode().mode
  results.line_once_ready = lines(bufnr)[row]
  feed("<Esc>")
end

local function main()
  vim.opt.runtimepath:prepend(spec.plugin)
  vim.o.swapfile = false
  vim.o.shadafile = "NONE"
  vim.cmd("filetype on")
  local kodama = load_plugin(spec.simulate)
  kodama.setup({ cmd = spec.cmd, settings = spec.settings })
  results.inline_supported = kodama.inline_supported()

  vim.cmd.edit(vim.fn.fnameescape(spec.file))
  local bufnr = vim.api.nvim_get_current_buf()
  results.filetype = vim.bo[bufnr].filetype
  local client = wait_for("client attached", 30000, function()
    return kodama.clients(bufnr)[1]
  end)
  results.root_dir = client.config.root_dir
  if spec.gate then
    suggestion_once_ready(kodama, client, bufnr)
    results.ok = true
    return
  end
  if spec.expect_error then
    -- A model that cannot load: the user is told (vim.notify), the statusline and
    -- :checkhealth kodama say so.
    wait_for("model error", 60000, function()
      local state = kodama.state(bufnr)
      return state and state.state == "error"
    end)
    sleep(100)
    results.status_line = kodama.status(bufnr)
    results.state_message = kodama.state(bufnr).message
    vim.cmd("checkhealth kodama")
    results.health_lines = lines(0)
    results.ok = true
    return
  end
  wait_for("model ready", 120000, function()
    local state = kodama.state(bufnr)
    if state and state.state == "error" then
      error("model failed: " .. tostring(state.message))
    end
    return state and state.state == "ready"
  end)
  results.status_line = kodama.status(bufnr)
  results.inline_enabled = vim.lsp.inline_completion.is_enabled({ bufnr = bufnr })
  if spec.simulate then
    completion_menu(kodama, bufnr)
    local area_row = find_line(bufnr, "def area(")
    vim.api.nvim_win_set_cursor(0, { area_row, 5 })
    results.explain_lines = float_lines("explain float", function()
      vim.cmd("KodamaExplain")
    end)
    vim.cmd("checkhealth kodama")
    results.health_lines = lines(0)
    results.ok = true
    return
  end

  -- 1. Ghost text while typing at the end of `    total = `, accepted with <Tab>.
  local row = find_line(bufnr, "    total = ")
  vim.api.nvim_win_set_cursor(0, { row, 0 })
  results.line_before = lines(bufnr)[row]
  feed("A")
  local ghost = wait_for("ghost text", 60000, function()
    local mark = ghost_text(bufnr)
    return mark and mark.text ~= "" and mark
  end)
  results.ghost = ghost
  results.mode_before_accept = vim.api.nvim_get_mode().mode
  feed("<Tab>")
  wait_for("suggestion accepted", 10000, function()
    return lines(bufnr)[row] ~= results.line_before
  end)
  sleep(100)
  results.line_after = lines(bufnr)[row]
  results.ghost_after_accept = ghost_text(bufnr)
  feed("<Esc>")
  wait_for("normal mode", 5000, function()
    return vim.api.nvim_get_mode().mode == "n"
  end)
  -- <Tab> without a suggestion is a normal <Tab>: typed right after opening a new line, before
  -- the first suggestion can be requested (keys queued together run before any timer).
  local blank_row = #lines(bufnr)
  vim.api.nvim_win_set_cursor(0, { blank_row, 0 })
  vim.bo[bufnr].expandtab, vim.bo[bufnr].softtabstop = false, 0
  vim.bo[bufnr].autoindent, vim.bo[bufnr].smartindent = false, false
  results.tab_options = { indentexpr = vim.bo[bufnr].indentexpr, smarttab = vim.o.smarttab }
  feed("o<Tab>")
  sleep(100)
  results.tab_fallthrough_line = lines(bufnr)[blank_row + 1]
  feed("<Esc>")
  wait_for("normal mode again", 5000, function()
    return vim.api.nvim_get_mode().mode == "n"
  end)
  vim.api.nvim_buf_set_lines(bufnr, blank_row, blank_row + 1, false, {})

  -- 2. Hover on the name of `area` (what K does): a float with Kodama's explanation.
  local area_row = find_line(bufnr, "def area(")
  vim.api.nvim_win_set_cursor(0, { area_row, 5 })
  close_floats()
  results.hover_lines = float_lines("hover float", vim.lsp.buf.hover)

  -- 3. :KodamaExplain shows the same explanation in a float.
  results.explain_lines = float_lines("explain float", function()
    vim.cmd("KodamaExplain")
  end)
  -- … and with a range, the selected lines (the body of `area`).
  local if_row = find_line(bufnr, "    if width < 0:")
  results.explain_range_lines = float_lines("range explain float", function()
    vim.cmd(("%d,%dKodamaExplain"):format(if_row, if_row + 1))
  end)

  -- 4. The code action menu (vim.ui.select) on the body of `area`; pick Generate docstring.
  local body_row = find_line(bufnr, "    if width < 0:")
  vim.api.nvim_win_set_cursor(0, { body_row, 4 })
  local before = lines(bufnr)
  local offered
  vim.ui.select = function(items, opts, on_choice)
    offered = {}
    local chosen
    for i, item in ipairs(items) do
      local title = opts.format_item and opts.format_item(item) or tostring(item)
      table.insert(offered, title)
      if title:find("Generate docstring", 1, true) then
        chosen = i
      end
    end
    on_choice(chosen and items[chosen] or nil, chosen)
  end
  vim.lsp.buf.code_action()
  wait_for("docstring applied", 90000, function()
    return #lines(bufnr) > #before
  end)
  sleep(200)
  results.code_actions = offered
  results.lines_before_docstring = before
  results.lines_after_docstring = lines(bufnr)

  -- 5. :KodamaDocstring on `scale`, :KodamaTests on `area` (the tiny model writes no test
  -- function: Kodama says so and changes nothing).
  local scale_row = find_line(bufnr, "def scale(")
  vim.api.nvim_win_set_cursor(0, { scale_row + 1, 4 })
  vim.cmd("KodamaDocstring")
  wait_for(":KodamaDocstring applied", 90000, function()
    return lines(bufnr)[scale_row + 1]:find('"""', 1, true)
  end)
  results.scale_lines = vim.list_slice(lines(bufnr), scale_row, scale_row + 2)
  vim.api.nvim_win_set_cursor(0, { find_line(bufnr, "    if width < 0:"), 4 })
  local text_before_tests = lines(bufnr)
  vim.cmd("KodamaTests")
  results.tests_message = wait_for(":KodamaTests answered", 90000, function()
    local messages = vim.api.nvim_exec2("messages", { output = true }).output
    return messages:match("[^\n]*wrote no pytest tests[^\n]*")
  end)
  results.tests_changed_buffer = not vim.deep_equal(text_before_tests, lines(bufnr))

  -- 6. Statusline, :KodamaStatus and :checkhealth kodama.
  results.status_line_end = kodama.status(bufnr)
  vim.cmd("KodamaStatus")
  vim.cmd("checkhealth kodama")
  results.health_lines = lines(0)

  -- 7. :KodamaFineTune --dry-run: `kodama fine-tune` on the repository, in a terminal split.
  vim.cmd.buffer(bufnr)
  vim.cmd("KodamaFineTune --dry-run")
  local term = vim.api.nvim_get_current_buf()
  results.fine_tune_cmd = vim.b[term].kodama_fine_tune
  results.fine_tune_buftype = vim.bo[term].buftype
  wait_for("fine-tune dry run", 120000, function()
    return table.concat(lines(term), "\n"):find("estimated time", 1, true)
  end)
  results.fine_tune_lines = lines(term)
  vim.cmd("close")

  -- 8. :KodamaRestart: a new server for the same buffer, ready again.
  vim.cmd.buffer(bufnr)
  local old_id = client.id
  vim.cmd("KodamaRestart")
  local new_client = wait_for("restarted client", 60000, function()
    local now = kodama.clients(bufnr)[1]
    return now and now.id ~= old_id and now
  end)
  wait_for("ready after restart", 120000, function()
    local state = kodama.state(bufnr)
    return state and state.state == "ready"
  end)
  results.restart = { old_id = old_id, new_id = new_client.id,
                      old_stopped = vim.lsp.get_client_by_id(old_id) == nil,
                      root_dir = new_client.config.root_dir,
                      inline_enabled = vim.lsp.inline_completion.is_enabled({ bufnr = bufnr }) }
  results.ok = true
end

co = coroutine.create(main)
-- A generous hang guard: report what happened so far instead of hanging the test.
vim.defer_fn(function()
  table.insert(results.errors, "driver timed out")
  finish(2)
end, (spec.timeout_s or 240) * 1000)
vim.schedule(function()
  resume()
  if coroutine.status(co) == "dead" then
    finish(results.ok and 0 or 1)
  end
end)
-- The coroutine finishes inside a timer callback: check for that after each resume.
local check = vim.uv.new_timer()
check:start(100, 100, vim.schedule_wrap(function()
  if coroutine.status(co) == "dead" then
    check:stop()
    finish(results.ok and 0 or 1)
  end
end))
