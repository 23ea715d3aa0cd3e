'use strict';
// Loaded into every wscat process with `node --require` (lib/wscat/connection.ts). wscat owns the
// connection, but with piped stdout it prints no control notices: not the close code and reason, not the
// negotiated subprotocol, not even that the socket opened (docs/wscat.md). This module watches the `ws`
// WebSocket that wscat itself uses and writes those events, one JSON line each, to file descriptor 3,
// which the harness opens as a fourth pipe, with the time of each message sent and received (receive
// times in batches: `{e: 'm', n: first message, t: [times]}`). It changes wscat's behaviour in two ways
// only: it adds the token of a server the harness started itself (never to another host), and while the harness has not yet read what wscat printed, wscat stops reading the socket (measured
// without it: a server pushing 1 MB frames grew an unread wscat by 160 MB a second). It also keeps
// wscat's answer to "is stdout a terminal", which it otherwise asks the kernel at every message.
const fs = require('node:fs');
const path = require('node:path');

const FD = 3;
/** Unread stdout above which the socket is paused until stdout drains. */
const HIGH_WATER = 4 * 1024 * 1024;

function write(line) {
  try {
    fs.writeSync(FD, line);
  } catch {
    // no fourth pipe (wscat started by hand): nothing to report to
  }
}

// The receive time of every message is kept, but written in batches: one write and one JSON line per
// message was a third of wscat's CPU on a stream of small frames. A batch goes out at the end of the
// current I/O turn, when it is full, and before any other event, so the order of events holds.
const BATCH_MAX = 4096;
let batchFirst = 0;
let batchTimes = [];
let batchQueued = false;

function flushTimes() {
  batchQueued = false;
  if (batchTimes.length === 0) return;
  const line = JSON.stringify({ e: 'm', n: batchFirst, t: batchTimes }) + '\n';
  batchTimes = [];
  write(line);
}

function messageAt(n, t) {
  if (batchTimes.length === 0) batchFirst = n;
  batchTimes.push(t);
  if (batchTimes.length >= BATCH_MAX) flushTimes();
  else if (!batchQueued) {
    batchQueued = true;
    setImmediate(flushTimes);
  }
}

function report(event) {
  flushTimes();
  write(JSON.stringify(event) + '\n');
}

function headersOf(res) {
  const out = {};
  for (const [k, v] of Object.entries(res.headers || {})) out[k] = Array.isArray(v) ? v.join(', ') : String(v);
  return out;
}

function patch() {
  const bin = fs.realpathSync(process.argv[1]);
  // The `ws` that wscat resolves, so the prototype patched here is the one its socket uses.
  const WebSocket = require(require.resolve('ws', { paths: [path.dirname(bin)] }));
  const emit = WebSocket.prototype.emit;
  const send = WebSocket.prototype.send;
  // Both ends of a round trip timed here, at the socket: a latency budget then measures the server and
  // this process's wake-up, not the harness reading a pipe on a busy machine.
  const now = () => Math.round((performance.timeOrigin + performance.now()) * 10) / 10;
  // The moment wscat starts its handshake (ws looks http.request up on each connection): a connect
  // deadline counts from here, so a wscat slow to start on a busy machine is not the server's delay.
  // The token of a server the harness started itself (`host:port token`), given in the environment
  // because a command line is readable by every local user; sent only to that host and port.
  const own = /^(\S+) (\S+)$/.exec(process.env.WSGATE_OBSERVER_TOKEN || '');
  delete process.env.WSGATE_OBSERVER_TOKEN;
  const withToken = (opts) => {
    if (!own || !opts || typeof opts !== 'object' || `${opts.host}:${opts.port}`.toLowerCase() !== own[1]) return;
    opts.headers = opts.headers || {};
    const headers = opts.headers;
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'authorization'))
      headers.Authorization = `Bearer ${own[2]}`;
  };
  for (const mod of [require('node:http'), require('node:https')]) {
    const request = mod.request;
    mod.request = function observedRequest(...args) {
      report({ e: 'dial', t: now() });
      withToken(args[0]);
      return request.apply(this, args);
    };
  }
  // wscat asks tty.isatty(1) for every message it prints: a system call per frame, a sixth of its CPU on a
  // fast stream. Whether stdout is a terminal does not change while it runs, so the answer is kept.
  const tty = require('node:tty');
  const isatty = tty.isatty;
  const known = new Map();
  tty.isatty = function cachedIsatty(fd) {
    if (fd !== 1 && fd !== 2) return isatty(fd);
    if (!known.has(fd)) known.set(fd, isatty(fd));
    return known.get(fd);
  };
  let sends = 0;
  WebSocket.prototype.send = function observedSend(...args) {
    sends++;
    report({ e: 's', n: sends, t: now() });
    return send.apply(this, args);
  };
  let messages = 0;
  let waitingForDrain = false;
  WebSocket.prototype.emit = function observedEmit(event, ...args) {
    switch (event) {
      case 'upgrade':
        report({ e: 'upgrade', status: args[0].statusCode, headers: headersOf(args[0]) });
        break;
      case 'unexpected-response':
        report({ e: 'http', status: args[1].statusCode, headers: headersOf(args[1]) });
        break;
      // wscat exits inside its own 'close' and 'error' listeners: report before they run.
      case 'close':
        report({
          e: 'close',
          code: args[0],
          reason: Buffer.isBuffer(args[1]) ? args[1].toString('utf8') : String(args[1] ?? ''),
          messages,
        });
        break;
      case 'error':
        report({ e: 'error', message: String(args[0]?.message), code: args[0]?.code });
        break;
      case 'message':
        messageAt(messages + 1, now());
        break;
      default:
        break;
    }
    const handled = emit.call(this, event, ...args);
    if (event === 'open') report({ e: 'open', protocol: this.protocol, extensions: this.extensions });
    if (event === 'message') {
      messages++;
      if (args[1] === true) report({ e: 'binary', n: messages });
      if (!waitingForDrain && process.stdout.writableLength > HIGH_WATER) {
        waitingForDrain = true;
        this.pause();
        process.stdout.once('drain', () => {
          waitingForDrain = false;
          this.resume();
        });
      }
    }
    return handled;
  };
  report({ e: 'attached', ws: require(require.resolve('ws/package.json', { paths: [path.dirname(bin)] })).version });
}

try {
  patch();
} catch (err) {
  report({ e: 'unattached', why: String(err?.message) });
}
