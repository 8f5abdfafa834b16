// minikube.sh without a cluster: its usage and exit codes, and the commands each step
// gives kubectl and minikube — stand-ins on PATH that record their arguments and answer
// like the real ones (a job's pod ran, the job completed or failed), and `demo` against those
// and a log-reader stand-in (uploads arrive, the job's last line arrives).
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { runProcess, type CliResult } from './support/cli.js';

const ROOT = resolve(__dirname, '..');
const SCRIPT = resolve(ROOT, 'minikube.sh');
const SUBCOMMANDS = ['start', 'load-images', 'apply', 'run-once', 'demo', 'logs', 'clean', 'stop'];

/** The `NAME="value"` settings at the top of minikube.sh. */
function scriptSettings(): Record<string, string> {
  const text = readFileSync(SCRIPT, 'utf8');
  return Object.fromEntries(
    [...text.matchAll(/^([A-Z_]+)="([^"$]*)"$/gm)].map((m) => [m[1] as string, m[2] as string]),
  );
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const field = (v: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>(
    (at, key) => (isRecord(at) || Array.isArray(at) ? (at as Record<string | number, unknown>)[key] : undefined),
    v,
  );

/** Every Kubernetes object in the YAML files under these directories (kustomizations left out). */
function manifests(...dirs: string[]): Json[] {
  const files = dirs.flatMap((dir) =>
    readdirSync(resolve(ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => resolve(ROOT, dir, f)),
  );
  return files
    .flatMap((file) => parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => doc.toJS() as unknown))
    .filter((o): o is Json => isRecord(o) && typeof o['kind'] === 'string' && o['kind'] !== 'Kustomization');
}

function run(command: string, args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runProcess(command, args, { cwd: ROOT, env: { ...process.env, ...env } });
}

/** A directory with `kubectl` and `minikube` stand-ins that log each call, one per line. */
class FakeCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'minikube-sh-'));
  readonly log = join(this.dir, 'calls.log');
  readonly applied = join(this.dir, 'applied.yaml');
  /** The PID of the port-forward stand-in, once demo started it. */
  readonly forwardPid = join(this.dir, 'port-forward.pid');

  /** `jobCondition`: what the job's True condition reads once it ran. */
  constructor(jobCondition: 'Complete' | 'Failed' = 'Complete') {
    writeFileSync(this.log, '');
    writeFileSync(this.applied, '');
    this.tool(
      'kubectl',
      `case "$*" in
  *"create secret generic"*)
    for a in "$@"; do case "$a" in --from-env-file=*) printf 'kind: Secret\\ndata: %s\\n' "$(base64 -w0 < "\${a#--from-env-file=}")" ;; esac; done ;;
  *"create namespace"*) printf 'kind: Namespace\\n' ;;
  *"apply --filename -"*) cat >> "${this.applied}" ;;
  *"get pods"*) printf 'Succeeded' ;;
  *"rollout status"*) ;;
  *"port-forward"*) echo "$$" > "${this.forwardPid}"; echo "Forwarding from 127.0.0.1:14566 -> 4566"; exec sleep 300 ;;
  *"logs --follow"*) echo "compactor says hello" ;;
  *"get job/"*) printf '${jobCondition} ' ;;
  *"get jobs"*) printf 'job.batch/compactor-29000001\\njob.batch/compactor-manual-1700000000\\n' ;;
esac`,
    );
    this.tool('minikube', '');
  }

  /**
   * A log-reader stand-in for demo: logs its arguments and the key id it got from its
   * environment; `--tail 1` answers as the bucket would as uploads arrive: nothing yet (exit
   * 1), then a first line, then the job's last line (`lastLineAfter` reads), or never.
   */
  logReader(lastLineAfter: number | 'never' = 3): string {
    const count = join(this.dir, 'tail-count');
    writeFileSync(count, '0');
    this.tool(
      'log-reader',
      `printf '%s\\n' "  key id from env: \${AWS_ACCESS_KEY_ID:-none}" >> "${this.log}"
pod="$2"
case "$*" in
  *"--tail 1 "*)
    n=$(( $(cat "${count}") + 1 )); echo "$n" > "${count}"
    if [ "$n" -eq 1 ]; then echo "log-reader: pod $pod: nothing in bucket job-logs" >&2; exit 1; fi
    if [ "${lastLineAfter}" = never ] || [ "$n" -lt "${lastLineAfter}" ]; then echo "$pod: line 1 of 120"; else echo "$pod: done"; fi ;;
  *) echo "$pod: line 1 of 120"; echo "$pod: done" ;;
esac`,
    );
    return join(this.dir, 'log-reader');
  }

  private tool(name: string, body: string): void {
    const file = join(this.dir, name);
    writeFileSync(file, `#!/usr/bin/env bash\nset -eu\nprintf '%s\\n' "${name} $*" >> "${this.log}"\n${body}\n`);
    chmodSync(file, 0o755);
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return { PATH: `${this.dir}:${process.env['PATH'] ?? ''}`, LOCALSTACK_AUTH_TOKEN: '', ...extra };
  }

  calls(): string[] {
    return readFileSync(this.log, 'utf8').split('\n').filter(Boolean);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('minikube.sh', () => {
  let cluster: FakeCluster;
  beforeEach(() => (cluster = new FakeCluster()));
  afterEach(() => cluster.remove());

  it('is valid bash', async () => {
    expect(await run('bash', ['-n', SCRIPT])).toEqual({ exitCode: 0, stdout: '', stderr: '' });
  });

  it('names what k8s/ (base + overlays/minikube) and docker-compose.yml name: namespaces, CronJob, LocalStack and its token Secret, image, bucket, demo job', () => {
    const settings = scriptSettings();
    const objects = manifests('k8s/base', settings['OVERLAY'] as string);
    const find = (kind: string, name: string | undefined): Json | undefined =>
      objects.find((o) => o['kind'] === kind && field(o, 'metadata', 'name') === name);
    expect(find('Namespace', settings['NAMESPACE'])).toBeDefined();
    expect(find('Namespace', settings['COMPACTOR_NAMESPACE'])).toBeDefined();
    const cronjob = find('CronJob', settings['CRONJOB']);
    expect(field(cronjob, 'metadata', 'namespace')).toBe(settings['COMPACTOR_NAMESPACE']);
    // The bucket the demo reads is the one the overlay's compactor compacts.
    const kustomization = readFileSync(resolve(ROOT, settings['OVERLAY'] as string, 'kustomization.yaml'), 'utf8');
    expect(kustomization).toContain(`- COMPACTOR_BUCKET=${settings['BUCKET']}\n`);
    // The demo's job: in the namespace the script watches, labelled as clean deletes it.
    const demoJob = parse(readFileSync(resolve(ROOT, settings['DEMO_JOB'] as string), 'utf8')) as Json;
    expect(field(demoJob, 'metadata', 'namespace')).toBe(settings['DEMO_NAMESPACE']);
    const [labelKey, labelValue] = (settings['DEMO_LABEL'] as string).split('=');
    expect(field(demoJob, 'metadata', 'labels', labelKey as string)).toBe(labelValue);
    expect(field(demoJob, 'metadata', 'name')).toBe('JOB_NAME');
    expect(field(cronjob, 'spec', 'jobTemplate', 'spec', 'template', 'spec', 'containers', 0, 'image')).toBe(
      settings['IMAGE'],
    );
    const localstack = find('Deployment', settings['LOCALSTACK']);
    expect(field(localstack, 'metadata', 'namespace')).toBe(settings['NAMESPACE']);
    expect(find('Service', settings['LOCALSTACK'])).toBeDefined();
    const env = field(localstack, 'spec', 'template', 'spec', 'containers', 0, 'env');
    const token = Array.isArray(env) ? env.find((e) => field(e, 'name') === 'LOCALSTACK_AUTH_TOKEN') : undefined;
    // apply writes the Secret from an env file: its key is the variable's name.
    expect(field(token, 'valueFrom', 'secretKeyRef')).toEqual({
      name: settings['LOCALSTACK_SECRET'],
      key: 'LOCALSTACK_AUTH_TOKEN',
    });
    expect(
      field(parse(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8')), 'services', 'compactor', 'image'),
    ).toBe(settings['IMAGE']);
  });

  it('lists its 8 subcommands with --help, exit 0', async () => {
    const help = await run(SCRIPT, ['--help']);
    expect(help.exitCode).toBe(0);
    for (const sub of SUBCOMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${sub}\\b`, 'm'));
  });

  it('prints the usage on stderr and exits 2 without a subcommand or with an unknown one, calling nothing', async () => {
    for (const args of [[], ['deploy'], ['--apply']]) {
      const result = await run(SCRIPT, args, cluster.env());
      expect({ args, exitCode: result.exitCode, stdout: result.stdout }).toEqual({ args, exitCode: 2, stdout: '' });
      expect(result.stderr).toContain('usage: ./minikube.sh start');
      if (args.length > 0) expect(result.stderr).toContain(`unknown command '${args[0]}'`);
    }
    expect(cluster.calls()).toEqual([]);
  });

  it('says which tool is missing, exit 2', async () => {
    // A PATH with the basic tools only: no minikube, no kubectl.
    const bare = join(cluster.dir, 'bare');
    mkdirSync(bare);
    for (const tool of ['dirname', 'date', 'tail'])
      symlinkSync(execFileSync('which', [tool], { encoding: 'utf8' }).trim(), join(bare, tool));
    expect(await run('/bin/bash', [SCRIPT, 'stop'], { PATH: bare })).toMatchObject({
      exitCode: 2,
      stderr: expect.stringContaining('minikube is not on PATH'),
    });
    expect(await run('/bin/bash', [SCRIPT, 'run-once'], { PATH: bare })).toMatchObject({
      exitCode: 2,
      stderr: expect.stringContaining('kubectl is not on PATH'),
    });
  });

  it('start, load-images and stop work on a cluster of their own profile; start passes its arguments on', async () => {
    for (const args of [['start', '--driver=docker', '--cpus=2'], ['load-images'], ['stop']]) {
      expect(await run(SCRIPT, args, cluster.env())).toMatchObject({ exitCode: 0 });
    }
    expect(cluster.calls()).toEqual([
      'minikube start --profile job-logs --container-runtime=containerd --driver=docker --cpus=2',
      'minikube image build --profile job-logs --tag job-logs-s3/compactor:dev .',
      'minikube stop --profile job-logs',
    ]);
  });

  it('apply refuses to start without LOCALSTACK_AUTH_TOKEN, exit 2, before any kubectl call', async () => {
    const result = await run(SCRIPT, ['apply'], cluster.env());
    expect(result).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('LOCALSTACK_AUTH_TOKEN is not set') });
    expect(cluster.calls()).toEqual([]);
  });

  it('apply stores the token as a Secret without putting it on any command line, then applies the minikube overlay', async () => {
    const token = 'ls-SECRET-token-4242';
    const result = await run(SCRIPT, ['apply'], cluster.env({ LOCALSTACK_AUTH_TOKEN: token }));
    expect(result.exitCode).toBe(0);
    const calls = cluster.calls();
    expect(calls.join('\n')).not.toContain(token);
    expect(result.stdout + result.stderr).not.toContain(token);
    expect(readFileSync(cluster.applied, 'utf8')).toContain(
      Buffer.from(`LOCALSTACK_AUTH_TOKEN=${token}\n`).toString('base64'),
    );
    // The two sides of a pipe start together: the first four calls come in either order.
    const seen = calls.map((c) => c.replace(/--from-env-file=\S+/, '--from-env-file=FILE'));
    expect(seen.slice(0, 4).sort()).toEqual(
      [
        'kubectl --context job-logs create namespace job-logs --dry-run=client --output yaml',
        'kubectl --context job-logs apply --filename -',
        'kubectl --context job-logs --namespace job-logs create secret generic localstack-auth --from-env-file=FILE --dry-run=client --output yaml',
        'kubectl --context job-logs --namespace job-logs apply --filename -',
      ].sort(),
    );
    expect(seen.slice(4)).toEqual([
      'kubectl --context job-logs apply --kustomize k8s/overlays/minikube',
      'kubectl --context job-logs --namespace job-logs rollout status deployment/localstack --timeout=300s',
    ]);
  });

  it('run-once creates a job from the CronJob, follows its logs and exits 0 once it completed', async () => {
    const result = await run(SCRIPT, ['run-once'], cluster.env());
    expect(result).toMatchObject({ exitCode: 0, stdout: expect.stringContaining('compactor says hello') });
    const calls = cluster.calls();
    const job = /create job --from=cronjob\/compactor (compactor-manual-\d+)$/.exec(calls[0] ?? '')?.[1];
    expect(calls[0]).toMatch(/^kubectl --context job-logs --namespace job-logs-compactor create job/);
    expect(job).toBeDefined();
    expect(calls).toContain(`kubectl --context job-logs --namespace job-logs-compactor logs --follow job/${job}`);
    expect(result.stdout).toContain(`job/${job}: complete`);
  });

  it('run-once exits 1 when the job failed, naming it', async () => {
    const failing = new FakeCluster('Failed');
    try {
      const result = await run(SCRIPT, ['run-once'], failing.env());
      expect(result).toMatchObject({ exitCode: 1, stderr: expect.stringMatching(/job\/compactor-manual-\d+ failed/) });
    } finally {
      failing.remove();
    }
  });

  it('logs follows the newest job, or the one named', async () => {
    expect(await run(SCRIPT, ['logs'], cluster.env())).toMatchObject({ exitCode: 0 });
    expect(await run(SCRIPT, ['logs', 'compactor-29000001'], cluster.env())).toMatchObject({ exitCode: 0 });
    expect(cluster.calls().filter((c) => c.includes(' logs '))).toEqual([
      'kubectl --context job-logs --namespace job-logs-compactor logs --follow job/compactor-manual-1700000000',
      'kubectl --context job-logs --namespace job-logs-compactor logs --follow job/compactor-29000001',
    ]);
  });

  it("clean deletes the jobs, the demo's job pods, the token Secret and the overlay", async () => {
    expect(await run(SCRIPT, ['clean'], cluster.env())).toMatchObject({ exitCode: 0 });
    expect(cluster.calls()).toEqual([
      'kubectl --context job-logs --namespace job-logs-compactor delete jobs --all --ignore-not-found',
      'kubectl --context job-logs --namespace default delete pods --selector app.kubernetes.io/name=job-logs-demo --ignore-not-found',
      'kubectl --context job-logs --namespace job-logs delete secret localstack-auth --ignore-not-found',
      'kubectl --context job-logs delete --kustomize k8s/overlays/minikube --ignore-not-found',
    ]);
  });
  describe('demo', () => {
    const demoEnv = (reader: string): Record<string, string> =>
      cluster.env({ LOG_READER: reader, POLL_SECONDS: '0', UPLOAD_TIMEOUT: '20' });
    /** Whether the port-forward the demo started has ended (gone, or a zombie nobody reaped yet). */
    const forwardEnded = (): boolean => {
      const pid = readFileSync(cluster.forwardPid, 'utf8').trim();
      try {
        return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
      } catch {
        return true;
      }
    };

    it('runs a job like the platform, follows it from the host through a port-forward, waits for its last upload, runs a pass, and reads it', async () => {
      const reader = cluster.logReader(3);
      const result = await run(SCRIPT, ['demo'], demoEnv(reader));
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);

      // The job: the manifest with its name in place, container named like the pod.
      const applied = readFileSync(cluster.applied, 'utf8');
      const pod = /name: (job-demo-\d+)\n/.exec(applied)?.[1] as string;
      expect(pod).toBeDefined();
      expect(applied).not.toContain('JOB_NAME');
      const manifest = parse(applied) as Json;
      expect(field(manifest, 'spec', 'containers', 0, 'name')).toBe(pod);
      expect(field(manifest, 'metadata', 'namespace')).toBe('default');

      const s3 = '--bucket job-logs --endpoint http://127.0.0.1:14566';
      const calls = cluster.calls().filter((c) => !c.startsWith('  key id'));
      expect(calls.slice(0, 3)).toEqual([
        'kubectl --context job-logs --namespace job-logs rollout status deployment/localstack --timeout=60s',
        'kubectl --context job-logs --namespace job-logs port-forward service/localstack 14566:4566',
        'kubectl --context job-logs apply --filename -',
      ]);
      const rest = calls.slice(3).map((c) => (c.startsWith('kubectl') ? c.replace(/compactor-manual-\d+/, 'JOB') : c));
      const tail1 = `log-reader logs ${pod} --tail 1 ${s3}`;
      expect(rest.slice(0, 2)).toEqual([tail1, tail1]); // nothing yet, then a first upload
      expect(rest[2]).toBe(`log-reader logs ${pod} --follow --namespace default --context job-logs ${s3}`);
      expect(rest[3]).toBe(tail1); // the last line has arrived: a pass now
      expect(rest[4]).toBe(
        'kubectl --context job-logs --namespace job-logs-compactor create job --from=cronjob/compactor JOB',
      );
      expect(rest.slice(-2)).toEqual([`log-reader logs ${pod} --tail 5 ${s3}`, `log-reader logs ${pod} ${s3}`]);
      // LocalStack's dummy keys reach log-reader through its environment, never its arguments.
      expect(cluster.calls().filter((c) => c.startsWith('  key id'))).toEqual(
        Array.from({ length: 6 }, () => '  key id from env: test'),
      );
      expect(calls.join('\n')).not.toMatch(/AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID/);
      expect(result.stdout).toContain(`job/compactor-manual-`);
      expect(result.stdout).toContain(`=== log-reader logs ${pod}: 2 lines`);
      expect(forwardEnded()).toBe(true);
    });

    it('exits 1 naming the job when its last line never reaches the bucket, and leaves no port-forward behind', async () => {
      const reader = cluster.logReader('never');
      const result = await run(SCRIPT, ['demo'], demoEnv(reader));
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(
        /^minikube\.sh: job (job-demo-\d+): its last line \(\1: done\) not in bucket job-logs after 20s/,
      );
      // No pass ran over a log that had not arrived whole.
      expect(cluster.calls().filter((c) => c.includes('create job'))).toEqual([]);
      expect(forwardEnded()).toBe(true);
    });

    it('says to build first when there is no log-reader, exit 2, before any kubectl call', async () => {
      const result = await run(SCRIPT, ['demo'], cluster.env({ LOG_READER: join(cluster.dir, 'missing') }));
      expect(result).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('run `make build` first') });
      expect(cluster.calls()).toEqual([]);
    });
  });
});
