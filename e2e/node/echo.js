// Connects Node's ws client to a WebSocket echo server with
// permessage-deflate on, sends text and binary messages of each size in
// turn, checks that each comes back equal and of the same type, closes with
// 1000, and prints what it saw as one line of JSON.
//
//   node echo.js URL '{"sizes": [0, 1, 70000], "perMessageDeflate": {"threshold": 0}}'
"use strict";
const WebSocket = require("ws");

const [url, json] = process.argv.slice(2);
const { sizes, perMessageDeflate } = JSON.parse(json);

const ws = new WebSocket(url, { perMessageDeflate });
const fail = (err) => {
  console.log(JSON.stringify({ error: String(err && err.stack || err) }));
  process.exit(1);
};
ws.on("error", fail);
const timer = setTimeout(() => fail(new Error("timed out")), 30000);

let next;
ws.on("message", (data, isBinary) => next({ data, isBinary }));
const echo = (data, binary) => new Promise((ok) => { next = ok; ws.send(data, { binary }); });

ws.on("open", async () => {
  const seen = [];
  for (const n of sizes) {
    // Text with 1-, 2- and 3-byte UTF-8 characters, n characters long.
    const text = Array.from({ length: n }, (_, i) => "aé€"[i % 3]).join("");
    const t = await echo(text, false);
    seen.push({ kind: "text", n, ok: !t.isBinary && t.data.toString("utf8") === text });
    const bytes = Buffer.alloc(n);
    for (let i = 0; i < n; i++) bytes[i] = (i * 7 + (i >> 8)) & 255;
    const b = await echo(bytes, true);
    seen.push({ kind: "binary", n, ok: b.isBinary && Buffer.compare(b.data, bytes) === 0 });
  }
  const extensions = ws.extensions;
  ws.on("close", (code, reason) => {
    clearTimeout(timer);
    console.log(JSON.stringify({ extensions, seen, close: { code, reason: reason.toString() } }));
  });
  ws.close(1000, "done");
});
