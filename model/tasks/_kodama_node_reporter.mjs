// Kodama's reporter for node:test (never loaded by Kodama itself): one JSON line per test
// event to the file named by KODAMA_SANDBOX_EVENTS, with the titles of the suites around it.
import { appendFileSync } from "node:fs";

const events = process.env.KODAMA_SANDBOX_EVENTS;

function write(record) {
  if (events) appendFileSync(events, JSON.stringify(record) + "\n");
}

function message(error) {
  const cause = error && error.cause ? error.cause : error;
  if (!cause) return "failed";
  let text = cause.message !== undefined ? String(cause.message) : String(cause);
  if (cause.cause && cause.cause.message) text += ` (${cause.cause.message})`;  // fetch failed
  const name = cause.name && cause.name !== "Error" ? `${cause.name}: ` : "";
  const detail = cause.actual !== undefined || cause.expected !== undefined
    ? `\nactual: ${JSON.stringify(cause.actual)}\nexpected: ${JSON.stringify(cause.expected)}`
    : "";
  return (name + text).split("\n").slice(0, 8).join("\n") + detail;
}

function loadError(stderr) {
  // A file that fails to load (a syntax error, an undefined name at top level) reports only
  // "test failed"; the reason is in the file's standard error.
  const lines = stderr.split("\n");
  const error = lines.find((line) => /^\w*(Error|Exception)\b/.test(line));
  return error || lines.filter((line) => line.trim()).slice(-3).join("\n");
}

export default async function* reporter(source) {
  const stack = [];
  let stderr = "";
  for await (const event of source) {
    const data = event.data || {};
    if (event.type === "test:stderr") {
      stderr += data.message || "";
    } else if (event.type === "test:start") {
      stack.length = data.nesting;
      stack.push(data.name);
      write({ event: "start", titles: stack.slice() });
    } else if (event.type === "test:pass" || event.type === "test:fail") {
      stack.length = data.nesting + 1;
      stack[data.nesting] = data.name;
      const suite = data.details && data.details.type === "suite";
      if (suite) continue;
      const skipped = data.skip !== undefined || data.todo !== undefined;
      let text = event.type === "test:fail" ? message(data.details && data.details.error) : "";
      if (text === "test failed" && stderr) text = loadError(stderr);
      write({
        event: "result", titles: stack.slice(),
        outcome: event.type === "test:pass" ? (skipped ? "skipped" : "passed") : "failed",
        message: text,
      });
    }
  }
}
