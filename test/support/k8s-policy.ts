// Checks of least privilege for test/k8s-manifests.test.ts: the Pod Security Standard
// "restricted" as the API server's admission applies it to a pod spec, and the IAM policies
// k8s/README.md shows, read back and compared with the S3 commands the code sends.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { REPO_ROOT } from './fluent-bit.js';

/** Volume types "restricted" admits (Kubernetes' Pod Security Standards, "Volume Types"). */
const RESTRICTED_VOLUMES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
];

/**
 * What the "restricted" Pod Security Standard (baseline included) refuses in `spec`, one
 * line each; empty when admitted. The controls of the standard that a manifest can break.
 */
export function restrictedProblems(spec: V1PodSpec): string[] {
  const problems: string[] = [];
  if (spec.hostNetwork === true || spec.hostPID === true || spec.hostIPC === true) problems.push('host namespaces');
  for (const v of spec.volumes ?? []) {
    const type = Object.keys(v).find((k) => k !== 'name');
    if (type === undefined || !RESTRICTED_VOLUMES.includes(type)) problems.push(`volume ${v.name}: ${type}`);
  }
  const psc = spec.securityContext ?? {};
  const podSeccomp = psc.seccompProfile?.type;
  const containers: V1Container[] = [
    ...(spec.initContainers ?? []),
    ...spec.containers,
    ...((spec.ephemeralContainers ?? []) as V1Container[]),
  ];
  if (psc.runAsUser === 0) problems.push('pod runAsUser 0');
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    const where = `container ${c.name}`;
    if (sc.privileged === true) problems.push(`${where}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
    if ((sc.runAsNonRoot ?? psc.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot is not true`);
    if (sc.runAsUser === 0) problems.push(`${where}: runAsUser 0`);
    const seccomp = sc.seccompProfile?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') problems.push(`${where}: seccomp ${seccomp}`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}: capabilities not dropped (ALL)`);
    const added = (sc.capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (added.length > 0) problems.push(`${where}: adds ${added.join(', ')}`);
    if ((c.ports ?? []).some((p) => p.hostPort !== undefined && p.hostPort !== 0)) problems.push(`${where}: hostPort`);
  }
  return problems;
}

export interface IamStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
}
export interface IamPolicy {
  readonly Version: string;
  readonly Id: string;
  readonly Statement: readonly IamStatement[];
}

/** The IAM policies (```json blocks with a Version and an Id) of a Markdown file, by Id. */
export function iamPoliciesOf(markdownPath: string): Map<string, IamPolicy> {
  const text = readFileSync(markdownPath, 'utf8');
  const policies = new Map<string, IamPolicy>();
  for (const m of text.matchAll(/^```json\n([\s\S]*?)^```$/gm)) {
    const doc = JSON.parse(m[1] as string) as Partial<IamPolicy>;
    if (doc.Version === '2012-10-17' && typeof doc.Id === 'string') policies.set(doc.Id, doc as IamPolicy);
  }
  return policies;
}

const list = (v: string | readonly string[]): readonly string[] => (typeof v === 'string' ? [v] : v);

/** The resources on which `policy` allows `action` (no wildcard actions are expected here). */
export function resourcesAllowed(policy: IamPolicy, action: string): string[] {
  return policy.Statement.filter((s) => s.Effect === 'Allow' && list(s.Action).includes(action)).flatMap((s) => [
    ...list(s.Resource),
  ]);
}

/** Every action any statement of `policy` allows. */
export function actionsAllowed(policy: IamPolicy): string[] {
  return [...new Set(policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => [...list(s.Action)]))].sort();
}

/**
 * The IAM action that authorises each S3 command the code sends (AWS's "Actions, resources and
 * condition keys for Amazon S3"): HEAD requests are authorised as their GET, multipart parts
 * as PutObject. `Upload` is lib-storage's: PutObject, or CreateMultipartUpload, UploadPart,
 * CompleteMultipartUpload, and AbortMultipartUpload when a part fails.
 */
export const IAM_ACTIONS_OF_COMMAND: Readonly<Record<string, readonly string[]>> = {
  ListObjectsV2Command: ['s3:ListBucket'],
  HeadBucketCommand: ['s3:ListBucket'],
  GetObjectCommand: ['s3:GetObject'],
  HeadObjectCommand: ['s3:GetObject'],
  PutObjectCommand: ['s3:PutObject'],
  CreateMultipartUploadCommand: ['s3:PutObject'],
  UploadPartCommand: ['s3:PutObject'],
  CompleteMultipartUploadCommand: ['s3:PutObject'],
  AbortMultipartUploadCommand: ['s3:AbortMultipartUpload'],
  DeleteObjectCommand: ['s3:DeleteObject'],
  DeleteObjectsCommand: ['s3:DeleteObject'],
  Upload: ['s3:PutObject', 's3:AbortMultipartUpload'],
};

/** The S3 commands (`new XCommand(`, lib-storage's `new Upload(`) the sources under `dirs` send (tests left out). */
export function s3CommandsIn(...dirs: string[]): string[] {
  const found = new Set<string>();
  for (const dir of dirs) {
    const root = resolve(REPO_ROOT, dir);
    for (const file of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
      const text = readFileSync(join(root, file), 'utf8');
      for (const m of text.matchAll(/\bnew ([A-Z][A-Za-z]*Command|Upload)\(/g)) {
        const name = m[1] as string;
        // commander's `new Command('run')` is not an S3 call.
        if (name !== 'Command') found.add(name);
      }
    }
  }
  return [...found].sort();
}
