// The status bar item: the model's state from `kodama/status`, plus what is running right now.

import * as vscode from "vscode";

/** Params of the server's `kodama/status` notification (server/protocol.py). */
export interface StatusParams {
  state: "loading" | "ready" | "error" | "disabled";
  message: string;
  model: string;
}

export type ServerState = StatusParams["state"] | "starting" | "stopped" | "not-found";

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private state: ServerState = "starting";
  private message = "starting the server";
  private model = "";
  private percentage: number | undefined;
  private inlineRequests = 0;
  private readonly progress = new Map<string, string>();
  private fineTuning = false;

  constructor() {
    this.item = vscode.window.createStatusBarItem("kodama.status", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "Kodama";
    this.item.command = "kodama.showStatus";
    this.render();
    this.item.show();
  }

  /** The model's state as the server reported it (or the client's own: starting, stopped…). */
  setState(state: ServerState, message: string, model?: string): void {
    this.state = state;
    this.message = message;
    if (model !== undefined) this.model = model;
    if (state !== "loading") this.percentage = undefined;
    if (state !== "ready") {
      this.inlineRequests = 0;
      this.progress.clear();
    }
    this.render();
  }

  getState(): { state: ServerState; message: string; model: string } {
    return { state: this.state, message: this.message, model: this.model };
  }

  /** Percentage of the model loading bar ($/progress while the state is loading). */
  setLoadingPercentage(percentage: number | undefined, message?: string): void {
    if (this.state !== "loading") return;
    this.percentage = percentage;
    if (message) this.message = message;
    this.render();
  }

  inlineRequestStarted(): void {
    this.inlineRequests += 1;
    this.render();
  }

  inlineRequestFinished(): void {
    this.inlineRequests = Math.max(0, this.inlineRequests - 1);
    this.render();
  }

  progressStarted(token: string, title: string): void {
    this.progress.set(token, title);
    this.render();
  }

  progressEnded(token: string): void {
    this.progress.delete(token);
    this.render();
  }

  setFineTuning(running: boolean): void {
    this.fineTuning = running;
    this.render();
  }

  /** What the item shows now, as text (also used by tests through the DOM). */
  private render(): void {
    const item = this.item;
    item.backgroundColor = undefined;
    let text: string;
    let tooltip: string;
    if (this.state === "error" || this.state === "not-found") {
      text = "$(error) Kodama: error";
      tooltip = `Kodama: ${this.message}\nClick for details and the output.`;
      item.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
    } else if (this.state === "stopped") {
      text = "$(circle-slash) Kodama: stopped";
      tooltip = `Kodama: ${this.message}`;
    } else if (this.state === "disabled") {
      text = "$(circle-slash) Kodama: disabled";
      tooltip = `Kodama: ${this.message}`;
    } else if (this.state === "starting") {
      text = "$(loading~spin) Kodama: starting";
      tooltip = `Kodama: ${this.message}`;
    } else if (this.state === "loading") {
      const pct = this.percentage === undefined ? "" : ` ${this.percentage}%`;
      text = `$(loading~spin) Kodama: loading${pct}`;
      tooltip = `Kodama: loading ${this.model}: ${this.message}`;
    } else if (this.fineTuning) {
      text = "$(beaker~spin) Kodama: fine-tuning";
      tooltip = "Kodama: fine-tuning this repository (see the Kodama fine-tune terminal; Ctrl+C cancels)";
    } else if (this.inlineRequests > 0 || this.progress.size > 0) {
      const what = [...this.progress.values()].pop();
      text = "$(sync~spin) Kodama: generating";
      tooltip = `Kodama: ${what ?? "writing a completion"}`;
    } else {
      text = "$(check) Kodama: ready";
      tooltip = `Kodama: ready (${this.model || "model"}). ${this.message}`;
    }
    if (this.fineTuning && !text.includes("fine-tuning")) {
      text += " $(beaker~spin)";
      tooltip += "\nFine-tuning this repository in a terminal.";
    }
    item.text = text;
    item.tooltip = tooltip;
    item.accessibilityInformation = { label: text.replace(/\$\([^)]*\)\s*/g, ""), role: "button" };
  }

  dispose(): void {
    this.item.dispose();
  }
}
