// Kodama's test sandbox for Node (preloaded with --require; never loaded by Kodama itself):
// connections to anything but this machine are refused while generated tests run.
"use strict";
const net = require("node:net");

function local(host) {
  if (host === undefined || host === null || host === "" || host === "localhost") return true;
  const bare = String(host).replace(/^\[|\]$/g, "").split("%")[0];
  return bare === "::1" || /^127\./.test(bare) || bare === "::ffff:127.0.0.1";
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const first = args[0];
  let options;
  if (Array.isArray(first)) options = first[0];  // node's own normalized arguments
  else if (typeof first === "object" && first !== null) options = first;
  else if (typeof first === "number" || /^\d+$/.test(String(first))) {
    options = { port: first, host: typeof args[1] === "string" ? args[1] : "localhost" };
  } else options = { path: first };  // a local (IPC) socket
  if (options && options.path === undefined && !local(options.host)) {
    throw Object.assign(new Error(
      `network access is disabled while Kodama checks tests (${options.host})`),
      { code: "ENETUNREACH" });
  }
  return connect.apply(this, args);
};
