// Drives code-server (VS Code in the browser) with the Kodama extension installed, through
// headless Chromium and playwright-core: the end-to-end test of tests/editors/test_vscode.py.
//
// Usage: node drive-code-server.mjs URL FILE_NAME SHOTS_DIR [MODE]
//   MODE "full" (default): ready, ghost text + Tab, hover, docstring action, Explain, fine-tune
//   MODE "not-found": the server cannot be found: the error notification and status bar click
//   MODE "reask": type while the model loads (the server waits for GATE_FILE to load it), then
//     create GATE_FILE and, typing nothing more, wait for the ghost text once the model is ready
//   env PLAYWRIGHT_DIR: the folder whose node_modules holds playwright-core
//   env CHROMIUM: the browser (default /usr/bin/chromium)
//   env SETTINGS_FILE, FIXED_SETTINGS (not-found mode): rewrite the workspace settings with these
//     at the end and expect the server to restart by itself and get ready
// Prints one JSON line with what it saw ({"ok": true, ...} or {"ok": false, "error": ...}) and
// writes a PNG per step into SHOTS_DIR.

import * as fs from "fs";
import { createRequire } from "module";
import * as path from "path";

const require = createRequire(path.join(process.env.PLAYWRIGHT_DIR ?? process.cwd(), "package.json"));
const { chromium } = require("playwright-core");

const [url, fileName, shotsDir, mode = "full"] = process.argv.slice(2);
const result = { ok: false, steps: [], screenshots: [] };
const LONG = 120000;

function step(name) {
  result.steps.push(name);
  process.stderr.write(`[driver] ${name}\n`);
}

async function shot(page, name) {
  const file = path.join(shotsDir, `${String(result.screenshots.length + 1).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file });
  result.screenshots.push(file);
}

async function statusText(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll(".statusbar-item")]
      .map((e) => e.getAttribute("aria-label") || e.textContent || "")
      .filter((t) => t.includes("Kodama"))
      .join(" | "),
  );
}

async function ghostText(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll(".ghost-text-decoration, .ghost-text")]
      .map((e) => e.textContent || "")
      .join(""),
  );
}

async function editorText(page) {
  // The visible lines of the active editor, top to bottom (non-breaking spaces → spaces).
  return page.evaluate(() => {
    const editor = document.querySelector(".editor-instance .monaco-editor .view-lines");
    if (!editor) return "";
    const lines = [...editor.querySelectorAll(".view-line")].map((l) => ({
      top: parseFloat(l.style.top || "0"),
      text: (l.textContent || "").replace(/\u00a0/g, " "),
    }));
    lines.sort((a, b) => a.top - b.top);
    return lines.map((l) => l.text).join("\n");
  });
}

async function waitFor(page, what, predicate, timeout = LONG) {
  const start = Date.now();
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`);
    await page.waitForTimeout(250);
  }
}

/** The centre of `word` on the first visible editor line that contains `lineText`. */
async function wordPoint(page, lineText, word) {
  const point = await page.evaluate(([lineText, word]) => {
    const lines = [...document.querySelectorAll(".editor-instance .monaco-editor .view-lines .view-line")];
    const line = lines.find((l) => (l.textContent || "").replace(/\u00a0/g, " ").includes(lineText));
    if (!line) return null;
    const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = (node.textContent || "").indexOf(word);
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + word.length);
      const rect = range.getBoundingClientRect();
      return { x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 };
    }
    return null;
  }, [lineText, word]);
  if (!point) throw new Error(`"${word}" is not on a visible line with "${lineText}"`);
  return point;
}

async function runCommand(page, title) {
  await page.keyboard.press("F1");
  await page.waitForSelector(".quick-input-widget input", { timeout: LONG });
  await page.keyboard.type(title);
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first();
  await row.waitFor({ state: "visible", timeout: LONG });
  await page.keyboard.press("Enter");
}

async function notificationTexts(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll(".notification-list-item-message")].map((e) => e.textContent || ""));
}

/** With kodama.serverPath pointing nowhere: the error notification with its buttons, the status
 * bar's error state, and what clicking it shows. */
async function notFound(page) {
  step("wait for the error in the status bar and the notification");
  result.statusError = await waitFor(page, "Kodama: error in the status bar", async () => {
    const text = await statusText(page);
    return text.includes("Kodama: error") ? text : undefined;
  });
  result.notifications = await waitFor(page, "the error notification", async () => {
    const texts = await notificationTexts(page);
    return texts.some((t) => t.includes("kodama.serverPath")) ? texts : undefined;
  });
  result.buttons = await page.evaluate(() =>
    [...document.querySelectorAll(".notification-toast .monaco-button")].map((e) => e.textContent || ""));
  await shot(page, "not-found");
  step("click the status bar item");
  // The first click sometimes only raises the item's hover (code-server is still settling):
  // click again every few seconds until the output shows.
  const item = page.locator(".statusbar-item", { hasText: "Kodama: error" }).first();
  let clicked = 0;
  result.statusClicks = 0;
  result.output = await waitFor(page, "the Kodama output channel", async () => {
    const text = await page.evaluate(() =>
      [...document.querySelectorAll(".panel .monaco-editor .view-lines")]
        .map((e) => (e.textContent || "").replace(/\u00a0/g, " ")).join("\n"));
    if (text.includes("kodama.serverPath")) return text;
    if (Date.now() - clicked > 4000) {
      clicked = Date.now();
      result.statusClicks += 1;
      await page.mouse.move(10, 10);
      await item.click().catch(() => undefined);
    }
    return undefined;
  });
  await page.waitForTimeout(500);
  await shot(page, "not-found-clicked");
  if (process.env.FIXED_SETTINGS && process.env.SETTINGS_FILE) {
    step("fix the settings: the server restarts by itself");
    fs.writeFileSync(process.env.SETTINGS_FILE, process.env.FIXED_SETTINGS);
    result.statusFixed = await waitFor(page, "Kodama: ready after the settings changed", async () => {
      const text = await statusText(page);
      return text.includes("Kodama: ready") ? text : undefined;
    });
    await shot(page, "fixed");
  }
  result.statusEnd = await statusText(page);
  result.ok = true;
}

/** Typing while the model loads gets no ghost text; once the server reports ready the extension
 * asks again by itself: the ghost text shows with no further keystroke. */
async function reask(page) {
  step("wait for Kodama: loading in the status bar");
  result.statusLoading = await waitFor(page, "the status bar to say Kodama: loading", async () => {
    const text = await statusText(page);
    return text.includes("Kodama: loading") ? text : undefined;
  });
  step("type while the model loads");
  await page.locator(".editor-instance .monaco-editor .view-lines").first().click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type("return ", { delay: 40 });
  await page.waitForTimeout(2000); // the inline completion request is asked and answered (empty)
  result.ghostWhileLoading = await ghostText(page);
  result.statusWhileTyping = await statusText(page);
  await shot(page, "typed-while-loading");
  step("let the model load; type nothing more");
  fs.writeFileSync(process.env.GATE_FILE, "");
  result.statusReady = await waitFor(page, "the status bar to say Kodama: ready", async () => {
    const text = await statusText(page);
    return text.includes("Kodama: ready") ? text : undefined;
  });
  result.ghost = await waitFor(page, "ghost text once the model is ready", async () => {
    const text = await ghostText(page);
    return text.trim() ? text : undefined;
  }, 30000);
  await shot(page, "ghost-text-once-ready");
  result.ok = true;
}

/** Every distinct Kodama status bar text, sampled every 100 ms. */
function sampleStatus(page) {
  const seen = [];
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    const text = await statusText(page).catch(() => "");
    if (text && seen[seen.length - 1] !== text) seen.push(text);
    busy = false;
  }, 100);
  return { seen, stop: () => clearInterval(timer) };
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  let sampler;
  page.on("pageerror", (error) => process.stderr.write(`[page error] ${error}\n`));
  try {
    step("open the workbench");
    await page.goto(url, { waitUntil: "domcontentloaded" });
    await page.waitForSelector(".monaco-workbench", { timeout: LONG });
    await page.waitForSelector(".explorer-folders-view, .explorer-viewlet", { timeout: LONG }).catch(() => {});

    sampler = sampleStatus(page);
    step(`open ${fileName}`);
    await page.keyboard.press("Control+P");
    await page.waitForSelector(".quick-input-widget input", { timeout: LONG });
    await page.keyboard.type(fileName);
    await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${fileName}"]`, { timeout: LONG });
    await page.keyboard.press("Enter");
    await page.waitForSelector(".editor-instance .monaco-editor .view-lines", { timeout: LONG });

    if (mode === "not-found") {
      await notFound(page);
      return;
    }
    if (mode === "reask") {
      await reask(page);
      return;
    }

    step("wait for Kodama: ready in the status bar");
    result.statusStarting = await statusText(page);
    result.statusReady = await waitFor(page, "the status bar to say Kodama: ready", async () => {
      const text = await statusText(page);
      return text.includes("Kodama: ready") ? text : undefined;
    });
    await shot(page, "ready");

    step("type and wait for ghost text");
    const editorArea = page.locator(".editor-instance .monaco-editor .view-lines").first();
    await editorArea.click();
    await page.keyboard.press("Control+End");
    await page.keyboard.type("return ", { delay: 40 });
    result.ghost = await waitFor(page, "ghost text", async () => {
      const text = await ghostText(page);
      return text.trim() ? text : undefined;
    }, 60000);
    await shot(page, "ghost-text");
    await page.keyboard.press("Tab");
    await page.waitForTimeout(300);
    await page.keyboard.press("Escape"); // the next suggestion, if one shows already
    await page.keyboard.press("Control+S");
    await page.waitForTimeout(500);
    result.afterTab = await editorText(page);
    await shot(page, "accepted");

    step("hover the function name");
    await page.keyboard.press("Escape");
    const name = await wordPoint(page, "def area(", "area");
    await page.mouse.move(name.x - 40, name.y + 200);
    await page.mouse.move(name.x, name.y, { steps: 5 });
    result.hover = await waitFor(page, "Kodama's explanation in the hover", async () => {
      const text = await page.evaluate(() =>
        [...document.querySelectorAll(".monaco-hover .hover-contents, .monaco-hover-content")]
          .map((e) => e.textContent || "")
          .join("\n"),
      );
      if (text.includes("Kodama") && !text.includes("Writing an explanation")) return text;
      if (text.includes("Writing an explanation")) {
        // Not finished within the hover's wait: move away and hover again.
        await page.mouse.move(name.x - 40, name.y + 200);
        await page.waitForTimeout(500);
        await page.mouse.move(name.x, name.y, { steps: 5 });
      }
      return undefined;
    });
    await shot(page, "hover");
    await page.mouse.move(name.x - 40, name.y + 300);
    await page.keyboard.press("Escape");

    step("docstring code action");
    await page.mouse.click(name.x, name.y);
    await page.keyboard.press("Control+.");
    const action = page.locator(".action-widget .monaco-list-row, .context-view .action-item", {
      hasText: "Generate docstring",
    }).first();
    await action.waitFor({ state: "visible", timeout: LONG });
    result.actions = await page.evaluate(() =>
      [...document.querySelectorAll(".action-widget .monaco-list-row")].map((e) => e.textContent || ""),
    );
    await shot(page, "code-actions");
    await action.click();
    result.afterDocstring = await waitFor(page, "the docstring in the editor", async () => {
      const text = await editorText(page);
      const body = text.split("def area(")[1] ?? "";
      return body.split("\n").slice(1, 3).some((l) => l.trim().startsWith('"""')) ? text : undefined;
    });
    await page.keyboard.press("Control+S");
    await page.waitForTimeout(800);
    await shot(page, "docstring");

    step("Kodama: Explain from the command palette");
    await runCommand(page, "Kodama: Explain");
    await page.waitForSelector('.tab[aria-label*="Kodama: Explanation"]', { timeout: LONG });
    result.explanation = await waitFor(page, "the explanation in the webview", async () => {
      for (const frame of page.frames()) {
        const text = await frame.evaluate(() => document.body?.innerText ?? "").catch(() => "");
        if (text.includes("function area") && text.includes("Kodama")) return text;
      }
      return undefined;
    });
    await shot(page, "explain-command");

    step("Kodama: Fine-tune This Repository, then Ctrl+C in its terminal");
    await runCommand(page, "Kodama: Fine-tune This Repository");
    await waitFor(page, "the status bar to say fine-tuning", async () =>
      (await statusText(page)).includes("fine-tuning"));
    await page.waitForSelector(".terminal-wrapper .xterm", { timeout: LONG });
    const terminalText = () => page.evaluate(() =>
      [...document.querySelectorAll(".terminal-wrapper .xterm-rows")].map((e) => e.textContent || "").join("\n"));
    // Interrupt it once training runs (the tqdm bar says "training").
    result.terminalTraining = await waitFor(page, "training in the fine-tune terminal", async () => {
      const text = await terminalText();
      if (/training:?\s+\d+%/.test(text)) return text;
      if (!(await statusText(page)).includes("fine-tuning")) {
        throw new Error(`the fine-tune ended before its training was seen:\n${text}`);
      }
      return undefined;
    }, 300000);
    await shot(page, "fine-tuning");
    await page.locator(".terminal-wrapper .xterm").first().click();
    await page.keyboard.press("Control+C");
    await waitFor(page, "the fine-tune to end", async () => !(await statusText(page)).includes("fine-tuning"));
    await page.waitForTimeout(1000);
    result.terminal = await terminalText();
    // Toasts stay hidden while the terminal has focus: read the notification centre.
    await runCommand(page, "Notifications: Show Notifications");
    result.notifications = await waitFor(page, "the fine-tune's end notification", async () => {
      const texts = await page.evaluate(() =>
        [...document.querySelectorAll(".notification-list-item-message")].map((e) => e.textContent || ""));
      return texts.some((t) => t.includes("Kodama: fine-tuning ")) ? texts : undefined;
    }, 30000);
    await page.waitForTimeout(600); // the command palette fades out
    await shot(page, "fine-tune-stopped");
    result.statusEnd = await statusText(page);
    result.ok = true;
  } catch (error) {
    result.error = String(error && error.stack ? error.stack : error);
    result.toastsAtError = await page.evaluate(() =>
      (document.querySelector(".notifications-toasts")?.outerHTML ?? "none").slice(0, 3000)).catch(() => "");
    result.statusAtError = await statusText(page).catch(() => "");
    result.editorAtError = await editorText(page).catch(() => "");
    await shot(page, "failure").catch(() => {});
  } finally {
    sampler?.stop();
    result.statusSeen = sampler?.seen ?? [];
    await browser.close();
    process.stdout.write(JSON.stringify(result) + "\n");
  }
}

await main();
