// Finding the `kodama` command and turning the extension's settings into what the server reads.

import * as fs from "fs";
import * as path from "path";
import { execFile } from "child_process";
import * as vscode from "vscode";

/** How to start Kodama: a program and the arguments before its subcommand. */
export interface ServerCommand {
  command: string;
  /** Arguments that come before `serve` / `fine-tune` (`-m kodama.server` for a Python). */
  prefix: string[];
  /** Where it was found, for messages: the setting's name or "PATH". */
  source: string;
}

/** Why no command was found, with what to tell the user. */
export class ServerNotFound extends Error {
  constructor(message: string, readonly setting: string | undefined) {
    super(message);
  }
}

export const INSTALL_COMMAND =
  "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'   # in a clone of the Kodama repository";

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `name` looked up on PATH (absolute path), or undefined. */
export function which(name: string, envPath = process.env.PATH ?? ""): string | undefined {
  const exts = process.platform === "win32" ? ["", ".exe", ".cmd", ".bat"] : [""];
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

function expand(value: string): string {
  let out = value.trim();
  if (out.startsWith("~/")) out = path.join(process.env.HOME ?? "~", out.slice(2));
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (folder) out = out.replace(/\$\{workspaceFolder\}/g, folder);
  return out;
}

function resolveProgram(value: string): string | undefined {
  const expanded = expand(value);
  if (expanded.includes("/") || expanded.includes("\\")) {
    return isExecutable(expanded) ? expanded : undefined;
  }
  return which(expanded);
}

/** Runs `program args` and resolves with its exit code (-1 when it could not start). */
function probe(program: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(program, args, { timeout: 30000 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      if (!error) resolve({ code: 0, output });
      else resolve({ code: typeof error.code === "number" ? error.code : -1, output: output || error.message });
    });
  });
}

/** The command that starts Kodama: `kodama.serverPath`, else `kodama.pythonPath -m kodama.server`,
 * else `kodama` on PATH. Throws ServerNotFound with a message that says how to fix it. */
export async function findServer(config: vscode.WorkspaceConfiguration): Promise<ServerCommand> {
  const serverPath = (config.get<string>("serverPath") ?? "").trim();
  if (serverPath) {
    const program = resolveProgram(serverPath);
    if (!program) {
      throw new ServerNotFound(
        `the setting kodama.serverPath is "${serverPath}", which is not an executable file. ` +
          "Set it to the full path of kodama (e.g. /path/to/kodama/.venv/bin/kodama).",
        "kodama.serverPath",
      );
    }
    return { command: program, prefix: [], source: "kodama.serverPath" };
  }
  const pythonPath = (config.get<string>("pythonPath") ?? "").trim();
  if (pythonPath) {
    const python = resolveProgram(pythonPath);
    if (!python) {
      throw new ServerNotFound(
        `the setting kodama.pythonPath is "${pythonPath}", which is not an executable file.`,
        "kodama.pythonPath",
      );
    }
    const check = await probe(python, ["-m", "kodama.server", "--version"]);
    if (check.code !== 0) {
      throw new ServerNotFound(
        `Kodama is not installed in the Python environment of kodama.pythonPath (${python}): ` +
          `${check.output.split("\n").pop()}. Install it there with: ${INSTALL_COMMAND}`,
        "kodama.pythonPath",
      );
    }
    return { command: python, prefix: ["-m", "kodama.server"], source: "kodama.pythonPath" };
  }
  const onPath = which("kodama");
  if (onPath) return { command: onPath, prefix: [], source: "PATH" };
  throw new ServerNotFound(
    "cannot find the kodama command. Set kodama.serverPath to its full path " +
      "(/path/to/kodama/.venv/bin/kodama) or kodama.pythonPath to a Python that has Kodama installed, " +
      `or install it: ${INSTALL_COMMAND}`,
    "kodama.serverPath",
  );
}

/** The settings as the server's nested `initializationOptions` (keys of `kodama serve --help`). */
export function initializationOptions(config: vscode.WorkspaceConfiguration): Record<string, unknown> {
  const extra = config.get<Record<string, unknown>>("initializationOptions") ?? {};
  const options: Record<string, unknown> = JSON.parse(JSON.stringify(extra));
  const section = (name: string): Record<string, unknown> => {
    const current = options[name];
    if (current && typeof current === "object" && !Array.isArray(current)) {
      return current as Record<string, unknown>;
    }
    const created: Record<string, unknown> = {};
    options[name] = created;
    return created;
  };
  const model = (config.get<string>("model") ?? "").trim();
  if (model) section("model").name = expand(model);
  const adapter = (config.get<string>("adapter") ?? "").trim();
  if (adapter) section("model").adapter = expand(adapter);
  const budget = config.get<number | null>("contextBudget");
  if (typeof budget === "number") section("context").tokens = budget;
  return options;
}

/** The language ids Kodama is enabled for. */
export function languages(config: vscode.WorkspaceConfiguration): string[] {
  const ids = config.get<string[]>("languages") ?? [];
  return ids.filter((id) => typeof id === "string" && id.length > 0);
}
