import { execFileSync } from 'node:child_process';
import { startOidcProvider } from '@tessera/testkit';
import type { OpResult } from './phases.js';

/**
 * `pnpm bench --auth`: the cost of access control (docs/security.md). The same server (same back end,
 * same stored data) is measured with AUTH_MODE=none, with an API key and with an OpenID Connect access
 * token, alternately, several times; what is compared is the median of the runs.
 */

export const AUTH_MODES = ['none', 'apikey', 'oidc'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** Operations with a target: QIDO p50 and WADO throughput may grow (fall) by at most 5 % with a credential. */
const QIDO_BUDGET = 1.05;
const WADO_BUDGET = 0.95;
const WADO_OPS = new Set(['wado-rs-instance', 'wado-rs-frame', 'wado-uri']);

/** What a request sends to prove who it is, and whom the audit trail should then name. */
export interface Credential {
  authorization: string;
  /** The key id or token subject the audit trail records as the actor. */
  actorId: string;
}

/**
 * `tessera keys create` with the compiled CLI (as an operator runs it; `buildServer` first) on the
 * back end's index (DATA_DIR or DATABASE_URL in `env`). The embedded index is one process's: call it
 * while no server of that DATA_DIR runs.
 */
export function createApiKey(root: string, env: Record<string, string>, name: string, scopes: string[]): Credential {
  const key = execFileSync(process.execPath, ['packages/cli/dist/main.js', 'keys', 'create', '--name', name, '--scopes', scopes.join(',')], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
  const id = /^tsk_([0-9a-f]{16})_/.exec(key)?.[1];
  if (!id) throw new Error('tessera keys create printed no key');
  return { authorization: `Bearer ${key}`, actorId: id };
}

export interface TokenIssuer {
  /** OIDC_ISSUER and OIDC_AUDIENCE for the server. */
  env: Record<string, string>;
  /** A fresh access token (client credentials grant at the provider's real token endpoint; valid 1 hour). */
  credential(scopes: ('read' | 'write' | 'admin')[]): Promise<Credential>;
  close(): Promise<void>;
}

/**
 * A real OpenID Connect provider (testkit's oidc-provider) on a loopback port in this process. The
 * server discovers its JWKS once and, per token, verifies the signature once: after that the token is
 * believed from the credential cache (by its SHA-256, until `exp`), which is what the runs measure.
 */
export async function startTokenIssuer(): Promise<TokenIssuer> {
  const provider = await startOidcProvider();
  return {
    env: { OIDC_ISSUER: provider.issuer, OIDC_AUDIENCE: provider.audience },
    async credential(scopes) {
      const token = await provider.clientCredentialsToken(scopes);
      const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: string };
      if (!claims.sub) throw new Error('the access token has no subject');
      return { authorization: `Bearer ${token}`, actorId: claims.sub };
    },
    close: () => provider.close(),
  };
}

/** Whether the server under test authenticates: the statuses of one QIDO-RS search without and with the credential. */
export async function probeAuthentication(url: string, credential: Credential | undefined): Promise<{ withoutCredential: number; withCredential?: number }> {
  const search = `${url}/dicomweb/studies?limit=1`;
  const without = await fetch(search, { headers: { accept: 'application/dicom+json' } });
  await without.arrayBuffer();
  if (!credential) return { withoutCredential: without.status };
  const withIt = await fetch(search, { headers: { accept: 'application/dicom+json', authorization: credential.authorization } });
  await withIt.arrayBuffer();
  return { withoutCredential: without.status, withCredential: withIt.status };
}

/**
 * The audit events naming `actorId` since `since`, by type, from `GET /api/audit` (JSON lines) with an
 * admin credential. The recorder writes in batches (at least every second): this waits, up to
 * `timeoutMs`, until at least `expected` events are there.
 */
export async function auditedEvents(
  url: string,
  admin: Credential,
  actorId: string,
  since: Date,
  expected: number,
  timeoutMs = 10_000,
): Promise<Record<string, number>> {
  const query = new URLSearchParams({ actor: actorId, since: since.toISOString() });
  const started = performance.now();
  for (;;) {
    const response = await fetch(`${url}/api/audit?${query}`, { headers: { authorization: admin.authorization, accept: 'application/x-ndjson' } });
    const text = await response.text();
    if (!response.ok) throw new Error(`GET /api/audit → ${response.status}: ${text.slice(0, 300)}`);
    const byType: Record<string, number> = {};
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line) continue;
      const type = (JSON.parse(line) as { type: string }).type;
      byType[type] = (byType[type] ?? 0) + 1;
      total++;
    }
    if (total >= expected || performance.now() - started > timeoutMs) return byType;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One measured run of one mode on one back end. */
export interface AuthRun {
  backend: string;
  mode: AuthMode;
  run: number;
  ops: OpResult[];
  /** Statuses of a search without and with the credential, just before the run. */
  probe: { withoutCredential: number; withCredential?: number };
  /** Audit events naming the run's credential, by type (not for `none`: the actor is anonymous). */
  audit?: { actorId: string; requests: number; byType: Record<string, number> };
}

export interface AuthRow {
  operation: string;
  kind: 'qido' | 'wado' | 'other';
  /** AUTH_MODE=none: p50 ms, requests/s and server CPU ms per request (medians of the runs). */
  none: { p50Ms: number; requestsPerS: number; cpuMsPerOp?: number };
  /**
   * Per mode with a credential: p50, throughput and server CPU per request, each ÷ none's. CPU time
   * is the least disturbed by other load on a shared machine; latency and throughput are what the
   * budget is about.
   */
  ratios: Partial<Record<AuthMode, { p50: number; throughput: number; cpu?: number }>>;
}

export interface AuthComparison {
  backend: string;
  runs: number;
  rows: AuthRow[];
  /** Geometric means of the ratios, per mode: QIDO p50 (≤ 1.05) and WADO throughput (≥ 0.95). */
  summary: Partial<Record<AuthMode, { qidoP50: number; wadoThroughput: number; met: boolean; qidoCpu?: number; wadoCpu?: number }>>;
}

const geomean = (values: number[]) => Math.exp(values.reduce((n, v) => n + Math.log(v), 0) / Math.max(1, values.length));

/** The comparison of one back end's modes: every operation's medians, as ratios to AUTH_MODE=none. */
export function compareModes(backend: string, runs: number, byMode: Partial<Record<AuthMode, OpResult[]>>): AuthComparison {
  const base = byMode.none ?? [];
  const rows: AuthRow[] = base.map((op) => {
    const kind = op.phase.startsWith('qido') ? 'qido' : WADO_OPS.has(op.op) ? 'wado' : 'other';
    const ratios: AuthRow['ratios'] = {};
    for (const mode of AUTH_MODES) {
      if (mode === 'none') continue;
      const other = byMode[mode]?.find((x) => x.phase === op.phase && x.op === op.op);
      if (!other) continue;
      const cpu = other.cpuMsPerOp !== undefined && op.cpuMsPerOp ? { cpu: other.cpuMsPerOp / op.cpuMsPerOp } : {};
      ratios[mode] = { p50: other.p50Ms / op.p50Ms, throughput: other.requestsPerS / op.requestsPerS, ...cpu };
    }
    const cpu = op.cpuMsPerOp === undefined ? {} : { cpuMsPerOp: op.cpuMsPerOp };
    return { operation: `${op.phase}/${op.op}`, kind, none: { p50Ms: op.p50Ms, requestsPerS: op.requestsPerS, ...cpu }, ratios };
  });
  const summary: AuthComparison['summary'] = {};
  for (const mode of AUTH_MODES) {
    if (mode === 'none' || !byMode[mode]) continue;
    const qidoP50 = geomean(rows.flatMap((r) => (r.kind === 'qido' && r.ratios[mode] ? [r.ratios[mode].p50] : [])));
    const wadoThroughput = geomean(rows.flatMap((r) => (r.kind === 'wado' && r.ratios[mode] ? [r.ratios[mode].throughput] : [])));
    const cpuOf = (kind: AuthRow['kind']) => rows.flatMap((r) => (r.kind === kind && r.ratios[mode]?.cpu !== undefined ? [r.ratios[mode].cpu] : []));
    const [qidoCpu, wadoCpu] = [cpuOf('qido'), cpuOf('wado')].map((ratios) => (ratios.length ? { value: geomean(ratios) } : undefined));
    summary[mode] = {
      qidoP50,
      wadoThroughput,
      met: qidoP50 <= QIDO_BUDGET && wadoThroughput >= WADO_BUDGET,
      ...(qidoCpu ? { qidoCpu: qidoCpu.value } : {}),
      ...(wadoCpu ? { wadoCpu: wadoCpu.value } : {}),
    };
  }
  return { backend, runs, rows, summary };
}

const r2 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(2));

/** The comparison as Markdown: one table per back end, the budget verdicts under it. */
export function authMarkdown(comparisons: AuthComparison[]): string {
  const lines: string[] = [];
  for (const c of comparisons) {
    const modes = AUTH_MODES.filter((m) => m !== 'none' && c.summary[m]);
    lines.push(
      '',
      `#### Access control cost on ${c.backend} (medians of ${c.runs} run${c.runs === 1 ? '' : 's'} per mode; the mode columns are ratios to none)`,
      '',
      `| operation | none p50 ms | none req/s | none CPU ms/req | ${modes.map((m) => `${m} p50 | ${m} throughput | ${m} CPU`).join(' | ')} |`,
      `|---|---:|---:|---:|${modes.map(() => '---:|---:|---:').join('|')}|`,
    );
    for (const row of c.rows) {
      const mark = (value: number | undefined, kind: 'p50' | 'throughput') => {
        if (value === undefined) return '–';
        const over = row.kind === 'qido' && kind === 'p50' ? value > QIDO_BUDGET : row.kind === 'wado' && kind === 'throughput' ? value < WADO_BUDGET : false;
        return `${r2(value)}${over ? ' ⚠' : ''}`;
      };
      lines.push(
        `| ${row.operation} | ${r2(row.none.p50Ms)} | ${r2(row.none.requestsPerS)} | ${r2(row.none.cpuMsPerOp)} | ${modes.map((m) => `${mark(row.ratios[m]?.p50, 'p50')} | ${mark(row.ratios[m]?.throughput, 'throughput')} | ${r2(row.ratios[m]?.cpu)}`).join(' | ')} |`,
      );
    }
    lines.push('');
    for (const m of modes) {
      const s = c.summary[m]!;
      lines.push(
        `- ${m}: QIDO p50 ×${r2(s.qidoP50)} (geometric mean over the QIDO operations; budget ≤ ×${QIDO_BUDGET}), WADO throughput ×${r2(s.wadoThroughput)} (instance, frame, WADO-URI; budget ≥ ×${WADO_BUDGET}) ${s.met ? '✅' : '❌'}; server CPU per request ×${r2(s.qidoCpu)} (QIDO), ×${r2(s.wadoCpu)} (WADO)`,
      );
    }
    lines.push('- ⚠: that operation alone is beyond the 5 % budget (single operations are noisier than the means on a shared machine).');
  }
  return lines.join('\n');
}
