// The wspeer chat page: one WebSocket to /chat. The server sends our own
// messages to everyone but us, so we show them ourselves when sent.
"use strict";

const body = document.body;
const stateEl = document.getElementById("state");
const log = document.getElementById("log");
const form = document.getElementById("form");
const input = document.getElementById("input");
const send = document.getElementById("send");
const reconnect = document.getElementById("reconnect");
let ws = null;

function add(kind, text, who) {
  const li = document.createElement("li");
  li.className = kind;
  if (who) {
    const span = document.createElement("span");
    span.className = "who";
    span.textContent = who;
    li.append(span);
  }
  li.append(document.createTextNode(text));
  log.append(li);
  li.scrollIntoView({ block: "end" });
}

function setState(state, label) {
  body.dataset.state = state;
  stateEl.textContent = label;
  const open = state === "open";
  input.disabled = !open;
  send.disabled = !open;
  reconnect.hidden = state !== "closed";
}

function connect() {
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/chat";
  delete body.dataset.closeCode;
  setState("connecting", "connecting…");
  ws = new WebSocket(url);
  ws.onopen = () => {
    setState("open", "connected");
    add("system", "Connected to " + url);
    input.focus();
  };
  ws.onmessage = (ev) => {
    if (typeof ev.data === "string") add("other", ev.data, "someone");
  };
  ws.onclose = (ev) => {
    body.dataset.closeCode = String(ev.code);
    const reason = ev.reason ? " — " + ev.reason : "";
    setState("closed", "closed " + ev.code);
    add("system", "Connection closed: code " + ev.code + reason + (ev.wasClean ? "" : " (not clean)"));
    reconnect.focus();
  };
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = input.value;
  if (!text || !ws || ws.readyState !== WebSocket.OPEN) return;
  ws.send(text);
  add("mine", text, "you");
  input.value = "";
});

reconnect.addEventListener("click", connect);
connect();
