// A real nginx (NGINX: the Debian package's binary) serving one of the shipped sites in
// packaging/nginx/ on unprivileged loopback ports, from a temporary prefix: the site file runs
// as shipped, with only its addresses rewritten. Used by nginx/nginx.test.mjs (mcpd.conf, one
// mcpd) and replicas/replicas.test.mjs (mcpd-replicas.conf, three replicas).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { waitFor } from '../http/helpers.mjs';

export async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// The site's text with each [from, to] line replaced, and its listen lines pointed at
// 127.0.0.1:nginxPort. Every replaced line must be in the site exactly once, so a change to the
// shipped file that the tests do not know about fails here.
export function siteForTest(siteFile, text, { lines, nginxPort }) {
  const replacements = [
    ...lines,
    ['    listen 80;\n', `    listen 127.0.0.1:${nginxPort};\n`],
    ['    listen [::]:80;\n', ''],
  ];
  for (const [from, to] of replacements) {
    const count = text.split(from).length - 1;
    if (count !== 1) throw new Error(`${siteFile}: expected '${from.trim()}' once, found ${count}`);
    text = text.replace(from, to);
  }
  return text;
}

export class Nginx {
  // siteFile: the shipped site; lines: its upstream lines as [shipped, rewritten] pairs.
  constructor({ siteFile, lines }) {
    this.siteFile = siteFile;
    this.lines = lines;
    this.dir = mkdtempSync(path.join(tmpdir(), 'mcpd-nginx-'));
    this.log = '';
  }

  // Resolves once nginx answers /mcp/health with something other than 502 (an upstream is up).
  async start() {
    const binary = process.env.NGINX;
    if (!binary) throw new Error('NGINX is not set (run this test through ctest)');
    this.port = await freePort();
    const site = siteForTest(this.siteFile, readFileSync(this.siteFile, 'utf8'), {
      lines: this.lines,
      nginxPort: this.port,
    });
    writeFileSync(path.join(this.dir, 'site.conf'), site);
    // Root (CI) hands the workers to nobody; an unprivileged user runs them as itself.
    const user = process.getuid() === 0 ? 'user nobody nogroup;\n' : '';
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
      .map((t) => `    ${t}_temp_path ${this.dir}/${t};`)
      .join('\n');
    writeFileSync(
      path.join(this.dir, 'nginx.conf'),
      `${user}worker_processes 1;\nerror_log ${this.dir}/error.log info;\npid ${this.dir}/nginx.pid;\n` +
        `events { worker_connections 256; }\nhttp {\n    log_format upstream '$request_method $upstream_addr $status';\n` +
        `    access_log ${this.dir}/access.log upstream;\n${temp}\n` +
        `    include ${this.dir}/site.conf;\n}\n`,
    );
    this.proc = spawn(binary, ['-e', 'stderr', '-p', this.dir, '-c', path.join(this.dir, 'nginx.conf'), '-g', 'daemon off;'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout.on('data', (chunk) => (this.log += chunk));
    this.proc.stderr.on('data', (chunk) => (this.log += chunk));
    let exit = null;
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    this.exited.then((e) => (exit = e));
    this.origin = `http://127.0.0.1:${this.port}`;
    this.url = `${this.origin}/mcp`;
    await waitFor(
      async () => {
        if (exit) return true;
        try {
          return (await fetch(`${this.origin}/mcp/health`)).status !== 502 || null;
        } catch {
          return null;
        }
      },
      { what: 'nginx to listen' },
    );
    if (exit) throw new Error(`nginx exited (${JSON.stringify(exit)}):\n${this.log}`);
    return this;
  }

  // The upstreams (ports) that answered POSTs with 200 so far, from the access log.
  upstreams() {
    const log = readFileSync(path.join(this.dir, 'access.log'), 'utf8');
    return new Set([...log.matchAll(/^POST 127\.0\.0\.1:(\d+) 200$/gm)].map((m) => Number(m[1])));
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) this.proc.kill('SIGQUIT');
    if (this.exited) await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
