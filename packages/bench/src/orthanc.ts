import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { freePort } from '@tessera/testkit';

/** Where Debian's `orthanc-dicomweb` package installs the plugin (`apt-get install orthanc orthanc-dicomweb`). */
const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export interface OrthancUnderTest {
  url: string;
  pid?: number;
  version: string;
  stop(): Promise<void>;
}

/**
 * Starts Orthanc for the comparison (`--orthanc`): its own empty storage and SQLite index in a temp
 * directory, HTTP on a free loopback port, no DICOM listener, no authentication, DICOMweb plugin at
 * `/dicom-web`, WADO-URI at `/wado`, storage compression off (as Tessera stores files as received).
 */
export async function startOrthanc(binary: string, log: (line: string) => void): Promise<OrthancUnderTest> {
  if (!existsSync(DICOMWEB_PLUGIN)) throw new Error(`--orthanc needs the DICOMweb plugin at ${DICOMWEB_PLUGIN} (apt-get install orthanc orthanc-dicomweb)`);
  const dir = mkdtempSync(join(os.tmpdir(), 'tessera-bench-orthanc-'));
  const port = await freePort();
  const config = join(dir, 'orthanc.json');
  writeFileSync(
    config,
    JSON.stringify(
      {
        Name: 'tessera-bench',
        StorageDirectory: join(dir, 'storage'),
        IndexDirectory: join(dir, 'storage'),
        Plugins: [DICOMWEB_PLUGIN],
        HttpPort: port,
        DicomServerEnabled: false,
        RemoteAccessAllowed: false,
        AuthenticationEnabled: false,
        StorageCompression: false,
        DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: true, WadoRoot: '/wado' },
      },
      null,
      2,
    ),
  );
  const child: ChildProcess = spawn(binary, [config], { stdio: 'ignore' });
  child.on('error', () => {});
  const url = `http://127.0.0.1:${port}`;
  const exited = once(child, 'exit');
  let version = '';
  for (let i = 0; ; i++) {
    if (child.exitCode !== null || child.pid === undefined) throw new Error(`Orthanc (${binary}) did not start`);
    try {
      const res = await fetch(`${url}/system`);
      if (res.ok) {
        version = ((await res.json()) as { Version?: string }).Version ?? '';
        break;
      }
    } catch {
      // not listening yet
    }
    if (i > 300) throw new Error('Orthanc was not ready within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`orthanc ${version}: pid ${child.pid} at ${url}`);
  return {
    url,
    pid: child.pid,
    version,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
