import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Test } from 'tap';
import { buildApp } from '@tessera/server';
import { type BackendName, type TestStorage, openTestStorage, readShared, testDataPath } from '@tessera/testkit';
import { readFileSync } from 'node:fs';
import { bearer } from '../access/access-fixture.js';

/** The files the share tests store: a CT study (the one shared), an enhanced MR study and an encapsulated PDF (others). */
export const SHARED_CT = 'dicomdir/77654033/CT2/17106';
export const OTHER_MR = 'multiframe/enhanced-mr-emri_small-10fr.dcm';
export const PDF = 'non-image/pdf/encapsulated-pdf.dcm';

export interface ShareServer {
  storage: TestStorage;
  app: FastifyInstance;
  /** Every line the server logged (level info and above). */
  log: string[];
  adminKey: string;
  writeKey: string;
  /** StudyInstanceUID by file. */
  studies: Record<string, string>;
  /** Listening base URL (only when `listen` was asked). */
  url?: string;
}

/**
 * A server with AUTH_MODE=apikey whose log is captured, an admin and a write key, and the three
 * studies above stored. `env` adds settings (e.g. AUTH_KEY_CACHE_SECONDS).
 */
export async function startShareServer(t: Test, backend: BackendName, env: Record<string, string> = {}, listen = false): Promise<ShareServer> {
  const storage = await openTestStorage(backend, { AUTH_MODE: 'apikey', ...env });
  const log: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      log.push(String(chunk));
      done();
    },
  });
  const app = await buildApp({ config: storage.config, index: storage.index, blobs: storage.blobs, logger: { level: 'info', stream } });
  t.teardown(async () => {
    await app.close();
    await storage.close();
  });
  const url = listen ? await app.listen({ host: '127.0.0.1', port: 0 }) : undefined;
  const adminKey = await createKeyIn(storage, 'share admin', ['admin']);
  const writeKey = await createKeyIn(storage, 'uploader', ['write']);
  const studies: Record<string, string> = {};
  for (const file of [SHARED_CT, OTHER_MR, PDF]) {
    const body = file.startsWith('dicomdir/') ? readFileSync(testDataPath(file)) : readShared(file);
    const stored = await app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: { 'content-type': 'application/dicom', ...bearer(writeKey) },
      payload: body,
    });
    if (stored.statusCode !== 200) throw new Error(`storing ${file}: ${stored.statusCode} ${stored.body}`);
    const retrieveUrl: string = stored.json()['00081199'].Value[0]['00081190'].Value[0];
    studies[file] = /studies\/([\d.]+)/.exec(retrieveUrl)![1]!;
  }
  return { storage, app, log, adminKey, writeKey, studies, ...(url ? { url } : {}) };
}

async function createKeyIn(storage: TestStorage, name: string, scopes: string[]): Promise<string> {
  const { generateApiKey } = await import('@tessera/access');
  const key = generateApiKey();
  await storage.index.apiKeys.create({ id: key.id, name, scopes, secretHash: key.secretHash });
  return key.key;
}

export interface CreatedShare {
  id: string;
  link: string;
  token: string;
  studyInstanceUid: string;
  expiresAt: string;
}

export async function createShare(server: ShareServer, body: Record<string, unknown>): Promise<CreatedShare> {
  const answer = await server.app.inject({ method: 'POST', url: '/api/shares', headers: bearer(server.adminKey), payload: body });
  if (answer.statusCode !== 201) throw new Error(`creating a share: ${answer.statusCode} ${answer.body}`);
  const share = answer.json<Omit<CreatedShare, 'token'>>();
  return { ...share, token: share.link.split('/s/')[1]! };
}

/** The share cookie's `name=value` from a Set-Cookie header. */
export function cookieOf(setCookie: string | string[] | undefined): string {
  const line = [setCookie ?? []].flat()[0] ?? '';
  return line.split(';')[0]!;
}
