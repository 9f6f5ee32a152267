// Lab certificates made on the fly with the openssl CLI, for turns: listeners
// and for the TLS failure scenarios (expired, not yet valid, wrong host name,
// signed by an unknown CA).
//
// Why `openssl ca` and not `openssl req -x509`: OpenSSL 3.0 (Debian 12) has no
// -not_before/-not_after on req/x509, but `openssl ca -startdate/-enddate`
// sets any validity window, including one entirely in the past. One code path
// for every certificate keeps the cases alike.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertOptions {
  /** Subject common name; default 'localhost'. */
  cn?: string;
  /** Subject alternative names: IP literals become IP:, the rest DNS:. Default: 127.0.0.1, ::1, localhost. */
  sans?: string[];
  /** Validity in days from notBefore (default 30). Ignored when `expired`. */
  days?: number;
  /** Explicit start of validity (default: one hour ago, to tolerate clock skew). */
  notBefore?: Date;
  /** Explicit end of validity (overrides `days`). */
  notAfter?: Date;
  /** Shortcut: valid from 30 days ago until 1 day ago. */
  expired?: boolean;
  /** Shortcut: valid from tomorrow for 30 days. */
  notYetValid?: boolean;
  /** Sign with this CA instead of self-signing (see makeCa). */
  issuer?: { certPem: string; keyPem: string };
  /** Make a CA certificate (basicConstraints CA:TRUE, keyCertSign). */
  isCa?: boolean;
  /** openssl binary; default 'openssl'. */
  openssl?: string;
}

export interface CertPair {
  certPem: string;
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
}

export class LabCertError extends Error {
  override name = 'LabCertError';
}

const DEFAULT_SANS = ['127.0.0.1', '::1', 'localhost'];
const DAY_MS = 86_400_000;

/** openssl ca's date format: YYYYMMDDHHMMSSZ (GeneralizedTime, always UTC). */
function asn1Time(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

function sanList(sans: string[]): string {
  return sans.map((s) => (isIP(s) ? `IP:${s}` : `DNS:${s}`)).join(',');
}

function run(bin: string, args: string[], cwd: string, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { cwd, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        reject(new LabCertError(`${bin} not found: run scripts/ensure-deps.sh`));
      } else {
        reject(new LabCertError(`openssl ${args[0]} failed: ${String(stderr).trim().split('\n').slice(-3).join(' | ')}`));
      }
    });
  });
}

function window(opts: CertOptions): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  if (opts.expired) return { notBefore: new Date(now - 30 * DAY_MS), notAfter: new Date(now - DAY_MS) };
  if (opts.notYetValid) return { notBefore: new Date(now + DAY_MS), notAfter: new Date(now + 31 * DAY_MS) };
  const notBefore = opts.notBefore ?? new Date(now - 3_600_000);
  const notAfter = opts.notAfter ?? new Date(notBefore.getTime() + (opts.days ?? 30) * DAY_MS);
  return { notBefore, notAfter };
}

/**
 * A certificate and its key (PEM). Self-signed unless `issuer` is given. A
 * self-signed result also works as its own trust anchor (`ca: certPem`).
 */
export async function makeSelfSigned(opts: CertOptions = {}): Promise<CertPair> {
  const bin = opts.openssl ?? 'openssl';
  const cn = opts.cn ?? 'localhost';
  const sans = opts.sans ?? DEFAULT_SANS;
  const { notBefore, notAfter } = window(opts);
  const dir = await mkdtemp(join(tmpdir(), 'mxv-cert-'));
  try {
    // A throwaway `openssl ca` database: the command insists on one.
    await writeFile(join(dir, 'index.txt'), '');
    const ext = opts.isCa
      ? ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature', 'subjectKeyIdentifier=hash']
      : [
          // CA:TRUE on a self-signed leaf lets Node/OpenSSL accept it as its own anchor.
          opts.issuer ? 'basicConstraints=critical,CA:FALSE' : 'basicConstraints=critical,CA:TRUE',
          'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign',
          'extendedKeyUsage=serverAuth',
          ...(sans.length ? [`subjectAltName=${sanList(sans)}`] : []),
          'subjectKeyIdentifier=hash',
        ];
    const cnf = [
      '[ca]',
      'default_ca = lab',
      '[lab]',
      `dir = ${dir}`,
      'database = $dir/index.txt',
      'serial = $dir/serial',
      'new_certs_dir = $dir',
      'default_md = sha256',
      'policy = anything',
      'unique_subject = no',
      'copy_extensions = none',
      '[anything]',
      'commonName = supplied',
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      `CN = ${cn}`,
      '[ext]',
      ...ext,
      '',
    ].join('\n');
    await writeFile(join(dir, 'lab.cnf'), cnf);
    await run(bin, ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'req.pem', '-config', 'lab.cnf'], dir);
    let signKey = 'key.pem';
    let signCert: string[] = ['-selfsign'];
    if (opts.issuer) {
      await writeFile(join(dir, 'issuer.pem'), opts.issuer.certPem);
      await writeFile(join(dir, 'issuer.key'), opts.issuer.keyPem, { mode: 0o600 });
      signKey = 'issuer.key';
      signCert = ['-cert', 'issuer.pem'];
    }
    // Random serial: two lab certs with the same issuer+serial confuse TLS stacks.
    await writeFile(join(dir, 'serial'), '01' + randomBytes(8).toString('hex') + '\n');
    await run(
      bin,
      [
        'ca', '-batch', '-config', 'lab.cnf', ...signCert, '-keyfile', signKey, '-in', 'req.pem', '-out', 'cert.pem',
        '-startdate', asn1Time(notBefore), '-enddate', asn1Time(notAfter), '-extensions', 'ext', '-extfile', 'lab.cnf',
        '-notext', '-md', 'sha256',
      ],
      dir,
    );
    const [certPem, keyPem] = await Promise.all([readFile(join(dir, 'cert.pem'), 'utf8'), readFile(join(dir, 'key.pem'), 'utf8')]);
    return { certPem, keyPem, notBefore, notAfter };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A CA certificate to sign leaves with (`makeSelfSigned({ issuer: ca })`). */
export function makeCa(opts: Omit<CertOptions, 'isCa' | 'issuer' | 'sans'> = {}): Promise<CertPair> {
  return makeSelfSigned({ cn: 'mx-voiptest lab CA', ...opts, sans: [], isCa: true });
}
