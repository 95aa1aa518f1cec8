import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/** Where the Debian packages `orthanc` and `orthanc-dicomweb` put the server and the plugin (.ci/run installs them). */
export const ORTHANC_BINARY = process.env.ORTHANC_PATH ?? '/usr/sbin/Orthanc';
export const ORTHANC_DICOMWEB_PLUGIN = process.env.ORTHANC_DICOMWEB_PLUGIN ?? '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

/** Why Orthanc cannot be started here, or undefined when both packages are installed. */
export function orthancMissing(): string | undefined {
  if (!existsSync(ORTHANC_BINARY)) return `no Orthanc at ${ORTHANC_BINARY} (Debian package orthanc; .ci/run installs it)`;
  if (!existsSync(ORTHANC_DICOMWEB_PLUGIN)) return `no DICOMweb plugin at ${ORTHANC_DICOMWEB_PLUGIN} (Debian package orthanc-dicomweb)`;
  return undefined;
}

/** A running Orthanc: its REST API on a loopback port of its own. */
export interface OrthancProcess {
  url: string;
  /** A REST call; fails unless the answer is 2xx. JSON bodies are sent and parsed as JSON. */
  rest<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** The raw bytes of a REST resource (e.g. `/instances/{id}/file`). */
  bytes(path: string): Promise<Buffer>;
  /** Orthanc's own log so far (for failure messages). */
  log(): Promise<string>;
  /** Stops the process (SIGTERM, then SIGKILL after 10 s) and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Starts the Debian package's Orthanc with the DICOMweb plugin as a test's own process: a fresh
 * directory for its index and storage, HTTP on a free port, no remote access (Orthanc 1.10 listens
 * on every interface but then answers only loopback clients), no DICOM listener, no WebDAV, no
 * authentication, DICOMweb servers kept in memory. The package's system service and its
 * configuration in /etc/orthanc are not used.
 */
export async function startOrthanc(): Promise<OrthancProcess> {
  const missing = orthancMissing();
  if (missing) throw new Error(missing);
  const directory = await mkdtemp(join(tmpdir(), 'tessera-orthanc-'));
  const logFile = join(directory, 'orthanc.log');
  let child: ChildProcess | undefined;
  // If the test process ends without stopping it (a timeout, an uncaught error), Orthanc goes too.
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);
  const kill = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const stop = async () => {
    await kill();
    process.removeListener('exit', killOnExit);
    await rm(directory, { recursive: true, force: true });
  };
  try {
    // A free port can be taken between our probe and Orthanc's bind: try a few.
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort();
      const configFile = join(directory, 'orthanc.json');
      await writeFile(configFile, JSON.stringify(config(directory, port), null, 2));
      const fd = openSync(logFile, 'a');
      child = spawn(ORTHANC_BINARY, [configFile], { cwd: directory, stdio: ['ignore', fd, fd] });
      closeSync(fd);
      const url = `http://127.0.0.1:${port}`;
      if (await waitUntilUp(url, child)) return orthanc(url, logFile, stop);
      await kill();
    }
    throw new Error(`Orthanc did not start: ${await readFile(logFile, 'utf8').catch(() => '(no log)')}`);
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}

function config(directory: string, port: number) {
  return {
    Name: 'tessera-test',
    StorageDirectory: join(directory, 'storage'),
    IndexDirectory: join(directory, 'index'),
    StorageCompression: false,
    Plugins: [ORTHANC_DICOMWEB_PLUGIN],
    HttpServerEnabled: true,
    HttpPort: port,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomServerEnabled: false,
    WebDavEnabled: false,
    OrthancExplorerEnabled: false,
    HttpCompressionEnabled: false,
    ConcurrentJobs: 1,
    HttpTimeout: 60,
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false, ServersInDatabase: false },
  };
}

function orthanc(url: string, logFile: string, stop: () => Promise<void>): OrthancProcess {
  const log = () => readFile(logFile, 'utf8').catch(() => '');
  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': Buffer.isBuffer(body) ? 'application/dicom' : 'application/json' },
      body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
    if (!res.ok) {
      const logTail = (await log()).split('\n').slice(-15).join('\n');
      throw new Error(`Orthanc ${method} ${path}: ${res.status} ${await res.text()}\nOrthanc log:\n${logTail}`);
    }
    return res;
  };
  return {
    url,
    log,
    stop,
    async rest<T>(method: string, path: string, body?: unknown) {
      const text = await (await call(method, path, body)).text();
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async bytes(path: string) {
      return Buffer.from(await (await call('GET', path)).arrayBuffer());
    },
  };
}

/** Polls `/system` until it answers (true) or the process exits or 60 s pass (false). */
async function waitUntilUp(url: string, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const res = await fetch(`${url}/system`);
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}
