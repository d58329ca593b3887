// Portico web client: one websocket in Evennia's v1 format (["cmd", [args], {kwargs}]), a resume token
// per tab (sessionStorage) so a dropped connection or a reload gets the same session back, and
// reconnects with back-off. No build step, no external requests.

const TOKEN_KEY = "portico.resume";
const MAX_LINES = 5000;
const HISTORY_MAX = 200;
const RETRY_MS = [500, 1000, 2000, 4000, 8000, 15000];

const $ = (id) => document.getElementById(id);
const output = $("output");
const prompt = $("prompt");
const input = $("input");
const state = $("state");
const reconnectButton = $("reconnect");

let info = { serverName: document.title, path: "/ws" };
let ws = null;
/** Frames received on the current socket (the resume token's own frames not counted): tells the server what to replay. */
let received = 0;
let attempt = 0;
let retryTimer = null;
let manualOnly = false;
const history = [];
let historyPos = 0;

function setState(kind, text) {
  state.className = `state-${kind}`;
  state.textContent = text;
  reconnectButton.hidden = kind !== "closed";
}

/** Whether the output follows new lines (the reader has not scrolled up). */
let following = true;
output.addEventListener("scroll", () => {
  following = output.scrollHeight - output.scrollTop - output.clientHeight < 40;
});
new ResizeObserver(() => {
  if (following) output.scrollTop = output.scrollHeight;
}).observe(output);

function append(div) {
  output.append(div);
  while (output.childElementCount > MAX_LINES) output.firstElementChild.remove();
  if (following) output.scrollTop = output.scrollHeight;
}

function appendHtml(html) {
  const div = document.createElement("div");
  div.className = "line";
  div.innerHTML = html; // produced and escaped by the portal's markup renderer
  append(div);
}

function notice(text) {
  const div = document.createElement("div");
  div.className = "line notice";
  div.textContent = text;
  append(div);
}

function socketUrl() {
  const params = new URLSearchParams({ client: "Portico web client" });
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) {
    params.set("resume", token);
    params.set("received", String(received));
  }
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${info.path}?${params}`;
}

function handle(message) {
  if (!Array.isArray(message) || typeof message[0] !== "string") return;
  const [cmd, args = []] = message;
  switch (cmd) {
    case "portico_resume":
      sessionStorage.setItem(TOKEN_KEY, String(args[0]));
      return;
    case "text":
      appendHtml(String(args[0] ?? ""));
      break;
    case "prompt":
      prompt.innerHTML = String(args[0] ?? "");
      break;
    case "echo":
      input.type = args[0] === false ? "password" : "text";
      input.setAttribute("aria-label", args[0] === false ? "Password" : "Command");
      break;
    case "logged_in":
      setState("open", "Connected, logged in");
      break;
    default:
      break; // other out-of-band data: a richer client would route it by name
  }
  received += 1;
}

function connect() {
  clearTimeout(retryTimer);
  retryTimer = null;
  manualOnly = false;
  if (ws && ws.readyState <= WebSocket.OPEN) return;
  setState("connecting", sessionStorage.getItem(TOKEN_KEY) ? "Reconnecting…" : "Connecting…");
  const socket = new WebSocket(socketUrl(), ["v1.evennia.com"]);
  ws = socket;
  let opened = false;
  socket.onopen = () => {
    opened = true;
    attempt = 0;
    received = 0;
    setState("open", "Connected");
  };
  socket.onmessage = (event) => {
    if (typeof event.data !== "string") return;
    try {
      handle(JSON.parse(event.data));
    } catch {
      // not for us
    }
  };
  socket.onclose = (event) => {
    if (socket !== ws) return;
    ws = null;
    closed(event.code, event.reason, opened);
  };
}

function closed(code, reason, opened) {
  if (code === 4401) {
    // The session is gone (the wait ran out, or the token was used): start a new one.
    sessionStorage.removeItem(TOKEN_KEY);
    received = 0;
    notice("Your previous session has ended; starting a new one.");
    return connect();
  }
  if (code === 4409) {
    manualOnly = true;
    setState("closed", "Continued in another tab");
    return;
  }
  if (code === 1000 || code === 1008 || code === 1009) {
    // Ended by the game or for a reason the server gave: no automatic retry.
    sessionStorage.removeItem(TOKEN_KEY);
    received = 0;
    manualOnly = true;
    // The reason usually arrived as the last line already.
    if (reason && output.lastElementChild?.textContent !== reason) notice(reason);
    setState("closed", "Disconnected");
    return;
  }
  const delay = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)] * (0.8 + Math.random() * 0.4);
  attempt += 1;
  if (opened && attempt === 1) notice("Connection lost; reconnecting…");
  setState("waiting", navigator.onLine === false ? "Offline; waiting for the network" : `Reconnecting in ${Math.ceil(delay / 1000)} s`);
  retryTimer = setTimeout(connect, delay);
}

function retryNow() {
  if (!ws && !manualOnly && retryTimer !== null) connect();
}

$("command").addEventListener("submit", (event) => {
  event.preventDefault();
  const line = input.value;
  if (!ws || ws.readyState !== WebSocket.OPEN) {
    notice("Not connected; your line was kept.");
    return;
  }
  ws.send(JSON.stringify(["text", [line], {}]));
  if (input.type !== "password" && line.trim() !== "" && history.at(-1) !== line) {
    history.push(line);
    if (history.length > HISTORY_MAX) history.shift();
  }
  historyPos = history.length;
  input.value = "";
});

input.addEventListener("keydown", (event) => {
  if (input.type === "password") return;
  if (event.key === "ArrowUp" && historyPos > 0) {
    historyPos -= 1;
    input.value = history[historyPos];
    event.preventDefault();
  } else if (event.key === "ArrowDown" && historyPos < history.length) {
    historyPos += 1;
    input.value = history[historyPos] ?? "";
    event.preventDefault();
  }
});

output.addEventListener("click", (event) => {
  const send = event.target.closest?.(".mxp-send");
  if (send && ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(["text", [send.dataset.command ?? ""], {}]));
});

reconnectButton.addEventListener("click", () => {
  manualOnly = false;
  attempt = 0;
  connect();
});
window.addEventListener("online", retryNow);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") retryNow();
});

fetch("/portico.json")
  .then((r) => (r.ok ? r.json() : info))
  .catch(() => info)
  .then((i) => {
    info = { ...info, ...i };
    document.title = info.serverName;
    $("title").textContent = info.serverName;
    connect();
    input.focus();
  });
