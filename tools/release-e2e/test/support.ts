/**
 * Support for the release test: a real npm registry (verdaccio) on loopback with its storage in a temp
 * directory, a user and its token, an npmrc that sends our scopes to it, and child processes that never
 * block this process (verdaccio answers from this event loop).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { runServer } from 'verdaccio';

/** A running local registry. */
export interface LocalRegistry {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  /** An npmrc that routes `scopes` to this registry with a token (everything else goes to npm as usual). */
  readonly npmrc: string;
  /**
   * An npmrc whose default registry is this one: for publishing (pnpm publish reads the registry from
   * npmrc files, not from npm_config_registry) and for `npm create` of our unscoped scaffolder.
   */
  readonly npmrcAll: string;
  close(): Promise<void>;
}

/**
 * Starts verdaccio on 127.0.0.1 (a free port) with storage under `directory`. Packages of `scopes`, and
 * `unscoped` names, are served only from it (no uplink); nothing else is asked of it.
 */
export async function startRegistry(
  directory: string,
  scopes: readonly string[],
  unscoped: readonly string[],
): Promise<LocalRegistry> {
  const own = { access: '$all', publish: '$authenticated', unpublish: '$authenticated' };
  const packages: Record<string, typeof own> = {};
  for (const scope of scopes) packages[`${scope}/*`] = own;
  for (const name of unscoped) packages[name] = own;
  const server: Server = await runServer({
    self_path: join(directory, 'config.yaml'),
    storage: join(directory, 'storage'),
    auth: { htpasswd: { file: join(directory, 'htpasswd'), max_users: 10 } },
    uplinks: {},
    packages,
    log: { type: 'stdout', format: 'pretty', level: 'error' },
    web: { enable: false },
    max_body_size: '100mb',
  } as never);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('verdaccio has no TCP address');
  const url = `http://127.0.0.1:${address.port}/`;
  const response = await fetch(`${url}-/user/org.couchdb.user:release-e2e`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'release-e2e', password: 'release-e2e-password' }),
  });
  const { token } = (await response.json()) as { token?: string };
  if (!response.ok || !token) throw new Error(`verdaccio refused the test user (HTTP ${response.status})`);
  const userNpmrc = join(homedir(), '.npmrc');
  const lines = [
    existsSync(userNpmrc) ? readFileSync(userNpmrc, 'utf8') : '',
    ...scopes.map((scope) => `${scope}:registry=${url}`),
    `//127.0.0.1:${address.port}/:_authToken=${token}`,
    'fund=false',
    'audit=false',
    'update-notifier=false',
  ];
  const npmrc = join(directory, 'npmrc');
  const npmrcAll = join(directory, 'npmrc-all');
  writeFileSync(npmrc, `${lines.join('\n')}\n`);
  writeFileSync(npmrcAll, `${[...lines, `registry=${url}`].join('\n')}\n`);
  return {
    url,
    npmrc,
    npmrcAll,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** What a finished child process said. */
export interface Finished {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command without blocking this event loop; rejects with its output when it fails, or when it has
 * not finished after `timeoutMs` (default 8 minutes): then its whole process group is killed, so a hung
 * grandchild (a test worker) cannot outlive the test.
 */
export function run(
  command: string,
  args: readonly string[],
  options: {
    readonly cwd: string;
    readonly env?: NodeJS.ProcessEnv;
    readonly allowFailure?: boolean;
    readonly timeoutMs?: number;
  },
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timeoutMs = options.timeoutMs ?? 480_000;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      const finished = { status, stdout, stderr };
      if (!timedOut && (status === 0 || options.allowFailure)) resolve(finished);
      else {
        const tail = (text: string) => text.split('\n').slice(-40).join('\n');
        const how = timedOut ? `did not finish in ${timeoutMs / 1000} s (killed)` : `exited ${status}`;
        reject(
          new Error(
            `${command} ${args.join(' ')} (in ${options.cwd}) ${how}\n--- stdout\n${tail(stdout)}\n--- stderr\n${tail(stderr)}`,
          ),
        );
      }
    });
  });
}

/** True when the public npm registry answers (third-party dependencies come from it). */
export async function npmRegistryReachable(): Promise<boolean> {
  try {
    const response = await fetch('https://registry.npmjs.org/-/ping', { signal: AbortSignal.timeout(8000) });
    return response.ok;
  } catch {
    return false;
  }
}
