// The Kubernetes manifests in k8s/, checked offline: each overlay builds with kustomize, every
// object it makes is valid against the Kubernetes API's schemas (kubernetes-models) and has
// no field the API does not know, and what the deployment relies on holds: the CronJob's
// args with its ConfigMap parse with the compactor's own CLI parser (every shard's, for the
// Indexed variant), Fluent Bit uploads to the compactor's bucket, every container runs
// locked down with resources set, RBAC grants only what is needed, and no real secret ships;
// each workload has an S3 identity of its own whose IAM policy (k8s/README.md) allows what its
// code sends and no more, the compactor runs in a namespace that enforces "restricted", Fluent
// Bit has a priority class, production pins images by digest, and the demo's job is a job.
// Needs kustomize: .tools/bin/kustomize (`make tools`) or kubectl on PATH. No S3 server.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type {
  V1ClusterRole,
  V1ConfigMap,
  V1Container,
  V1CronJob,
  V1DaemonSet,
  V1Deployment,
  V1PodSpec,
  V1Namespace,
  V1PolicyRule,
  V1PriorityClass,
  V1RoleBinding,
  V1Secret,
  V1Service,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseRunArgs, runEnvNames, type Config } from 'compactor';
import {
  entry,
  expandEnvVars,
  FLUENT_BIT_DIR,
  namespacesOfJobLogPaths,
  parseClassicConfig,
  pluginSection,
  REPO_ROOT,
  splitClist,
  tailReads,
} from './support/fluent-bit.js';
import {
  actionsAllowed,
  IAM_ACTIONS_OF_COMMAND,
  iamPoliciesOf,
  type IamPolicy,
  resourcesAllowed,
  restrictedProblems,
  s3CommandsIn,
} from './support/k8s-policy.js';
import { pinnedLocalStackImage } from './support/localstack-release.js';

const OVERLAYS = ['production', 'production-sharded', 'minikube'] as const;
type Overlay = (typeof OVERLAYS)[number];
const PRODUCTION: readonly Overlay[] = ['production', 'production-sharded'];

/** Fluent Bit's namespace (privileged: hostPath); LocalStack's too on minikube. */
const NAMESPACE = 'job-logs';
/** The compactor's and the readers' ServiceAccount's namespace (restricted). */
const COMPACTOR_NAMESPACE = 'job-logs-compactor';
const MINIKUBE_ENDPOINT = 'http://localstack.job-logs.svc:4566';

interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly annotations?: Record<string, string>;
  };
}

const built = new Map<Overlay, K8sObject[]>();
const problems = new Map<Overlay, string[]>();

beforeAll(() => {
  for (const overlay of OVERLAYS)
    built.set(overlay, parseManifests(kustomizeBuild(`k8s/overlays/${overlay}`), overlay));
  const all = OVERLAYS.flatMap((o) => objects(o));
  const results = validateWithSchemas(all);
  let i = 0;
  for (const overlay of OVERLAYS) {
    problems.set(
      overlay,
      objects(overlay).flatMap((o) => {
        const problem = results[i++];
        return problem === null || problem === undefined ? [] : [`${describe_(o)}: ${problem}`];
      }),
    );
  }
});

describe.each(OVERLAYS)('k8s/overlays/%s', (overlay) => {
  it('builds into objects that are valid against the Kubernetes API schemas', () => {
    expect(objects(overlay).length).toBeGreaterThan(0);
    expect(problems.get(overlay)).toEqual([]);
  });

  it('has no field the Kubernetes API does not know (a typo would be dropped silently by the server)', () => {
    expect(objects(overlay).flatMap((o) => unknownFields(o))).toEqual([]);
  });

  it('runs every container of every workload locked down, with resources and a pinned image', () => {
    const found: string[] = [];
    for (const { where, spec } of podSpecs(overlay)) {
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        const id = `${where}/${c.name}`;
        found.push(id);
        const exception = SECURITY_EXCEPTIONS[id];
        const allowedHere = exception === undefined || exception.production === true || !PRODUCTION.includes(overlay);
        expect(allowedHere ? 'allowed' : `${id} in production: ${exception.reason}`).toBe('allowed');
        expect({ id, ...securityOf(spec, c, exception?.relaxed ?? []) }).toEqual({
          id,
          ...LOCKED_DOWN(exception?.relaxed ?? []),
        });
        expect({ id, resources: resourcesSet(c) }).toEqual({
          id,
          resources: 'requests cpu+memory, limits memory >= request',
        });
        expect({ id, image: imageProblem(c.image ?? '') }).toEqual({ id, image: undefined });
      }
      expect({
        where,
        hostNetwork: spec.hostNetwork ?? false,
        hostPID: spec.hostPID ?? false,
        hostIPC: spec.hostIPC ?? false,
      }).toEqual({ where, hostNetwork: false, hostPID: false, hostIPC: false });
    }
    expect(found).toEqual(expect.arrayContaining(['CronJob/compactor/compactor', 'DaemonSet/fluent-bit/fluent-bit']));
  });

  it('runs the compactor hourly, one pass at a time, cut off before the next one is due', () => {
    const cron = compactorCronJob(overlay);
    const job = cron.spec?.jobTemplate.spec;
    expect(cron.spec?.schedule).toMatch(/^([0-5]?\d) \* \* \* \*$/);
    expect(cron.spec?.concurrencyPolicy).toBe('Forbid');
    expect(cron.spec?.startingDeadlineSeconds).toBeGreaterThan(0);
    expect(cron.spec?.successfulJobsHistoryLimit).toBeGreaterThan(0);
    expect(cron.spec?.failedJobsHistoryLimit).toBeGreaterThan(0);
    expect(job?.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(job?.activeDeadlineSeconds).toBeLessThan(3600);
    // An Indexed Job counts retries per index (the sharded variant, below).
    expect(job?.completionMode === 'Indexed' ? job.backoffLimitPerIndex : job?.backoffLimit).toBeGreaterThanOrEqual(0);
    // Exit 2 (usage, set-up) fails the Job at once: a retry would fail the same way.
    expect(job?.podFailurePolicy?.rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'FailJob',
          onExitCodes: expect.objectContaining({ operator: 'In', values: [2] }),
        }),
      ]),
    );
    const pod = job?.template.spec;
    expect(pod?.restartPolicy).toBe('Never');
    expect(pod?.serviceAccountName).toBe('compactor');
    // A tmpfs at /tmp on a read-only root filesystem.
    const container = compactorContainer(overlay);
    const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
    expect(pod?.volumes?.find((v) => v.name === tmp?.name)?.emptyDir?.medium).toBe('Memory');
  });

  it("keeps the compactor's V8 heap below its memory limit", () => {
    const container = compactorContainer(overlay);
    const heap = /--max-old-space-size=(\d+)/.exec(container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '');
    expect(heap).not.toBeNull();
    const limit = quantityBytes(container.resources?.limits?.['memory'] ?? '0');
    expect(Number(heap?.[1]) * 2 ** 20).toBeLessThanOrEqual(limit * 0.75);
  });

  it('gives the compactor only settings its CLI knows, and args that parse with them into the intended config', async () => {
    const settings = compactorSettings(overlay);
    const known = new Set(runEnvNames());
    expect(Object.keys(settings).filter((name) => !known.has(name))).toEqual([]);

    const configs = await compactorConfigs(overlay);
    const cron = compactorCronJob(overlay);
    const indexed = cron.spec?.jobTemplate.spec?.completionMode === 'Indexed';
    expect(indexed).toBe(overlay === 'production-sharded');
    for (const [i, config] of configs.entries()) {
      expect(config.bucket).toBe(settings['COMPACTOR_BUCKET']);
      expect(config.bucket).not.toBe('');
      expect(config.region).toBe(settings['COMPACTOR_REGION']);
      expect(config.kube).toBe('default');
      expect(config.dryRun).toBe(false);
      expect(config.unsafeWithoutConditionalWrites).toBe(false);
      expect(config.endpoint).toBe(overlay === 'minikube' ? MINIKUBE_ENDPOINT : undefined);
      expect(config.shard).toEqual(indexed ? { index: i, count: configs.length } : undefined);
    }
    if (indexed) {
      expect(configs.length).toBeGreaterThan(1);
      expect(cron.spec?.jobTemplate.spec?.parallelism).toBe(configs.length);
    }
  });

  it('grants the compactor `get` on pods and readers `get` on pods and pods/log, in the job namespaces only, and Fluent Bit read access to pods and namespaces', () => {
    expect(rulesOf(overlay, 'job-logs-compactor')).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]);
    expect(rulesOf(overlay, 'job-logs-fluent-bit')).toEqual([
      { apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] },
    ]);
    const bindings = objects(overlay).filter(isKind<V1RoleBinding>('RoleBinding', 'ClusterRoleBinding'));
    const compactorBindings = bindings.filter((b) => b.roleRef.name === 'job-logs-compactor');
    expect(compactorBindings.length).toBeGreaterThan(0);
    for (const b of compactorBindings) {
      // A ClusterRoleBinding would let it read every pod of the cluster.
      expect(`${b.kind} ${b.metadata?.namespace}`).toMatch(/^RoleBinding (?!job-logs(-compactor)?$)[a-z0-9-]+$/);
      // The ServiceAccount the CronJob runs as, in the CronJob's own namespace.
      expect(b.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'compactor', namespace: compactorCronJob(overlay).metadata?.namespace },
      ]);
    }
    // Readers (`log-reader logs -f`, services with `follow`): get a pod and its log, nothing
    // else, in the job namespaces, the same ones the compactor is bound in.
    expect(rulesOf(overlay, 'job-logs-reader')).toEqual([
      { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get'] },
    ]);
    expect(find<V1ServiceAccount>(overlay, 'ServiceAccount', 'log-reader').metadata?.namespace).toBe(
      COMPACTOR_NAMESPACE,
    );
    const readerBindings = bindings.filter((b) => b.roleRef.name === 'job-logs-reader');
    expect(readerBindings.length).toBeGreaterThan(0);
    for (const b of readerBindings) {
      expect(`${b.kind} ${b.metadata?.namespace}`).toMatch(/^RoleBinding (?!job-logs(-compactor)?$)[a-z0-9-]+$/);
      expect(b.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'job-logs-reader',
      });
      expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: 'log-reader', namespace: COMPACTOR_NAMESPACE }]);
    }
    const namespacesOf = (list: readonly V1RoleBinding[]): string[] =>
      list.map((b) => b.metadata?.namespace ?? '').sort();
    expect(namespacesOf(readerBindings)).toEqual(namespacesOf(compactorBindings));
    // Nothing anywhere grants more than reads, or any access to Secrets.
    const everyRule = objects(overlay)
      .filter(isKind<V1ClusterRole>('ClusterRole', 'Role'))
      .flatMap((r) => r.rules ?? []);
    for (const rule of everyRule) {
      expect(rule.verbs.filter((v) => !['get', 'list', 'watch'].includes(v))).toEqual([]);
      expect(rule.resources ?? []).not.toContain('secrets');
      expect(rule.resources ?? []).not.toContain('*');
    }
  });

  it("makes Fluent Bit upload with the shipped configuration to the compactor's bucket", () => {
    const ds = find<V1DaemonSet>(overlay, 'DaemonSet', 'fluent-bit');
    const spec = ds.spec?.template.spec as V1PodSpec;
    const container = spec.containers.find((c) => c.name === 'fluent-bit') as V1Container;
    expect(spec.serviceAccountName).toBe('fluent-bit');

    // The ConfigMap it mounts holds exactly the files test/fluent-bit-keys.test.ts checks.
    const configVolume = spec.volumes?.find((v) => v.configMap !== undefined);
    const configMap = find<V1ConfigMap>(overlay, 'ConfigMap', configVolume?.configMap?.name ?? '(none)');
    for (const file of ['fluent-bit.conf', 'parsers.conf', 'seed-index.sh'])
      expect(configMap.data?.[file]).toBe(readFileSync(resolve(FLUENT_BIT_DIR, file), 'utf8'));
    const mount = container.volumeMounts?.find((m) => m.name === configVolume?.name);
    // seed-index.sh (run by the shell the init container installs) then Fluent Bit: test/fluent-bit-keys.test.ts.
    expect(container.command?.slice(1)).toEqual([
      `${mount?.mountPath}/seed-index.sh`,
      '/fluent-bit/bin/fluent-bit',
      `--config=${mount?.mountPath}/fluent-bit.conf`,
    ]);
    const conf = parseClassicConfig(configMap.data?.['fluent-bit.conf'] ?? '', 'fluent-bit.conf');
    const service = conf.find((s) => s.name === 'SERVICE');
    expect(service && entry(service, 'Parsers_File')).toBe(`${mount?.mountPath}/parsers.conf`);

    // What it writes (tail offsets, the chunks it has read, the s3 buffer and $INDEX) is on a
    // writable volume: the root filesystem is read-only. What it reads is mounted.
    const tail = pluginSection(conf, 'INPUT', 'tail');
    const s3 = pluginSection(conf, 'OUTPUT', 's3');
    for (const path of [
      entry(tail, 'DB'),
      `${entry(s3, 'store_dir')}/`,
      `${service && entry(service, 'storage.path')}/`,
    ]) {
      const m = mountOf(container, path);
      expect({ path, mounted: m !== undefined, readOnly: m?.readOnly ?? false }).toEqual({
        path,
        mounted: true,
        readOnly: false,
      });
    }

    // Every ${VAR} of the config comes from its environment ConfigMap, and names the
    // compactor's bucket, region and endpoint.
    const envMap = find<V1ConfigMap>(
      overlay,
      'ConfigMap',
      container.envFrom?.find((e) => e.configMapRef !== undefined)?.configMapRef?.name ?? '(none)',
    );
    const env = envMap.data ?? {};
    const vars = [...(configMap.data?.['fluent-bit.conf'] ?? '').matchAll(/\$\{([A-Z0-9_]+)\}/g)].map(
      (m) => m[1] as string,
    );
    expect(vars.filter((v) => env[v] === undefined || env[v] === '')).toEqual([]);
    const settings = compactorSettings(overlay);
    expect(env['S3_BUCKET']).toBe(settings['COMPACTOR_BUCKET']);
    expect(env['AWS_REGION']).toBe(settings['COMPACTOR_REGION']);
    expect(env['S3_ENDPOINT']).toBe(
      settings['COMPACTOR_ENDPOINT'] ?? `https://s3.${settings['COMPACTOR_REGION']}.amazonaws.com`,
    );

    // It reads, from a mounted folder, the container logs of the job namespaces: those the
    // compactor and the readers are bound in (rbac-job-namespaces.yaml), and no other.
    const paths = expandEnvVars(entry(tail, 'Path'), env);
    for (const glob of splitClist(paths))
      expect({ glob, mounted: mountOf(container, glob) !== undefined }).toEqual({ glob, mounted: true });
    const compactorBound = objects(overlay)
      .filter(isKind<V1RoleBinding>('RoleBinding'))
      .filter((b) => b.roleRef.name === 'job-logs-compactor')
      .map((b) => b.metadata?.namespace ?? '');
    expect([...namespacesOfJobLogPaths(paths)].sort()).toEqual(compactorBound.sort());
    for (const ns of compactorBound)
      expect({ ns, read: tailReads(tail, env, `/var/log/containers/job-1_${ns}_job-1-${'0'.repeat(64)}.log`) }).toEqual(
        {
          ns,
          read: true,
        },
      );
    for (const ns of ['kube-system', NAMESPACE, COMPACTOR_NAMESPACE])
      expect({ ns, read: tailReads(tail, env, `/var/log/containers/pod-1_${ns}_c-${'0'.repeat(64)}.log`) }).toEqual({
        ns,
        read: false,
      });
  });

  it('takes static S3 keys only from an optional Secret of its own: s3-credentials-<workload>', () => {
    const secretsOf = new Map<string, string[]>();
    for (const { where, spec } of podSpecs(overlay)) {
      for (const c of spec.containers) {
        for (const source of c.envFrom ?? []) {
          if (source.secretRef === undefined) continue;
          const own = OWN_SECRET[where];
          expect({ where, secretRef: source.secretRef }).toEqual({
            where,
            secretRef: { name: own ?? '(no S3 keys for this workload)', optional: true },
          });
          const secret = source.secretRef.name ?? '(unnamed)';
          secretsOf.set(secret, [...(secretsOf.get(secret) ?? []), where]);
        }
        for (const e of c.env ?? []) {
          // A credential never sits in a manifest as a literal value.
          if (/TOKEN|SECRET|PASSWORD|ACCESS_KEY/.test(e.name))
            expect({ where, name: e.name, literal: e.value }).toEqual({ where, name: e.name, literal: undefined });
        }
      }
    }
    // Fluent Bit (root on every node) and the compactor never share keys: with the
    // compactor's, Fluent Bit could delete the whole archive.
    expect([...secretsOf.entries()].filter(([, users]) => users.length > 1)).toEqual([]);
    expect([...secretsOf.keys()].sort()).toEqual(['s3-credentials-compactor', 's3-credentials-fluent-bit']);
  });
});

describe.each(PRODUCTION)('k8s/overlays/%s (production)', (overlay) => {
  it('ships no Secret: S3 access is by workload identity, annotated on every ServiceAccount', () => {
    expect(
      objects(overlay)
        .filter((o) => o.kind === 'Secret')
        .map(describe_),
    ).toEqual([]);
    for (const name of ['compactor', 'fluent-bit', 'log-reader']) {
      const sa = find<V1ServiceAccount>(overlay, 'ServiceAccount', name);
      expect(sa.metadata?.annotations?.['eks.amazonaws.com/role-arn']).toMatch(
        /^arn:aws:iam::\d{12}:role\/[\w+=,.@-]+$/,
      );
    }
  });

  it('keeps job logs for 90 days (COMPACTOR_RETENTION), as the real flag parser reads it', async () => {
    const configs = await compactorConfigs(overlay);
    expect(configs.length).toBeGreaterThan(0);
    for (const config of configs) expect(config.retentionMs).toBe(90 * 24 * 3_600_000);
  });

  it('runs the image named in the overlay, from a registry, by version and digest', () => {
    expect(compactorContainer(overlay).image).toMatch(
      /^[a-z0-9.-]+\.[a-z]+(:\d+)?\/[a-z0-9._/-]+:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/,
    );
    expect(compactorContainer(overlay).imagePullPolicy).toBe('IfNotPresent');
  });

  it('pins every image of every workload by digest (a tag can be pushed again)', () => {
    const images = podSpecs(overlay).flatMap(({ where, spec }) =>
      [...(spec.initContainers ?? []), ...spec.containers].map((c) => ({ id: `${where}/${c.name}`, image: c.image })),
    );
    expect(images.length).toBeGreaterThanOrEqual(3);
    expect(images.filter(({ image }) => !/^[^@\s]+:[^@:/\s]+@sha256:[0-9a-f]{64}$/.test(image ?? ''))).toEqual([]);
  });
});

describe('k8s/overlays/production-sharded: a shard whose pass fails', () => {
  // A pass exits 1 when some pod failed, and a pod that fails every pass (a corrupt raw
  // file) makes its shard exit 1 every time. Under a backoff limit for the whole Job, that
  // shard's quick retries (10 s, 20 s, 40 s apart) spend it while the other shards are still
  // working, and the Job controller then fails the Job and terminates their pods mid-pass,
  // every hour: one pod's failure stops the other pods (docs/design.md §6, Isolation), and those
  // shards never push a last success. Retries counted per index keep the shards apart.
  it("never ends the other shards' passes: retries are limited per index, not for the whole Job", () => {
    const job = compactorCronJob('production-sharded').spec?.jobTemplate.spec;
    expect(job?.completionMode).toBe('Indexed');
    expect(job?.backoffLimitPerIndex).toBeGreaterThanOrEqual(0);
    // Set, it would still count every shard's failures together.
    expect(job?.backoffLimit).toBeUndefined();
    // Set, it would end every shard once that many had failed.
    expect(job?.maxFailedIndexes).toBeUndefined();
  });
});

describe('k8s/overlays/production/s3-credentials.example.yaml', () => {
  it('holds placeholders only, one Secret per workload under the name and namespace it looks for, and is not part of the overlay', () => {
    const examples = parseAllDocuments(
      readFileSync(resolve(REPO_ROOT, 'k8s/overlays/production/s3-credentials.example.yaml'), 'utf8'),
    ).map((d) => d.toJS() as V1Secret);
    expect(examples.map((e) => `${e.metadata?.namespace}/${e.metadata?.name}`).sort()).toEqual([
      `${COMPACTOR_NAMESPACE}/s3-credentials-compactor`,
      `${COMPACTOR_NAMESPACE}/s3-credentials-log-reader`,
      `${NAMESPACE}/s3-credentials-fluent-bit`,
    ]);
    for (const example of examples) {
      expect(example.kind).toBe('Secret');
      expect(example.data).toBeUndefined();
      expect(Object.keys(example.stringData ?? {}).sort()).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
      for (const value of Object.values(example.stringData ?? {})) expect(value).toMatch(/^REPLACE_WITH_[A-Z_]+$/);
    }
    // Each Secret sits where the workload that reads it runs.
    for (const [where, name] of Object.entries(OWN_SECRET)) {
      const [kind, workload] = where.split('/') as [string, string];
      const namespace = find<K8sObject>('production', kind, workload).metadata.namespace;
      expect(examples.find((e) => e.metadata?.name === name)?.metadata?.namespace).toBe(namespace);
    }
    expect(readFileSync(resolve(REPO_ROOT, 'k8s/overlays/production/kustomization.yaml'), 'utf8')).not.toMatch(
      /^\s*-\s*s3-credentials/m,
    );
  });
});

describe('k8s/overlays/minikube', () => {
  const overlay: Overlay = 'minikube';

  it('runs LocalStack (S3 only) at the endpoint the compactor and Fluent Bit use, with the token from a Secret the user creates', () => {
    const service = find<V1Service>(overlay, 'Service', 'localstack');
    const port = service.spec?.ports?.[0];
    expect(`http://${service.metadata?.name}.${service.metadata?.namespace}.svc:${port?.port}`).toBe(MINIKUBE_ENDPOINT);
    const deployment = find<V1Deployment>(overlay, 'Deployment', 'localstack');
    expect(deployment.spec?.template.metadata?.labels).toMatchObject(service.spec?.selector ?? { selector: 'none' });
    const spec = deployment.spec?.template.spec as V1PodSpec;
    const container = spec.containers[0] as V1Container;
    expect(container.ports?.map((p) => [p.name, p.containerPort])).toContainEqual([port?.targetPort, 4566]);
    const env = new Map((container.env ?? []).map((e) => [e.name, e]));
    expect(env.get('SERVICES')?.value).toBe('s3');
    // The release the LocalStack test tier runs, never `latest`.
    expect(container.image).toBe(pinnedLocalStackImage());
    expect(env.get('LOCALSTACK_AUTH_TOKEN')).toEqual({
      name: 'LOCALSTACK_AUTH_TOKEN',
      valueFrom: { secretKeyRef: { name: 'localstack-auth', key: 'LOCALSTACK_AUTH_TOKEN' } },
    });
    // The user creates that Secret: its value is in no file here.
    expect(objects(overlay).filter((o) => o.kind === 'Secret' && o.metadata.name === 'localstack-auth')).toEqual([]);

    // The init hook creates the compactor's bucket; LocalStack runs only executable scripts.
    const bucket = compactorSettings(overlay)['COMPACTOR_BUCKET'];
    expect(env.get('JOB_LOGS_BUCKET')?.value).toBe(bucket);
    expect(container.readinessProbe?.httpGet?.path).toMatch(new RegExp(`^/${bucket}(\\?|$)`));
    const initMount = container.volumeMounts?.find((m) => m.mountPath === '/etc/localstack/init/ready.d');
    const initVolume = spec.volumes?.find((v) => v.name === initMount?.name)?.configMap;
    expect((initVolume?.defaultMode ?? 0o644) & 0o111).toBe(0o111);
    const scripts = Object.entries(find<V1ConfigMap>(overlay, 'ConfigMap', initVolume?.name ?? '(none)').data ?? {});
    expect(scripts.map(([name]) => name)).toEqual(['create-bucket.sh']);
    expect(scripts[0]?.[1]).toMatch(/^#!.*bash\n[\s\S]*JOB_LOGS_BUCKET[\s\S]*awslocal s3 mb/);
  });

  it("uses LocalStack's dummy keys, one Secret per workload, and the image built inside the cluster", () => {
    for (const name of ['s3-credentials-fluent-bit', 's3-credentials-compactor', 's3-credentials-log-reader']) {
      const secret = find<V1Secret>(overlay, 'Secret', name);
      expect({ name, keys: secret.stringData }).toEqual({
        name,
        keys: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
      });
    }
    expect(find<V1Secret>(overlay, 'Secret', 's3-credentials-fluent-bit').metadata?.namespace).toBe(NAMESPACE);
    expect(find<V1Secret>(overlay, 'Secret', 's3-credentials-compactor').metadata?.namespace).toBe(COMPACTOR_NAMESPACE);
    expect(compactorContainer(overlay).image).toBe('job-logs-s3/compactor:dev');
    expect(compactorContainer(overlay).imagePullPolicy).toBe('Never');
  });
});

describe.each(OVERLAYS)('k8s/overlays/%s: least privilege', (overlay) => {
  const namespace = (name: string): V1Namespace => find<V1Namespace>(overlay, 'Namespace', name);
  const enforced = (name: string): string | undefined =>
    namespace(name).metadata?.labels?.['pod-security.kubernetes.io/enforce'];

  it('runs the compactor and the readers\' account in a namespace of their own that enforces "restricted", apart from Fluent Bit\'s', () => {
    const cron = compactorCronJob(overlay);
    const ds = find<V1DaemonSet>(overlay, 'DaemonSet', 'fluent-bit');
    expect(cron.metadata?.namespace).toBe(COMPACTOR_NAMESPACE);
    expect(enforced(COMPACTOR_NAMESPACE)).toBe('restricted');
    expect(ds.metadata?.namespace).toBe(NAMESPACE);
    expect(enforced(NAMESPACE)).toBe('privileged');
    for (const sa of ['compactor', 'log-reader'])
      expect({ sa, namespace: find<V1ServiceAccount>(overlay, 'ServiceAccount', sa).metadata?.namespace }).toEqual({
        sa,
        namespace: COMPACTOR_NAMESPACE,
      });
    // Its settings are in its own namespace: envFrom resolves only there.
    expect(find<V1ConfigMap>(overlay, 'ConfigMap', 'compactor-config').metadata?.namespace).toBe(COMPACTOR_NAMESPACE);
  });

  it('has every workload of a "restricted" namespace admitted by that standard', () => {
    const restricted = objects(overlay)
      .filter(isKind<V1Namespace>('Namespace'))
      .filter((n) => n.metadata?.labels?.['pod-security.kubernetes.io/enforce'] === 'restricted')
      .map((n) => n.metadata?.name ?? '');
    const checked = podSpecs(overlay).filter(({ where }) => {
      const [kind, name] = where.split('/') as [string, string];
      return restricted.includes(find<K8sObject>(overlay, kind, name).metadata.namespace ?? '');
    });
    expect(checked.map(({ where }) => where)).toContain('CronJob/compactor');
    for (const { where, spec } of checked)
      expect({ where, problems: restrictedProblems(spec) }).toEqual({ where, problems: [] });
  });

  it("gives Fluent Bit's DaemonSet a priority class of its own, above every job's and below the cluster's own", () => {
    const spec = find<V1DaemonSet>(overlay, 'DaemonSet', 'fluent-bit').spec?.template.spec;
    const name = spec?.priorityClassName ?? '(none)';
    const pc = find<V1PriorityClass>(overlay, 'PriorityClass', name);
    // Above what a user's class may have, short of system-*; never the default of other pods.
    expect(pc.value).toBeGreaterThanOrEqual(1_000_000);
    expect(pc.value).toBeLessThanOrEqual(1_000_000_000);
    expect(pc.globalDefault ?? false).toBe(false);
    expect(name.startsWith('system-')).toBe(false);
  });

  it('runs each workload as a ServiceAccount of its own', () => {
    const accounts = podSpecs(overlay)
      .filter(({ where }) => where in OWN_SECRET)
      .map(({ where, spec }) => `${where}: ${spec.serviceAccountName}`);
    expect(accounts.sort()).toEqual(['CronJob/compactor: compactor', 'DaemonSet/fluent-bit: fluent-bit']);
  });
});

describe.each(PRODUCTION)('k8s/overlays/%s: an IAM role per workload', (overlay) => {
  it('annotates each ServiceAccount with a role of its own, whose policy k8s/README.md shows', () => {
    const roles = ['compactor', 'fluent-bit', 'log-reader'].map(
      (name) =>
        find<V1ServiceAccount>(overlay, 'ServiceAccount', name).metadata?.annotations?.['eks.amazonaws.com/role-arn'] ??
        '',
    );
    expect(new Set(roles).size).toBe(3);
    const policies = iamPoliciesOf(README);
    expect(roles.map((arn) => arn.replace(/^.*:role\//, '')).sort()).toEqual([...policies.keys()].sort());
  });
});

const README = resolve(REPO_ROOT, 'k8s/README.md');

describe('the IAM policies of k8s/README.md', () => {
  const policies = iamPoliciesOf(README);
  const policy = (id: string): IamPolicy => {
    const found = policies.get(id);
    if (found === undefined) throw new Error(`k8s/README.md shows no IAM policy with "Id": "${id}"`);
    return found;
  };
  const bucket = (): string => compactorSettings('production')['COMPACTOR_BUCKET'] ?? '(none)';
  const allowedFor = (id: string, dirs: string[]): string[] =>
    s3CommandsIn(...dirs).flatMap((command) => {
      const actions = IAM_ACTIONS_OF_COMMAND[command];
      if (actions === undefined) return [`${command}: no IAM action known; add it to IAM_ACTIONS_OF_COMMAND`];
      return actions.filter((a) => resourcesAllowed(policy(id), a).length === 0).map((a) => `${command}: ${a}`);
    });

  it('lets Fluent Bit put raw files and nothing else: it can neither delete, read nor list the archive', () => {
    const fluentBit = policy('job-logs-fluent-bit');
    expect(actionsAllowed(fluentBit)).toEqual(['s3:PutObject']);
    expect(resourcesAllowed(fluentBit, 's3:PutObject')).toEqual([`arn:aws:s3:::${bucket()}/kube.var.log.containers.*`]);
    // The s3 output sends one PutObject per file: switching to multipart would need more.
    const conf = parseClassicConfig(
      readFileSync(resolve(FLUENT_BIT_DIR, 'fluent-bit.conf'), 'utf8'),
      'fluent-bit.conf',
    );
    expect(entry(pluginSection(conf, 'OUTPUT', 's3'), 'use_put_object')).toMatch(/^on$/i);
  });

  it('lets the compactor send every S3 command its code sends, on the bucket of the production overlay', () => {
    expect(allowedFor('job-logs-compactor', ['packages/compactor/src', 'packages/log-reader/src/s3'])).toEqual([]);
    const compactor = policy('job-logs-compactor');
    const object = (prefix: string): string => `arn:aws:s3:::${bucket()}/${prefix}*`;
    // What a pass deletes: merged raw files, retired merged files and leftovers, queue entries,
    // leases, and with retention (set in production) an expired pod's metadata.
    expect(resourcesAllowed(compactor, 's3:DeleteObject').sort()).toEqual(
      ['kube.var.log.containers.', 'data/', 'metadata/', 'cleanup/', 'leases/'].map(object).sort(),
    );
    expect(resourcesAllowed(compactor, 's3:ListBucket')).toEqual([`arn:aws:s3:::${bucket()}`]);
    // It writes nothing under the raw prefix: that is Fluent Bit's.
    expect(resourcesAllowed(compactor, 's3:PutObject')).not.toContain(object('kube.var.log.containers.'));
  });

  it('lets readers list and read, nothing more', () => {
    expect(allowedFor('job-logs-reader', ['packages/log-reader/src'])).toEqual([]);
    expect(actionsAllowed(policy('job-logs-reader'))).toEqual(['s3:GetObject', 's3:ListBucket']);
  });

  it('names only the bucket of the production overlay', () => {
    for (const [id, p] of policies)
      for (const s of p.Statement)
        for (const r of typeof s.Resource === 'string' ? [s.Resource] : s.Resource)
          expect({ id, r }).toEqual({ id, r: expect.stringMatching(new RegExp(`^arn:aws:s3:::${bucket()}(/|$)`)) });
  });
});

describe('k8s/overlays/minikube/demo-job.yaml (the job ./minikube.sh demo runs)', () => {
  const name = 'job-demo-1700000000';
  const pod = (): K8sObject & { spec: V1PodSpec } =>
    parseYaml(
      readFileSync(resolve(REPO_ROOT, 'k8s/overlays/minikube/demo-job.yaml'), 'utf8').replaceAll('JOB_NAME', name),
    ) as K8sObject & { spec: V1PodSpec };

  it('is a valid Pod, with no field the API does not know', () => {
    expect(validateWithSchemas([pod()])).toEqual([null]);
    expect(unknownFields(pod())).toEqual([]);
  });

  it('is a job as the platform runs one: its one container named like the pod, in a job namespace Fluent Bit uploads', () => {
    const p = pod();
    expect(p.metadata.name).toBe(name);
    expect(p.spec.containers.map((c) => c.name)).toEqual([name]);
    expect(p.spec.restartPolicy).toBe('Never');
    const env = find<V1ConfigMap>('minikube', 'ConfigMap', 'fluent-bit-env').data ?? {};
    expect(namespacesOfJobLogPaths(env['JOB_LOG_PATHS'] ?? '')).toContain(p.metadata.namespace);
    // The compactor (--kube) and readers (-f) may ask about it there.
    const bound = objects('minikube')
      .filter(isKind<V1RoleBinding>('RoleBinding'))
      .filter((b) => b.metadata?.namespace === p.metadata.namespace)
      .map((b) => b.roleRef.name);
    expect(bound.sort()).toEqual(['job-logs-compactor', 'job-logs-reader']);
    // Its last line is the one the demo waits for.
    expect(p.spec.containers[0]?.command?.at(-1)).toMatch(new RegExp(`echo "${name}: done"\n$`));
  });

  it('would be admitted under the "restricted" standard, with resources set', () => {
    expect(restrictedProblems(pod().spec)).toEqual([]);
    const c = pod().spec.containers[0] as V1Container;
    expect(resourcesSet(c)).toBe('requests cpu+memory, limits memory >= request');
  });
});

// --- building and reading the overlays ------------------------------------------------------

/** `kustomize build DIR`: the pinned .tools/bin/kustomize (make tools), else `kubectl kustomize`. */
function kustomizeBuild(dir: string): string {
  const pinned = resolve(REPO_ROOT, '.tools/bin/kustomize');
  const [command, args] = existsSync(pinned) ? [pinned, ['build', dir]] : ['kubectl', ['kustomize', dir]];
  const result = spawnSync(command, args, { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (result.error !== undefined) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing
        ? `no kustomize to build ${dir}: neither ${pinned} (run \`make tools\`) nor kubectl on PATH`
        : `${command}: ${result.error.message}`,
    );
  }
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status}):\n${result.stderr}`);
  return result.stdout;
}

function parseManifests(text: string, overlay: Overlay): K8sObject[] {
  return parseAllDocuments(text).map((doc, i) => {
    if (doc.errors.length > 0)
      throw new Error(`${overlay}: document ${i}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const object = doc.toJS() as K8sObject;
    if (typeof object?.kind !== 'string' || typeof object.metadata?.name !== 'string')
      throw new Error(`${overlay}: document ${i} is not a Kubernetes object`);
    return object;
  });
}

/** One null (valid) or reason per object, from kubernetes-models (test/support/k8s-validate.mjs). */
function validateWithSchemas(all: readonly K8sObject[]): (string | null)[] {
  const result = spawnSync(process.execPath, [resolve(__dirname, 'support/k8s-validate.mjs')], {
    input: JSON.stringify(all),
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  });
  if (result.status !== 0) throw new Error(`k8s-validate.mjs failed (exit ${result.status}): ${result.stderr}`);
  const results = JSON.parse(result.stdout) as (string | null)[];
  if (results.length !== all.length)
    throw new Error(`k8s-validate.mjs answered for ${results.length} of ${all.length} objects`);
  return results;
}

function objects(overlay: Overlay): K8sObject[] {
  const found = built.get(overlay);
  if (found === undefined) throw new Error(`overlay ${overlay} was not built`);
  return found;
}

function describe_(o: K8sObject): string {
  return `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

function isKind<T>(...kinds: string[]): (o: K8sObject) => o is K8sObject & T {
  return (o): o is K8sObject & T => kinds.includes(o.kind);
}

/** The one object of `kind` named `name` (generated names match by their prefix: `compactor-config-<hash>`). */
function find<T>(overlay: Overlay, kind: string, name: string): T {
  const found = objects(overlay).filter(
    (o) =>
      o.kind === kind &&
      (o.metadata.name === name || (kind === 'ConfigMap' && o.metadata.name.replace(/-[a-z0-9]{10}$/, '') === name)),
  );
  if (found.length !== 1) throw new Error(`${overlay}: expected one ${kind} ${name}, found ${found.length}`);
  return found[0] as T;
}

const WORKLOAD_KINDS = new Set(['CronJob', 'Job', 'DaemonSet', 'Deployment', 'StatefulSet', 'ReplicaSet', 'Pod']);
const OTHER_KINDS = new Set([
  'Namespace',
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'ConfigMap',
  'Secret',
  'Service',
  'PriorityClass',
]);

/** The one Secret of static S3 keys each workload may take (envFrom, optional); none for the others. */
const OWN_SECRET: Readonly<Record<string, string>> = {
  'CronJob/compactor': 's3-credentials-compactor',
  'DaemonSet/fluent-bit': 's3-credentials-fluent-bit',
};

/** The pod spec of every workload, named `Kind/name`; an object of a kind this test does not know fails it. */
function podSpecs(overlay: Overlay): { where: string; spec: V1PodSpec }[] {
  return objects(overlay).flatMap((o) => {
    if (!WORKLOAD_KINDS.has(o.kind)) {
      if (!OTHER_KINDS.has(o.kind))
        throw new Error(`${describe_(o)}: a kind this test does not check; add it to WORKLOAD_KINDS or OTHER_KINDS`);
      return [];
    }
    const spec =
      o.kind === 'CronJob'
        ? (o as unknown as V1CronJob).spec?.jobTemplate.spec?.template.spec
        : o.kind === 'Pod'
          ? (o as unknown as { spec?: V1PodSpec }).spec
          : (o as unknown as V1Deployment).spec?.template.spec;
    if (spec === undefined) throw new Error(`${describe_(o)}: no pod spec`);
    return [{ where: `${o.kind}/${o.metadata.name}`, spec }];
  });
}

// --- security ------------------------------------------------------------------------------

type Relaxed = 'runAsNonRoot' | 'readOnlyRootFilesystem' | 'capabilities';

/** Containers allowed less than the full lock-down, and why. None of them may be in production but Fluent Bit. */
const SECURITY_EXCEPTIONS: Record<
  string,
  { readonly relaxed: readonly Relaxed[]; readonly reason: string; readonly production?: true }
> = {
  'DaemonSet/fluent-bit/fluent-bit': {
    relaxed: ['runAsNonRoot'],
    reason: "runs as root with no capability: the nodes' container log files are root's, mode 0640",
    production: true,
  },
  'Deployment/localstack/localstack': {
    relaxed: ['runAsNonRoot', 'readOnlyRootFilesystem', 'capabilities'],
    reason: 'a third-party development server for minikube, run as its image expects',
  },
};

function LOCKED_DOWN(relaxed: readonly Relaxed[]): Record<string, unknown> {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    seccomp: 'RuntimeDefault',
    runAsNonRoot: relaxed.includes('runAsNonRoot') ? 'relaxed' : true,
    readOnlyRootFilesystem: relaxed.includes('readOnlyRootFilesystem') ? 'relaxed' : true,
    capabilities: relaxed.includes('capabilities') ? 'relaxed' : 'drop ALL, add none',
  };
}

function securityOf(pod: V1PodSpec, c: V1Container, relaxed: readonly Relaxed[]): Record<string, unknown> {
  const sc = c.securityContext ?? {};
  const psc = pod.securityContext ?? {};
  const runAsUser = sc.runAsUser ?? psc.runAsUser;
  const nonRoot = (sc.runAsNonRoot ?? psc.runAsNonRoot) === true && runAsUser !== 0;
  return {
    allowPrivilegeEscalation: sc.allowPrivilegeEscalation,
    privileged: sc.privileged ?? false,
    seccomp: (sc.seccompProfile ?? psc.seccompProfile)?.type,
    runAsNonRoot: relaxed.includes('runAsNonRoot') ? 'relaxed' : nonRoot,
    readOnlyRootFilesystem: relaxed.includes('readOnlyRootFilesystem') ? 'relaxed' : sc.readOnlyRootFilesystem,
    capabilities: relaxed.includes('capabilities')
      ? 'relaxed'
      : sc.capabilities?.drop?.includes('ALL') === true && (sc.capabilities.add ?? []).length === 0
        ? 'drop ALL, add none'
        : sc.capabilities,
  };
}

function resourcesSet(c: V1Container): string | Record<string, unknown> {
  const requests = c.resources?.requests ?? {};
  const limits = c.resources?.limits ?? {};
  const ok =
    requests['cpu'] !== undefined &&
    requests['memory'] !== undefined &&
    limits['memory'] !== undefined &&
    quantityBytes(limits['memory']) >= quantityBytes(requests['memory']);
  return ok ? 'requests cpu+memory, limits memory >= request' : { requests, limits };
}

/** What is wrong with an image reference, or undefined: it must name a tag (or digest) other than `latest`. */
function imageProblem(image: string): string | undefined {
  const name = image.slice(image.lastIndexOf('/') + 1);
  if (image.includes('@sha256:')) return undefined;
  if (!name.includes(':')) return `${image}: no tag`;
  if (name.endsWith(':latest')) return `${image}: latest`;
  return undefined;
}

/** A Kubernetes memory quantity in bytes (Ki/Mi/Gi, k/M/G, or plain). */
function quantityBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  if (!m) throw new Error(`not a memory quantity: ${q}`);
  const units: Record<string, number> = {
    '': 1,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Number(m[1]) * (units[m[2] ?? ''] as number);
}

// --- the compactor -------------------------------------------------------------------------

function compactorCronJob(overlay: Overlay): V1CronJob {
  return find<V1CronJob>(overlay, 'CronJob', 'compactor');
}

function compactorContainer(overlay: Overlay): V1Container {
  const c = compactorCronJob(overlay).spec?.jobTemplate.spec?.template.spec?.containers.find(
    (x) => x.name === 'compactor',
  );
  if (c === undefined) throw new Error(`${overlay}: the CronJob has no container named compactor`);
  return c;
}

/** The COMPACTOR_* settings the compactor's container gets: its ConfigMap (envFrom), then literal env entries. */
function compactorSettings(overlay: Overlay): Record<string, string> {
  const container = compactorContainer(overlay);
  const refs = (container.envFrom ?? []).flatMap((e) => (e.configMapRef === undefined ? [] : [e.configMapRef.name]));
  expect(refs).toHaveLength(1);
  const fromMap = find<V1ConfigMap>(overlay, 'ConfigMap', refs[0] as string).data ?? {};
  const literal = Object.fromEntries(
    (container.env ?? []).flatMap((e) =>
      e.name.startsWith('COMPACTOR_') && e.value !== undefined ? [[e.name, e.value]] : [],
    ),
  );
  return { ...fromMap, ...literal };
}

const INDEX_FIELD = "metadata.annotations['batch.kubernetes.io/job-completion-index']";

/**
 * The config each pod of one of the CronJob's Jobs runs with: its args after Kubernetes'
 * $(VAR) expansion (which sees only variables the container declares), parsed by the CLI's
 * own parser with the container's COMPACTOR_* settings as its environment. One per
 * completion index for an Indexed Job.
 */
async function compactorConfigs(overlay: Overlay): Promise<Config[]> {
  const container = compactorContainer(overlay);
  const job = compactorCronJob(overlay).spec?.jobTemplate.spec;
  const indexes =
    job?.completionMode === 'Indexed' ? Array.from({ length: job.completions ?? 0 }, (_, i) => i) : [undefined];
  const args = container.args ?? [];
  expect(container.command).toBeUndefined(); // the image's entrypoint: tini -- compactor
  expect(args[0]).toBe('run');
  const configs: Config[] = [];
  for (const index of indexes) {
    const env: Record<string, string> = { ...compactorSettings(overlay) };
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.fieldRef?.fieldPath === INDEX_FIELD && index !== undefined) env[e.name] = String(index);
    }
    const expanded = args.map((a) =>
      a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole),
    );
    expect(expanded.filter((a) => /\$\(/.test(a))).toEqual([]);
    configs.push(await withCompactorEnv(env, () => parseRunArgs(expanded.slice(1))));
  }
  return configs;
}

/** Runs `fn` with exactly `env`'s COMPACTOR_* variables set (and no endpoint from AWS_ENDPOINT_URL*), as in the pod. */
async function withCompactorEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const touched = Object.keys(process.env).filter(
    (k) => k.startsWith('COMPACTOR_') || k.startsWith('AWS_ENDPOINT_URL'),
  );
  const saved = Object.fromEntries(touched.map((k) => [k, process.env[k]]));
  for (const k of touched) delete process.env[k];
  const set = Object.entries(env).filter(([k]) => k.startsWith('COMPACTOR_'));
  for (const [k, v] of set) process.env[k] = v;
  try {
    return await fn();
  } finally {
    for (const [k] of set) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

function rulesOf(overlay: Overlay, clusterRole: string): V1PolicyRule[] {
  return find<V1ClusterRole>(overlay, 'ClusterRole', clusterRole).rules ?? [];
}

/** The volume mount of `container` under which `path` lies, if any. */
function mountOf(container: V1Container, path: string): { readOnly?: boolean } | undefined {
  return (container.volumeMounts ?? []).find(
    (m) => path === m.mountPath || path.startsWith(`${m.mountPath.replace(/\/$/, '')}/`),
  );
}

// --- unknown fields --------------------------------------------------------------------------

interface AttributeType {
  readonly baseName: string;
  readonly type: string;
}
interface ModelClass {
  getAttributeTypeMap(): readonly AttributeType[];
}

function modelClass(type: string): ModelClass | undefined {
  const candidate = (k8s as unknown as Record<string, unknown>)[type];
  return typeof candidate === 'function' && 'getAttributeTypeMap' in candidate
    ? (candidate as unknown as ModelClass)
    : undefined;
}

/** Every field of `o` that the API's model of its kind (from @kubernetes/client-node) does not have. */
function unknownFields(o: K8sObject): string[] {
  const version = o.apiVersion.split('/').at(-1) ?? '';
  const type = `${version.charAt(0).toUpperCase()}${version.slice(1)}${o.kind}`;
  if (modelClass(type) === undefined) return [`${describe_(o)}: no @kubernetes/client-node model ${type}`];
  const found: string[] = [];
  walk(o, type, describe_(o), found);
  return found;
}

function walk(value: unknown, type: string, path: string, found: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, array[1] as string, `${path}[${i}]`, found));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === 'object')
      for (const [k, v] of Object.entries(value)) walk(v, map[1] as string, `${path}.${k}`, found);
    return;
  }
  const model = modelClass(type);
  if (model === undefined || typeof value !== 'object') return; // a scalar: kubernetes-models checks its type
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    const attributeType = attributes.get(k);
    if (attributeType === undefined) found.push(`${path}.${k}: not a field of ${type}`);
    else walk(v, attributeType, `${path}.${k}`, found);
  }
}
