/**
 * Runs the PyTorch/SciPy peer (bench/peer.py) as a subprocess in the same bench run and parses the
 * one JSON document it prints. Its stderr (progress) is passed through, prefixed by the peer itself.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PEER_PYTHON = '/usr/bin/python3';
export const PEER_SCRIPT = fileURLToPath(new URL('./peer.py', import.meta.url));

export interface PeerStatus {
  available: boolean;
  /** Versions when available, otherwise why not. */
  detail: string;
}

/** Whether /usr/bin/python3 can import torch, scipy and numpy (bench/setup.sh installs them). */
export function peerStatus(): PeerStatus {
  if (!existsSync(PEER_PYTHON)) return { available: false, detail: `${PEER_PYTHON} not found` };
  const r = spawnSync(PEER_PYTHON, ['-c', 'import torch, scipy, numpy; print("torch", torch.__version__, "scipy", scipy.__version__, "numpy", numpy.__version__)'], { encoding: 'utf8' });
  if (r.status !== 0) {
    const why = (r.stderr || '').trim().split('\n').pop() ?? 'import failed';
    return { available: false, detail: `${why} — run \`bash bench/setup.sh\` as root (apt-get install -y python3-torch python3-scipy)` };
  }
  return { available: true, detail: r.stdout.trim() };
}

/** The peer's JSON (loosely typed: the bench reads the fields it knows, see peer.py). */
export type PeerJson = Record<string, unknown>;

/** Runs `peer.py --json <args>`; rejects with the peer's last stderr lines on failure. */
export function runPeer(args: string[], threads = 2): Promise<PeerJson> {
  return new Promise((resolve, reject) => {
    const child = spawn(PEER_PYTHON, [PEER_SCRIPT, '--json', '--threads', String(threads), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const errTail: string[] = [];
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (s: string) => { out += s; });
    child.stderr.on('data', (s: string) => {
      process.stderr.write(s);
      errTail.push(s);
      if (errTail.length > 20) errTail.shift();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`peer.py ${args.join(' ')} exited with ${code}: ${errTail.join('').trim().split('\n').slice(-5).join(' | ')}`));
        return;
      }
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as PeerJson);
      } catch (e) {
        reject(new Error(`peer.py printed no JSON document (${(e as Error).message}): ${out.slice(0, 200)}`));
      }
    });
  });
}
