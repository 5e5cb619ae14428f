// The Node `ws` side of wspeer's interop tests (see ../scenario.go).
//   node peer.js server <deflate:on|off>        prints "listening <port>"
//   node peer.js client <url> <deflate:on|off>  one connection, then exits
// Both echo every message with its type and obey the "cmd:" commands; every
// close prints a JSON line {"event":"close","code":c,"reason":r}.
'use strict';
const { WebSocket, WebSocketServer } = require('ws');

const BUDGET = 64 << 20;
const CLIENT_PROTOCOLS = ['x-unknown', 'echo.v2', 'echo.v1'];
const SERVER_PROTOCOLS = ['echo.v1', 'echo.v2'];

function agent(ws) {
  let pings = 0;
  ws.on('ping', () => { pings++; }); // ws answers with a pong by itself
  ws.on('pong', (data) => {
    if (data.toString() === 'hi') ws.send('pong:ok');
  });
  ws.on('message', (data, isBinary) => {
    const cmd = isBinary ? '' : data.toString();
    if (!cmd.startsWith('cmd:')) {
      ws.send(data, { binary: isBinary });
    } else if (cmd === 'cmd:hello') {
      ws.send(JSON.stringify({ protocol: ws.protocol, extensions: ws.extensions, pings }));
    } else if (cmd === 'cmd:ping') {
      ws.ping('hi');
    } else if (cmd.startsWith('cmd:burst:')) {
      const n = parseInt(cmd.slice('cmd:burst:'.length), 10);
      for (let i = 0; i < n; i++) ws.send('burst-' + String(i).padStart(4, '0'));
    } else if (cmd === 'cmd:close') {
      ws.close(4000, 'bye ✓');
    } else {
      ws.send('unknown command ' + cmd);
    }
  });
  ws.on('error', (err) => console.error('ws error:', err.message));
}

function report(code, reason) {
  process.stdout.write(JSON.stringify({ event: 'close', code, reason: reason.toString() }) + '\n');
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'server') {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    maxPayload: BUDGET,
    perMessageDeflate: args[0] === 'on',
    handleProtocols: (offered) => {
      for (const p of offered) if (SERVER_PROTOCOLS.includes(p)) return p;
      return false;
    },
  });
  wss.on('listening', () => process.stdout.write('listening ' + wss.address().port + '\n'));
  wss.on('connection', (ws) => {
    agent(ws);
    ws.on('close', report);
  });
} else if (mode === 'client') {
  const ws = new WebSocket(args[0], CLIENT_PROTOCOLS, {
    maxPayload: BUDGET,
    perMessageDeflate: args[1] === 'on',
  });
  agent(ws);
  ws.on('close', (code, reason) => {
    report(code, reason);
    process.exit(0);
  });
} else {
  console.error('usage: peer.js server <on|off> | client <url> <on|off>');
  process.exit(2);
}
