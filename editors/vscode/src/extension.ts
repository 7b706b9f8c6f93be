// Kodama for VS Code: starts `kodama serve` and connects it with vscode-languageclient 11
// (inline completions as ghost text, hover explanations, code actions), plus the palette
// commands, the status bar item and the fine-tune task.

import * as readline from "readline";
import * as vscode from "vscode";
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ProgressToken,
  ServerOptions,
  State,
  TransportKind,
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
} from "vscode-languageclient/node";
import {
  findServer,
  initializationOptions,
  INSTALL_COMMAND,
  languages,
  ServerCommand,
  ServerNotFound,
} from "./server";
import { StatusBar, StatusParams } from "./status";

const STATUS_NOTIFICATION = "kodama/status";
const EXPLAIN = "kodama.explain";
const DOCSTRING = "kodama.generateDocstring";
const TESTS = "kodama.generateTests";

let output: vscode.LogOutputChannel;
let status: StatusBar;
let client: LanguageClient | undefined;
let server: ServerCommand | undefined;
let stopping = false;
let lifecycle: Promise<void> = Promise.resolve();
let explanationPanel: vscode.WebviewPanel | undefined;

function log(message: string): void {
  output.info(`[client] ${message}`);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("Kodama", { log: true });
  status = new StatusBar();
  context.subscriptions.push(output, status);

  const register = (id: string, run: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, run));
  register("kodama.explainAtCursor", () => runAtCursor(EXPLAIN));
  register("kodama.docstringAtCursor", () => runAtCursor(DOCSTRING));
  register("kodama.testsAtCursor", () => runAtCursor(TESTS));
  register("kodama.fineTune", (folder?: unknown) => fineTune(folder));
  register("kodama.restartServer", () => restart("restart requested"));
  register("kodama.showOutput", () => output.show(true));
  register("kodama.showStatus", () => showStatus());

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("kodama") && !onlyTraceChanged(event)) {
        void restart("settings changed");
      }
    }),
    vscode.tasks.onDidStartTaskProcess((event) => {
      if (event.execution.task.definition.type === "kodama") status.setFineTuning(true);
    }),
    vscode.tasks.onDidEndTaskProcess((event) => {
      if (event.execution.task.definition.type !== "kodama") return;
      status.setFineTuning(false);
      fineTuneEnded(event.exitCode);
    }),
  );
  await restart("activated");
}

export async function deactivate(): Promise<void> {
  await stop();
}

function onlyTraceChanged(event: vscode.ConfigurationChangeEvent): boolean {
  const keys = ["serverPath", "pythonPath", "model", "adapter", "languages", "contextBudget", "initializationOptions"];
  return !keys.some((key) => event.affectsConfiguration(`kodama.${key}`));
}

/** Stops the running server (if any) and starts a new one from the current settings. */
function restart(reason: string): Promise<void> {
  lifecycle = lifecycle.then(async () => {
    log(`(re)starting the server: ${reason}`);
    await stop();
    await start();
  });
  return lifecycle;
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (!running) return;
  stopping = true;
  try {
    if (running.isRunning()) await running.stop(5000);
  } catch (error) {
    log(`stopping the server: ${String(error)}`);
  } finally {
    stopping = false;
  }
}

async function start(): Promise<void> {
  const config = vscode.workspace.getConfiguration("kodama");
  status.setState("starting", "looking for the kodama command");
  try {
    server = await findServer(config);
  } catch (error) {
    server = undefined;
    const message = error instanceof Error ? error.message : String(error);
    log(message);
    status.setState("not-found", message);
    void notFound(message, error instanceof ServerNotFound ? error.setting : undefined);
    return;
  }
  const args = [...server.prefix, "serve"];
  log(`starting ${server.command} ${args.join(" ")} (from ${server.source})`);
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const serverOptions: ServerOptions = {
    command: server.command,
    args,
    transport: TransportKind.stdio,
    options: { cwd, env: { ...process.env } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: documentSelector(config),
    outputChannel: output,
    revealOutputChannelOn: 4, // RevealOutputChannelOn.Never: the status bar shows errors
    stdioOptions: { stdout: (input) => forwardLog(input, "info"), stderr: (input) => forwardLog(input, "warn") },
    initializationOptions: initializationOptions(config),
    middleware: {
      provideInlineCompletionItems: async (document, position, context, token, next) => {
        status.inlineRequestStarted();
        try {
          return await next(document, position, context, token);
        } finally {
          status.inlineRequestFinished();
        }
      },
      executeCommand: async (command, commandArgs, next) => {
        const result = await next(command, commandArgs);
        if (command === EXPLAIN) showExplanation(result);
        return result;
      },
    },
  };
  const created = new LanguageClient("kodama", "Kodama", serverOptions, clientOptions);
  client = created;
  created.onDidChangeState((event) => {
    if (event.newState === State.Stopped && !stopping && client === created) {
      status.setState("error", "the Kodama server stopped; see the output (Kodama: Show Output)");
    }
  });
  created.onNotification(STATUS_NOTIFICATION, (params: StatusParams) => {
    log(`status: ${params.state}: ${params.message}`);
    const wasReady = status.getState().state === "ready";
    status.setState(params.state, params.message, params.model);
    if (params.state === "ready" && !wasReady && client === created) reaskAtCursor();
  });
  try {
    await created.start();
  } catch (error) {
    const message = `the server did not start: ${error instanceof Error ? error.message : String(error)}`;
    log(message);
    status.setState("error", message);
    return;
  }
  // Our own $/progress handling replaces the client library's: the same notifications with a
  // cancel button, and the status bar knows when the server is busy.
  created.onRequest(WorkDoneProgressCreateRequest.type, (params) => trackProgress(created, params.token));
  if (status.getState().state === "starting") status.setState("loading", "loading the model");
}

/** The documents Kodama serves: the languages of kodama.languages, on disk or untitled. */
function documentSelector(
  config: vscode.WorkspaceConfiguration,
): { scheme: string; language: string }[] {
  return languages(config).flatMap((language) => [
    { scheme: "file", language },
    { scheme: "untitled", language },
  ]);
}

/** The model just became ready: what the editor asked while it loaded got an empty answer, so
 * ask again for the ghost text at the cursor when the active editor shows a Kodama document. */
function reaskAtCursor(): void {
  const editor = vscode.window.activeTextEditor;
  const selector = documentSelector(vscode.workspace.getConfiguration("kodama"));
  if (!editor || vscode.languages.match(selector, editor.document) === 0) return;
  log("model ready: asking again for the ghost text at the cursor");
  void vscode.commands.executeCommand("editor.action.inlineSuggest.trigger");
}

const SERVER_LOG_LINE = /^\d{4}-\d\d-\d\d [\d:,.]+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) (.*)$/;

/** The server's log lines (stderr) into the output channel at their own level. */
function forwardLog(input: NodeJS.ReadableStream, otherwise: "info" | "warn"): void {
  let level: "debug" | "info" | "warn" | "error" = otherwise;
  readline.createInterface({ input, crlfDelay: Infinity, terminal: false }).on("line", (line) => {
    const match = SERVER_LOG_LINE.exec(line);
    if (match) {
      const name = match[1];
      level = name === "DEBUG" ? "debug" : name === "INFO" ? "info" : name === "WARNING" ? "warn" : "error";
      output[level](match[2]);
    } else {
      output[level === "error" ? "error" : otherwise](line); // tracebacks follow their ERROR line
    }
  });
}

function trackProgress(owner: LanguageClient, token: ProgressToken): void {
  const key = String(token);
  // The end may arrive before withProgress has called back: the promise exists from the start.
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let reporter: vscode.Progress<{ message?: string; increment?: number }> | undefined;
  let last = 0;
  const subscription = owner.onProgress(WorkDoneProgress.type, token, (value) => {
    if (value.kind === "begin") {
      const loading = ["loading", "starting"].includes(status.getState().state);
      if (!loading) status.progressStarted(key, value.message ? `${value.title}: ${value.message}` : value.title);
      else status.setLoadingPercentage(value.percentage, value.message);
      if (!value.cancellable) return; // the status bar item shows it
      void vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: value.title,
          cancellable: value.cancellable === true,
        },
        (progress, cancel) => {
          reporter = progress;
          cancel.onCancellationRequested(() =>
            void owner.sendNotification(WorkDoneProgressCancelNotification.type, { token }),
          );
          if (value.message || value.percentage) {
            progress.report({ message: value.message, increment: value.percentage });
            last = value.percentage ?? 0;
          }
          return finished;
        },
      );
    } else if (value.kind === "report") {
      if (status.getState().state === "loading") status.setLoadingPercentage(value.percentage, value.message);
      const increment = value.percentage !== undefined ? Math.max(0, value.percentage - last) : undefined;
      if (value.percentage !== undefined) last = value.percentage;
      reporter?.report({ message: value.message, increment });
    } else {
      subscription.dispose();
      status.progressEnded(key);
      finish();
    }
  });
}

async function notFound(message: string, setting: string | undefined): Promise<void> {
  const choice = await vscode.window.showErrorMessage(`Kodama: ${message}`, "Open Settings", "Copy Install Command", "Show Output");
  if (choice === "Open Settings") {
    await vscode.commands.executeCommand("workbench.action.openSettings", setting ?? "kodama.");
  } else if (choice === "Copy Install Command") {
    await vscode.env.clipboard.writeText(INSTALL_COMMAND);
    void vscode.window.showInformationMessage(`Copied: ${INSTALL_COMMAND}`);
  } else if (choice === "Show Output") {
    output.show(true);
  }
}

async function showStatus(): Promise<void> {
  const { state, message, model } = status.getState();
  if (state === "error" || state === "not-found") {
    output.show(true);
    if (state === "not-found") return notFound(message, undefined);
    const choice = await vscode.window.showErrorMessage(`Kodama: ${message}`, "Restart Server", "Open Settings");
    if (choice === "Restart Server") await restart("restart requested");
    else if (choice === "Open Settings") await vscode.commands.executeCommand("workbench.action.openSettings", "kodama.");
    return;
  }
  const where = server ? `${server.command} (${server.source})` : "no server";
  const choice = await vscode.window.showInformationMessage(
    `Kodama: ${state}${model ? ` — ${model}` : ""}: ${message}. Server: ${where}.`,
    "Show Output",
    "Restart Server",
  );
  if (choice === "Show Output") output.show(true);
  else if (choice === "Restart Server") await restart("restart requested");
}

/** Runs a server command on the definition (or selection) at the cursor. */
async function runAtCursor(command: string): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showWarningMessage("Kodama: open a file and put the cursor in a function, method or class.");
    return;
  }
  const running = client;
  if (!running || !running.isRunning()) {
    void vscode.window.showWarningMessage("Kodama: the server is not running.", "Show Output").then((c) => {
      if (c) output.show(true);
    });
    return;
  }
  if (!languages(vscode.workspace.getConfiguration("kodama")).includes(editor.document.languageId)) {
    void vscode.window.showWarningMessage(
      `Kodama is not enabled for ${editor.document.languageId} (setting kodama.languages).`,
    );
    return;
  }
  const selection = editor.selection;
  const where: Record<string, unknown> = {
    uri: running.code2ProtocolConverter.asUri(editor.document.uri),
    line: selection.active.line,
    character: selection.active.character,
  };
  if (command === EXPLAIN && !selection.isEmpty) {
    where.line = selection.start.line;
    where.character = selection.start.character;
    where.end = { line: selection.end.line, character: selection.end.character };
  }
  try {
    const result = await running.sendRequest(ExecuteCommandRequest.type, { command, arguments: [where] });
    if (command === EXPLAIN) showExplanation(result);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(`Kodama: ${message}`);
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Shows `{markdown}` (the result of kodama.explain) in a side panel. */
function showExplanation(result: unknown): void {
  const markdown = (result as { markdown?: unknown } | null | undefined)?.markdown;
  if (typeof markdown !== "string") return;
  void (async () => {
    let body: string;
    try {
      body = await vscode.commands.executeCommand<string>("markdown.api.render", markdown);
    } catch {
      body = `<pre>${escapeHtml(markdown)}</pre>`;
    }
    if (!explanationPanel) {
      explanationPanel = vscode.window.createWebviewPanel(
        "kodama.explanation",
        "Kodama: Explanation",
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { enableScripts: false },
      );
      explanationPanel.onDidDispose(() => (explanationPanel = undefined));
    }
    explanationPanel.webview.html =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\">" +
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline';\">" +
      "<style>body{font-family:var(--vscode-font-family);font-size:var(--vscode-font-size);" +
      "color:var(--vscode-foreground);padding:0 1em;overflow-wrap:anywhere}" +
      "code,pre{font-family:var(--vscode-editor-font-family);white-space:pre-wrap}</style>" +
      `</head><body class="kodama-explanation">${body}</body></html>`;
    explanationPanel.reveal(vscode.ViewColumn.Beside, true);
  })();
}

/** Kodama: Fine-tune This Repository — `kodama fine-tune <folder>` as a task (Ctrl+C cancels). */
async function fineTune(arg: unknown): Promise<void> {
  let folder: vscode.WorkspaceFolder | undefined;
  if (arg instanceof vscode.Uri) folder = vscode.workspace.getWorkspaceFolder(arg);
  const active = vscode.window.activeTextEditor?.document.uri;
  if (!folder && active) folder = vscode.workspace.getWorkspaceFolder(active);
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (!folder && folders.length === 1) folder = folders[0];
  if (!folder && folders.length > 1) folder = await vscode.window.showWorkspaceFolderPick({ placeHolder: "Fine-tune which repository?" });
  if (!folder) {
    void vscode.window.showWarningMessage("Kodama: open a folder (the repository to fine-tune on) first.");
    return;
  }
  const config = vscode.workspace.getConfiguration("kodama");
  let command: ServerCommand;
  try {
    command = await findServer(config);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return notFound(message, error instanceof ServerNotFound ? error.setting : undefined);
  }
  const running = vscode.tasks.taskExecutions.find((e) => e.task.definition.type === "kodama");
  if (running) {
    void vscode.window.showWarningMessage("Kodama: a fine-tune is already running (Ctrl+C in its terminal stops it).");
    return;
  }
  const args = [...command.prefix, "fine-tune"];
  const model = initializationOptions(config).model as { name?: string } | undefined;
  if (model?.name) args.push("--model", model.name);
  args.push(folder.uri.fsPath);
  const task = new vscode.Task(
    { type: "kodama", command: "fine-tune", folder: folder.uri.fsPath },
    folder,
    "fine-tune",
    "kodama",
    new vscode.ProcessExecution(command.command, args, { cwd: folder.uri.fsPath }),
  );
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, focus: true, clear: true };
  log(`fine-tune: ${command.command} ${args.join(" ")}`);
  await vscode.tasks.executeTask(task);
  void vscode.window.showInformationMessage(
    "Kodama: fine-tuning this repository in the terminal (Ctrl+C there stops it; `--resume` continues later).",
  );
}

function fineTuneEnded(exitCode: number | undefined): void {
  if (exitCode === 0) {
    void vscode.window.showInformationMessage(
      "Kodama: fine-tuning finished. The server uses the new adapter if it was installed (see the terminal).",
    );
  } else if (exitCode === 130 || exitCode === undefined) {
    void vscode.window.showInformationMessage("Kodama: fine-tuning stopped (run it again with `kodama fine-tune --resume`).");
  } else {
    void vscode.window.showErrorMessage(`Kodama: fine-tuning failed (exit code ${exitCode}); see its terminal.`);
  }
}
