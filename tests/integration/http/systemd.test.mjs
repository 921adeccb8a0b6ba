// systemd integration without systemd: a Python helper plays the service manager. It passes
// a listening socket as fd 3 with LISTEN_FDS/LISTEN_PID (socket activation) and reads the
// sd_notify datagrams (READY=1, WATCHDOG=1, STOPPING=1) from a socket named by NOTIFY_SOCKET.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { mcpdBinary, tempDir, toolsDir, waitFor } from './helpers.mjs';

// Binds a datagram socket and prints every message it receives on a line of its own.
const receiver = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    print(s.recv(4096).decode().replace("\\n", " "), flush=True)
`;

// Listens on 127.0.0.1:0, writes the port, puts the socket on fd 3 and becomes mcpd.
const activator = `
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ["LISTEN_PID"] = str(os.getpid())
os.environ["LISTEN_FDS"] = "1"
os.execv(sys.argv[2], sys.argv[2:])
`;

test('socket activation, READY=1, WATCHDOG=1 and STOPPING=1', async () => {
  const dir = tempDir();
  const notifySocket = path.join(dir, 'notify');
  let notes = '';
  const manager = spawn('python3', ['-c', receiver, notifySocket], { stdio: ['ignore', 'pipe', 'inherit'] });
  manager.stdout.on('data', (chunk) => (notes += chunk.toString()));
  try {
    await waitFor(() => notes.includes('bound'), { what: 'the notify socket' });

    const activatedPort = path.join(dir, 'activated-port');
    const portFile = path.join(dir, 'port');
    let log = '';
    const server = spawn(
      'python3',
      ['-c', activator, activatedPort, mcpdBinary(), 'serve', '--http', '--no-auth',
        '--listen', '127.0.0.1:1', '--tools', toolsDir],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME ?? '/tmp',
          NOTIFY_SOCKET: notifySocket,
          WATCHDOG_USEC: '200000',
          MCPD_PORT_FILE: portFile,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    server.stderr.on('data', (chunk) => (log += chunk.toString()));
    const exited = new Promise((resolve) => server.on('exit', (code) => resolve(code)));

    await waitFor(() => existsSync(portFile) && notes.includes('READY=1'), {
      what: 'READY=1',
    });
    const port = Number(readFileSync(portFile, 'utf8'));
    assert.equal(port, Number(readFileSync(activatedPort, 'utf8')), 'serves the passed socket');
    assert.match(log, /socket\(s\) passed by systemd/);
    const live = await fetch(`http://127.0.0.1:${port}/live`);
    assert.equal(live.status, 200);

    await waitFor(() => (notes.match(/WATCHDOG=1/g) ?? []).length >= 2, { what: 'watchdog pings' });

    server.kill('SIGTERM');
    assert.equal(await exited, 0, log);
    await waitFor(() => notes.includes('STOPPING=1'), { what: 'STOPPING=1' });
    assert.ok(notes.indexOf('READY=1') < notes.indexOf('STOPPING=1'));
  } finally {
    manager.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
