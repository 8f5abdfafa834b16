// docker-compose.yml, the local development stack, checked without Docker: its services,
// their order, the one bucket they share, the endpoints, the LocalStack token, environment
// names the CLIs really read, and then each stack's commands run for real, in order, against
// the test S3 server (endpoint, bucket and credentials rewritten, nothing else).
import { accessSync, constants, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { parse } from 'yaml';
import { runEnvNames } from 'compactor';
import { main as logReaderMain } from '@platform/log-reader/cli';
import { runProcess, type CliResult } from './support/cli.js';
import { pinnedLocalStackImage } from './support/localstack-release.js';
import { createTestBucket } from './support/s3.js';

const ROOT = resolve(__dirname, '..');
const COMPOSE_FILE = resolve(ROOT, 'docker-compose.yml');
const PROJECT_IMAGE = 'job-logs-s3/compactor:dev';
const BUCKET = 'job-logs';
/** What the AWS SDK reads itself: the only names outside the CLIs' own a service may set. */
const AWS_STANDARD = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_S3',
];

interface Stack {
  readonly name: string;
  /** Services with no profile run on a plain `docker compose up`. */
  readonly profile: string | undefined;
  readonly server: string;
  readonly endpoint: string;
  readonly port: number;
  readonly seeder: string;
  readonly dryRun: string;
  readonly compactor: string;
  readonly reader: string;
}

const STACKS: readonly Stack[] = [
  {
    name: 'LocalStack',
    profile: undefined,
    server: 'localstack',
    endpoint: 'http://localstack:4566',
    port: 4566,
    seeder: 'seeder',
    dryRun: 'compactor-dry-run',
    compactor: 'compactor',
    reader: 'reader',
  },
  {
    name: 'moto',
    profile: 'moto',
    server: 'moto',
    endpoint: 'http://moto:5000',
    port: 5000,
    seeder: 'moto-seeder',
    dryRun: 'moto-compactor-dry-run',
    compactor: 'moto-compactor',
    reader: 'moto-reader',
  },
];

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(value: unknown, where: string): Json {
  if (!isRecord(value)) throw new Error(`${where}: expected a mapping, got ${JSON.stringify(value)}`);
  return value;
}

function strings(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw new Error(`${where}: expected a list of strings (exec form), got ${JSON.stringify(value)}`);
  }
  return value;
}

// `merge: true` resolves the `<<: *anchor` keys as Compose does.
const composeText = readFileSync(COMPOSE_FILE, 'utf8');
const compose = record(parse(composeText, { merge: true }), 'docker-compose.yml');
const services = record(compose['services'], 'services');

function service(name: string): Json {
  return record(services[name], `services.${name}`);
}

/** A service's environment as a map (Compose also allows a list of NAME=value). */
function environment(name: string): Record<string, string> {
  const env = service(name)['environment'];
  if (env === undefined) return {};
  const entries = Array.isArray(env)
    ? strings(env, `services.${name}.environment`).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])
    : Object.entries(record(env, `services.${name}.environment`));
  return Object.fromEntries(entries.map(([k, v]) => [String(k), String(v)]));
}

function command(name: string): string[] {
  return strings(service(name)['command'], `services.${name}.command`);
}

/** `--flag value` in an exec-form command. */
function flagValue(args: readonly string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at < 0 ? undefined : args[at + 1];
}

function dependsOn(name: string): Record<string, string> {
  const deps = record(service(name)['depends_on'], `services.${name}.depends_on`);
  return Object.fromEntries(
    Object.entries(deps).map(([dep, spec]) => [
      dep,
      String(record(spec, `services.${name}.depends_on.${dep}`)['condition']),
    ]),
  );
}

function profiles(name: string): string[] {
  const p = service(name)['profiles'];
  return p === undefined ? [] : strings(p, `services.${name}.profiles`);
}

/** The environment variable names a CLI's options read, from its own `--help` (`env: NAME`). */
async function logReaderEnvNames(): Promise<string[]> {
  let help = '';
  const stdout = new Writable({
    write(chunk: Buffer, _encoding, done) {
      help += chunk.toString();
      done();
    },
  });
  const stderr = new Writable({ write: (_chunk, _encoding, done) => done() });
  expect(await logReaderMain(['cat', '--help'], { stdout, stderr })).toBe(0);
  return [...help.matchAll(/\(env:\s+([A-Z0-9_]+)\)/g)].map((m) => m[1] as string);
}

describe('docker-compose.yml', () => {
  it('runs the LocalStack stack on a plain `up`, and the same steps on moto under the "moto" profile', () => {
    for (const stack of STACKS) {
      for (const name of [stack.server, stack.seeder, stack.dryRun, stack.compactor, stack.reader]) {
        expect({ name, profiles: profiles(name) }).toEqual({
          name,
          profiles: stack.profile === undefined ? [] : [stack.profile],
        });
      }
    }
    // The release the LocalStack test tier runs (scripts/install-localstack.sh), never `latest`.
    expect(service('localstack')['image']).toBe(pinnedLocalStackImage());
    expect(environment('localstack')['SERVICES']).toBe('s3');
    expect(service('moto')['image']).toMatch(/^motoserver\/moto(:|$)/);
  });

  it('pins every image it pulls to a version: none is `latest` or untagged', () => {
    const tagOf = (image: string): string | undefined =>
      /:([\w.-]+)$/.exec(image.slice(image.lastIndexOf('/') + 1))?.[1];
    const unpinned = Object.keys(services)
      .map((name) => ({ name, image: String(service(name)['image'] ?? '') }))
      .filter(({ image }) => image !== '' && [undefined, 'latest'].includes(tagOf(image)));
    expect(unpinned).toEqual([]);
  });

  it.each(STACKS)(
    '$name: starts each step only once the one before it is done: server healthy, seeded, dry run, run, read',
    (stack) => {
      expect(service(stack.server)['healthcheck']).toBeDefined();
      expect(dependsOn(stack.seeder)).toEqual({ [stack.server]: 'service_healthy' });
      expect(dependsOn(stack.dryRun)).toEqual({ [stack.seeder]: 'service_completed_successfully' });
      expect(dependsOn(stack.compactor)).toEqual({ [stack.dryRun]: 'service_completed_successfully' });
      expect(dependsOn(stack.reader)).toEqual({ [stack.compactor]: 'service_completed_successfully' });
      expect(command(stack.dryRun)).toEqual(['run', '--dry-run']);
      expect(command(stack.compactor)).toEqual(['run']);
      expect(command(stack.reader)[0]).toBe('cat');
    },
  );

  it('has LocalStack create the bucket that every step then uses, with an executable init hook, and healthy only once it exists', () => {
    const hook = strings(service('localstack')['volumes'], 'services.localstack.volumes').find((v) =>
      v.includes('/etc/localstack/init/ready.d/'),
    );
    expect(hook).toMatch(
      /^\.\/k8s\/overlays\/minikube\/localstack-init\.sh:\/etc\/localstack\/init\/ready\.d\/[\w-]+\.sh(:ro)?$/,
    );
    const script = resolve(ROOT, 'k8s/overlays/minikube/localstack-init.sh');
    accessSync(script, constants.X_OK); // LocalStack runs only executable hooks
    expect(readFileSync(script, 'utf8')).toMatch(/awslocal s3 mb "s3:\/\/\$bucket"/);
    expect(readFileSync(script, 'utf8')).toMatch(/bucket="\$\{JOB_LOGS_BUCKET:\?/);
    expect(environment('localstack')['JOB_LOGS_BUCKET']).toBe(BUCKET);
    expect(
      strings(record(service('localstack')['healthcheck'], 'healthcheck')['test'], 'healthcheck.test').at(-1),
    ).toBe(`http://localhost:4566/${BUCKET}`);

    for (const stack of STACKS) {
      expect({ service: stack.seeder, bucket: flagValue(command(stack.seeder), '--bucket') }).toEqual({
        service: stack.seeder,
        bucket: BUCKET,
      });
      for (const name of [stack.dryRun, stack.compactor])
        expect({ service: name, bucket: environment(name)['COMPACTOR_BUCKET'] }).toEqual({
          service: name,
          bucket: BUCKET,
        });
      expect({ service: stack.reader, bucket: environment(stack.reader)['LOG_READER_BUCKET'] }).toEqual({
        service: stack.reader,
        bucket: BUCKET,
      });
    }
  });

  it.each(STACKS)('$name: points every step at its own server ($endpoint), published on 127.0.0.1 only', (stack) => {
    expect(environment(stack.seeder)['AWS_ENDPOINT_URL_S3']).toBe(stack.endpoint);
    expect(environment(stack.dryRun)['COMPACTOR_ENDPOINT']).toBe(stack.endpoint);
    expect(environment(stack.compactor)['COMPACTOR_ENDPOINT']).toBe(stack.endpoint);
    expect(environment(stack.reader)['AWS_ENDPOINT_URL_S3']).toBe(stack.endpoint);
    expect(strings(service(stack.server)['ports'], `services.${stack.server}.ports`)).toEqual([
      `127.0.0.1:${stack.port}:${stack.port}`,
    ]);
  });

  it("takes LocalStack's auth token from the user's environment, never from the file, and gives it to the localstack service only", () => {
    expect(environment('localstack')['LOCALSTACK_AUTH_TOKEN']).toMatch(/^\$\{LOCALSTACK_AUTH_TOKEN(:?-[^}]*)?\}$/);
    const holders = Object.keys(services).filter(
      (name) =>
        Object.values(environment(name)).some((v) => v.includes('LOCALSTACK_AUTH_TOKEN')) ||
        'LOCALSTACK_AUTH_TOKEN' in environment(name),
    );
    expect(holders).toEqual(['localstack']);
    // `${VAR:?}` would make Compose refuse the moto profile too when the token is not set.
    expect(composeText).not.toMatch(/\$\{LOCALSTACK_AUTH_TOKEN:?\?/);
  });

  it('sets only environment variables the CLIs read (their own options or the AWS SDK), with dummy credentials', async () => {
    const compactorNames = new Set([...runEnvNames(), ...AWS_STANDARD]);
    const readerNames = new Set([...(await logReaderEnvNames()), ...AWS_STANDARD]);
    expect(readerNames).toContain('LOG_READER_BUCKET'); // the help parse found the CLI's names
    for (const stack of STACKS) {
      for (const [name, known] of [
        [stack.dryRun, compactorNames],
        [stack.compactor, compactorNames],
        [stack.reader, readerNames],
        [stack.seeder, new Set(AWS_STANDARD)],
      ] as const) {
        const env = environment(name);
        expect({ service: name, unknown: Object.keys(env).filter((k) => !known.has(k)) }).toEqual({
          service: name,
          unknown: [],
        });
        expect({ service: name, key: env['AWS_ACCESS_KEY_ID'], secret: env['AWS_SECRET_ACCESS_KEY'] }).toEqual({
          service: name,
          key: 'test',
          secret: 'test',
        });
      }
    }
  });

  it.each(STACKS)(
    '$name: runs the compactor and log-reader from the project image, built once, and the seeder from this checkout',
    (stack) => {
      expect(service(stack.dryRun)).toMatchObject({ build: '.', image: PROJECT_IMAGE });
      for (const name of [stack.compactor, stack.reader]) {
        expect(service(name)['image']).toBe(PROJECT_IMAGE);
        expect(service(name)['build']).toBeUndefined(); // Compose skips pulling an image another service builds
      }
      expect(service(stack.dryRun)['entrypoint']).toBeUndefined(); // the image's: compactor
      expect(strings(service(stack.reader)['entrypoint'], 'entrypoint').at(-1)).toBe('log-reader');
      expect(service(stack.seeder)).toMatchObject({ working_dir: '/repo', volumes: ['./:/repo:ro'] });
      expect(command(stack.seeder).slice(0, 2)).toEqual(['node', 'packages/testkit/dist/seed.js']);
    },
  );

  it('fits the Dockerfile: its ENTRYPOINT runs compactor under tini, and the seeders use its node base', () => {
    const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');
    const instruction = (name: string): string[] =>
      strings(
        JSON.parse(new RegExp(`^${name} (\\[.*\\])$`, 'm').exec(dockerfile)?.[1] ?? 'null'),
        `Dockerfile ${name}`,
      );
    const entrypoint = instruction('ENTRYPOINT');
    expect(entrypoint.at(-1)).toBe('compactor'); // the compactor services give only `run ...`
    for (const stack of STACKS)
      expect(strings(service(stack.reader)['entrypoint'], 'entrypoint')).toEqual([
        ...entrypoint.slice(0, -1),
        'log-reader',
      ]);
    expect(instruction('CMD')).toEqual(['run']);
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    for (const stack of STACKS) expect(service(stack.seeder)['image']).toBe(base);
  });
});

/** Runs a step as its container would, with its environment only (plus PATH and HOME). */
function runStep(file: string, args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  return runProcess(process.execPath, [file, ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
    },
  });
}

describe.each(STACKS)("docker-compose.yml's $name steps, run against the test S3 server", (stack) => {
  /** The step's environment and arguments with the endpoint, bucket and credentials of the test server. */
  function rewrite(name: string, bucket: string): { env: Record<string, string>; args: string[] } {
    const env = Object.fromEntries(
      Object.entries(environment(name)).map(([k, v]) => [
        k,
        v === stack.endpoint ? (process.env['S3_TEST_ENDPOINT'] as string) : v === BUCKET ? bucket : v,
      ]),
    );
    env['AWS_ACCESS_KEY_ID'] = process.env['AWS_ACCESS_KEY_ID'] as string;
    env['AWS_SECRET_ACCESS_KEY'] = process.env['AWS_SECRET_ACCESS_KEY'] as string;
    return { env, args: command(name).map((a) => (a === BUCKET ? bucket : a)) };
  }

  it('seeds, dry-runs, compacts and reads the pod the seeder wrote, each step exiting 0', async () => {
    // On LocalStack the init hook creates the bucket; on moto, seed.js does.
    const bucket =
      stack.server === 'localstack'
        ? await createTestBucket('compose-localstack')
        : `compose-moto-${Date.now().toString(36)}`;

    const seeder = rewrite(stack.seeder, bucket);
    const [, script, ...seedArgs] = seeder.args;
    const seeded = await runStep(resolve(ROOT, script as string), seedArgs, seeder.env);
    expect(seeded).toMatchObject({ exitCode: 0, stderr: '' });
    const reader = rewrite(stack.reader, bucket);
    const pod = reader.args[1] as string;
    expect(seeded.stdout).toMatch(new RegExp(`for pods .*\\b${pod}\\b`));

    const compactorBin = resolve(ROOT, 'packages/compactor/bin/compactor.js');
    const dry = rewrite(stack.dryRun, bucket);
    const dryRun = await runStep(compactorBin, dry.args, dry.env);
    expect({ exitCode: dryRun.exitCode, stderr: dryRun.exitCode === 0 ? '' : dryRun.stderr }).toEqual({
      exitCode: 0,
      stderr: '',
    });
    expect(dryRun.stdout).toContain(`merge ${pod}: would merge`);

    const run = rewrite(stack.compactor, bucket);
    const pass = await runStep(compactorBin, run.args, run.env);
    expect({ exitCode: pass.exitCode, stderr: pass.exitCode === 0 ? '' : pass.stderr }).toEqual({
      exitCode: 0,
      stderr: '',
    });
    const summary = record(JSON.parse(pass.stdout.trim().split('\n').at(-1) as string), 'summary');
    expect(record(summary['pods'], 'summary.pods')).toMatchObject({ failed: 0, merged: 3 });

    expect(strings(service(stack.reader)['entrypoint'], 'entrypoint').at(-1)).toBe('log-reader');
    const cat = await runStep(resolve(ROOT, 'packages/log-reader/bin/log-reader.js'), reader.args, reader.env);
    expect({ exitCode: cat.exitCode, stderr: cat.stderr }).toEqual({ exitCode: 0, stderr: '' });
    const lines = cat.stdout.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(100); // 10 minutes of a training job's log
    expect(lines.every((l) => /^\d{4}-\d\d-\d\dT\S+Z /.test(l))).toBe(true); // --timestamps
  });
});
