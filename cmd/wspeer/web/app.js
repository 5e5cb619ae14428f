// The wspeer chat page: one WebSocket to the chosen room, /chat for "lobby",
// /chat/NAME for room NAME (the room is also in the page's #fragment, so a
// link opens it). The server sends our own messages to everyone but us, so
// we show them ourselves when sent. The page asks /cluster every few seconds
// whether the server's NATS link is down, and says so.
"use strict";

const body = document.body;
const stateEl = document.getElementById("state");
const clusterEl = document.getElementById("cluster");
const log = document.getElementById("log");
const form = document.getElementById("form");
const input = document.getElementById("input");
const send = document.getElementById("send");
const reconnect = document.getElementById("reconnect");
const roomForm = document.getElementById("room-form");
const roomInput = document.getElementById("room");
const roomPattern = /^[A-Za-z0-9._-]{1,64}$/;
let ws = null;
let room = "lobby";

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

function roomFromHash() {
  const name = decodeURIComponent(location.hash.slice(1));
  return roomPattern.test(name) ? name : "lobby";
}

function connect() {
  const path = room === "lobby" ? "/chat" : "/chat/" + room;
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  delete body.dataset.closeCode;
  body.dataset.room = room;
  roomInput.value = room;
  setState("connecting", "connecting…");
  const sock = new WebSocket(url);
  ws = sock;
  sock.onopen = () => {
    setState("open", "connected");
    add("system", "Connected to " + url + " (room " + room + ")");
    input.focus();
  };
  sock.onmessage = (ev) => {
    if (typeof ev.data === "string") add("other", ev.data, "someone");
  };
  sock.onclose = (ev) => {
    body.dataset.closeCode = String(ev.code);
    const reason = ev.reason ? " — " + ev.reason : "";
    setState("closed", "closed " + ev.code);
    add("system", "Connection closed: code " + ev.code + reason + (ev.wasClean ? "" : " (not clean)"));
    reconnect.focus();
  };
}

// switchRoom leaves the current room (closing its socket quietly) and joins name.
function switchRoom(name) {
  if (name === room && ws && ws.readyState <= WebSocket.OPEN) return;
  if (ws) {
    ws.onclose = null;
    ws.close(1000, "changing room");
  }
  room = name;
  if (location.hash.slice(1) !== name) history.replaceState(null, "", "#" + name);
  add("system", "Room " + name);
  connect();
}

async function checkCluster() {
  try {
    const resp = await fetch("/cluster", { cache: "no-store" });
    const state = (await resp.json()).nats;
    body.dataset.cluster = state;
    clusterEl.hidden = state !== "down";
  } catch (e) {
    // The server itself is unreachable: the socket's state says so already.
  }
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = input.value;
  if (!text || !ws || ws.readyState !== WebSocket.OPEN) return;
  ws.send(text);
  add("mine", text, "you");
  input.value = "";
});

roomForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const name = roomInput.value.trim();
  if (roomPattern.test(name)) switchRoom(name);
});

window.addEventListener("hashchange", () => switchRoom(roomFromHash()));
reconnect.addEventListener("click", connect);
room = roomFromHash();
connect();
checkCluster();
setInterval(checkCluster, 3000);
