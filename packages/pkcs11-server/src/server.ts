/**
 * @packageDocumentation
 * The p11-kit RPC server: listens on a Unix socket (mode 0600 in a 0700 directory, so only the same user
 * can connect), serves several clients at once, each with its own sessions and logins, over the readers
 * and tokens of a {@link TokenSource}.
 */
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { ScardError } from '@minidriver/spec';
import { type ConnectionLimits, DEFAULT_CONNECTION_LIMITS, serveConnection } from './connection.js';
import type { CallTrace } from './dispatch.js';
import { SlotTable } from './module/slots.js';
import type { TokenSource } from './module/token-source.js';

/** Options of {@link Pkcs11Server.listen}. */
export interface Pkcs11ServerOptions {
  /** The Unix socket path (default {@link defaultSocketPath}). */
  readonly socketPath?: string;
  /** The readers and tokens to serve. */
  readonly source: TokenSource;
  /** Most clients served at once (default 32); more are refused (closed at once). */
  readonly maxConnections?: number;
  /** Per-connection limits (frame sizes, sessions, operation data). */
  readonly limits?: ConnectionLimits;
  /** Told about clients that broke the protocol (never a PIN: only what was wrong with the framing). */
  readonly onProtocolError?: (message: string) => void;
  /** Sees every call's name and CK_RV (never its arguments). */
  readonly trace?: CallTrace;
}

/**
 * The default socket: `$XDG_RUNTIME_DIR/minidriver/pkcs11`. Without XDG_RUNTIME_DIR there is no
 * per-user private directory to put it in: SCARD_E_INVALID_PARAMETER asks for an explicit path.
 */
export function defaultSocketPath(environment: NodeJS.ProcessEnv = process.env): string {
  const runtime = environment['XDG_RUNTIME_DIR'];
  if (!runtime) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'XDG_RUNTIME_DIR is not set: give the socket path (--socket)');
  }
  return join(runtime, 'minidriver', 'pkcs11');
}

/** The line a shell evaluates to point p11-kit-client.so at a socket. */
export function exportLine(socketPath: string): string {
  return `P11_KIT_SERVER_ADDRESS=unix:path=${socketPath}; export P11_KIT_SERVER_ADDRESS;`;
}

/** A running server; {@link close} stops it and removes the socket. */
export class Pkcs11Server {
  private readonly sockets = new Set<Socket>();
  private traceHook: CallTrace | undefined;
  private readonly served = new Set<Promise<void>>();

  private constructor(
    private readonly server: Server,
    readonly socketPath: string,
  ) {}

  /** Replaces the call trace (see {@link Pkcs11ServerOptions.trace}); undefined stops tracing. */
  setTrace(trace: CallTrace | undefined): void {
    this.traceHook = trace;
  }

  /** Clients connected now. */
  get connections(): number {
    return this.sockets.size;
  }

  /** Starts listening. A stale socket file (nobody listening) is replaced; a live one is SCARD_E_SHARING_VIOLATION. */
  static async listen(options: Pkcs11ServerOptions): Promise<Pkcs11Server> {
    const socketPath = options.socketPath ?? defaultSocketPath();
    await mkdir(dirname(socketPath), { recursive: true, mode: 0o700 });
    await removeStaleSocket(socketPath);
    const slots = new SlotTable(options.source);
    const limits = options.limits ?? DEFAULT_CONNECTION_LIMITS;
    const maxConnections = options.maxConnections ?? 32;
    const server = createServer();
    const instance = new Pkcs11Server(server, socketPath);
    instance.traceHook = options.trace;
    const trace: CallTrace = (call, rv, error) => instance.traceHook?.(call, rv, error);
    server.on('connection', (socket) => {
      if (instance.sockets.size >= maxConnections) {
        socket.destroy();
        return;
      }
      instance.sockets.add(socket);
      const served = serveConnection(socket, slots, limits, options.onProtocolError, trace).finally(() => {
        instance.sockets.delete(socket);
        instance.served.delete(served);
      });
      instance.served.add(served);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(socketPath, 0o600);
    return instance;
  }

  /** Stops accepting, disconnects every client (their sessions close, their logins are released), removes the socket. */
  async close(): Promise<void> {
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([...this.served]);
    await closing;
    await unlink(this.socketPath).catch(() => undefined);
  }
}

async function removeStaleSocket(path: string): Promise<void> {
  const stats = await lstat(path).catch(() => undefined);
  if (stats === undefined) return;
  if (!stats.isSocket()) throw new ScardError('SCARD_E_INVALID_PARAMETER', `${path} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new ScardError('SCARD_E_SHARING_VIOLATION', `a server is already listening on ${path}`);
  await unlink(path);
}
