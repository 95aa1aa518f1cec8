import { type AddressInfo, type Server, type Socket, createServer, connect } from 'node:net';

/**
 * A TCP proxy for fault tests: put it between the server and PostgreSQL (or any peer) and break the
 * network on command. PostgreSQL itself is never touched (it is shared by the whole test run).
 *
 * Modes: `pass` forwards; `blackhole` swallows every byte both ways and leaves connections open (a
 * partitioned network: nothing fails, nothing answers); `reset()` aborts every open connection with a
 * TCP RST; `refuse()` closes the port (ECONNREFUSED) until `accept()`. `holdNext()` delays the next
 * client→server chunk that contains a byte pattern (for example a COMMIT), delivering it late, after
 * the client may have given up, as a slow network does. Bytes of one direction are always delivered
 * in order: a held chunk holds back what follows it on that connection.
 */
export interface FaultProxy {
  readonly port: number;
  /** The same URL with its host and port replaced by the proxy's. */
  via(url: string): string;
  pass(): void;
  blackhole(): void;
  reset(): void;
  refuse(): Promise<void>;
  accept(): Promise<void>;
  /** Holds the next client→server chunk containing `pattern` for `ms`; resolves once it is delivered. */
  holdNext(pattern: string | Buffer, ms: number): Promise<void>;
  /** Delays every chunk, both ways, by `ms` (a slow link; order kept) until `delay(0)` or `pass()`. */
  delay(ms: number): void;
  /** Connections opened through the proxy so far. */
  readonly connections: number;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}
interface Hold {
  pattern: Buffer;
  ms: number;
  delivered: () => void;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let mode: 'pass' | 'blackhole' = 'pass';
  let hold: Hold | undefined;
  let opened = 0;
  let delayMs = 0;
  const pairs = new Set<Pair>();

  const onConnection = (client: Socket) => {
    opened++;
    const upstream = connect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    // Writes of each direction chained, so a held chunk delays those after it.
    let toServer: Promise<void> = Promise.resolve();
    let toClient: Promise<void> = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      if (mode === 'blackhole') return;
      const held = hold && chunk.includes(hold.pattern) ? hold : undefined;
      if (held) hold = undefined;
      const slow = delayMs;
      toServer = toServer.then(async () => {
        if (held) await new Promise((resolve) => setTimeout(resolve, held.ms));
        if (slow) await new Promise((resolve) => setTimeout(resolve, slow));
        if (!upstream.destroyed) upstream.write(chunk);
        held?.delivered();
      });
    });
    upstream.on('data', (chunk: Buffer) => {
      if (mode === 'blackhole') return;
      const slow = delayMs;
      toClient = toClient.then(async () => {
        if (slow) await new Promise((resolve) => setTimeout(resolve, slow));
        if (!client.destroyed) client.write(chunk);
      });
    });
    // A side that closes closes the other once what is in flight towards it is delivered.
    client.on('end', () => void toServer.then(() => upstream.end()));
    upstream.on('end', () => void toClient.then(() => client.end()));
    const drop = () => {
      pairs.delete(pair);
      if (!client.destroyed) client.destroy();
      if (!upstream.destroyed) upstream.destroy();
    };
    client.on('error', drop).on('close', () => void toServer.then(drop));
    upstream.on('error', drop).on('close', () => void toClient.then(drop));
  };

  let server: Server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const resetAll = () => {
    for (const { client, upstream } of pairs) {
      if (!client.destroyed) client.resetAndDestroy();
      if (!upstream.destroyed) upstream.resetAndDestroy();
    }
    pairs.clear();
  };

  return {
    port,
    get connections() {
      return opened;
    },
    via(url: string) {
      const parsed = new URL(url);
      parsed.host = `127.0.0.1:${port}`;
      return parsed.toString();
    },
    pass() {
      mode = 'pass';
      delayMs = 0;
    },
    delay(ms: number) {
      delayMs = ms;
    },
    blackhole() {
      mode = 'blackhole';
    },
    reset: resetAll,
    async refuse() {
      resetAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async accept() {
      if (server.listening) return;
      server = createServer(onConnection);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    holdNext(pattern: string | Buffer, ms: number) {
      return new Promise<void>((delivered) => {
        hold = { pattern: Buffer.isBuffer(pattern) ? pattern : Buffer.from(pattern), ms, delivered };
      });
    },
    async close() {
      resetAll();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
