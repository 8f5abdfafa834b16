// What Fluent Bit does with the shipped configuration (k8s/base/fluent-bit/), modelled on
// its source, for the tests that check the keys and records it produces against our reader:
//
// - the classic config format (src/config_format/flb_cf_fluentbit.c): `[SECTION]` headers,
//   `key value` lines at one indentation, `#` comments; keys are case-insensitive;
// - the tail input's tag (plugins/in_tail/tail_file.c, tag_compose): the `*` of `Tag` is
//   replaced by the file's path, then `/` (also `\` and `:`) becomes `.` except a leading one,
//   which is dropped, a `.` right after a `.` is dropped, and so is a trailing `.`;
// - the s3 output's key (src/aws/flb_aws_util.c, flb_get_s3_key, and plugins/out_s3/s3.c):
//   `$TAG[n]`, then `$TAG` (the whole tag), `$INDEX` (the node's upload counter), `$UUID`,
//   then strftime over the result with the UTC time of the file's first record. The format
//   must start with `/`: the request goes to `/{bucket}{key}`, so the object key is what
//   follows that `/`. A PutObject key with neither `$UUID`, `$INDEX` nor
//   `static_file_path On` gets `-object` and 8 random characters appended;
// - the s3 output's `$INDEX` counter on a node across restarts, and the DaemonSet's
//   seed-index.sh run for real before each start (FluentBitNode, at the end).
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '../..');
export const FLUENT_BIT_DIR = resolve(REPO_ROOT, 'k8s/base/fluent-bit');

export interface ConfigSection {
  /** As written, e.g. `INPUT`, `OUTPUT`, `PARSER`. */
  readonly name: string;
  /** Keys lower-cased (Fluent Bit's are case-insensitive), values as written (a key set more than once: its first). */
  readonly entries: ReadonlyMap<string, string>;
  /** Every value of each key, in order (the parser filter's `Parser`, tried in turn). */
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly line: number;
}

/** Keys a [FILTER] parser takes more than once (FLB_CONFIG_MAP_MULT in filter_parser.c); any other is set once. */
const MULTI_VALUE_KEYS = new Set(['parser']);

/** Parses Fluent Bit's classic format; throws, naming the line, where Fluent Bit would refuse the file. */
export function parseClassicConfig(text: string, file = 'config'): ConfigSection[] {
  const sections: { name: string; entries: Map<string, string>; values: Map<string, string[]>; line: number }[] = [];
  let indent: string | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    const where = `${file}:${i + 1}`;
    if (line.trim() === '' || line.startsWith('#')) return;
    if (line.startsWith('@')) throw new Error(`${where}: ${line.split(' ')[0]} is not modelled by this test`);
    if (line.startsWith('[')) {
      const end = line.indexOf(']');
      if (end < 0) throw new Error(`${where}: bad header definition`);
      sections.push({ name: line.slice(1, end), entries: new Map(), values: new Map(), line: i + 1 });
      return;
    }
    indent ??= /^[ \t]*/.exec(line)?.[0] ?? '';
    if (!line.startsWith(indent) || /^[ \t]/.test(line.slice(indent.length)))
      throw new Error(`${where}: invalid indentation level`);
    const body = line.slice(indent.length);
    if (body.startsWith('#')) return;
    const space = body.indexOf(' ');
    const value = space < 0 ? '' : body.slice(space + 1).trim();
    if (space < 0 || value === '') throw new Error(`${where}: key ${JSON.stringify(body)} has no value`);
    const section = sections.at(-1);
    if (section === undefined) throw new Error(`${where}: a key outside any section`);
    const key = body.slice(0, space).toLowerCase();
    if (section.entries.has(key) && !MULTI_VALUE_KEYS.has(key))
      throw new Error(`${where}: ${key} set twice in [${section.name}]`);
    if (!section.entries.has(key)) section.entries.set(key, value);
    section.values.set(key, [...(section.values.get(key) ?? []), value]);
  });
  return sections;
}

export function readConfigFile(name: string): ConfigSection[] {
  return parseClassicConfig(readFileSync(resolve(FLUENT_BIT_DIR, name), 'utf8'), name);
}

/** The one section named `name` whose `Name` (plugin) is `plugin`; throws unless there is exactly one. */
export function pluginSection(sections: readonly ConfigSection[], name: string, plugin: string): ConfigSection {
  const found = sections.filter((s) => s.name.toUpperCase() === name && s.entries.get('name') === plugin);
  if (found.length !== 1) throw new Error(`expected one [${name}] with Name ${plugin}, found ${found.length}`);
  return found[0] as ConfigSection;
}

export function entry(section: ConfigSection, key: string): string {
  const value = section.entries.get(key.toLowerCase());
  if (value === undefined)
    throw new Error(`[${section.name}] ${section.entries.get('name') ?? ''} (line ${section.line}) has no ${key}`);
  return value;
}

/** Fluent Bit's tail input: the tag of the file at `path` under `Tag pattern`. */
export function tailTag(pattern: string, path: string): string {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern;
  const out = [...`${pattern.slice(0, star)}${path}${pattern.slice(star + 1)}`];
  for (let i = 0; i < out.length; i++) {
    if (out[i] === '/' || out[i] === '\\' || out[i] === ':') {
      if (i > 0) {
        out[i] = '.';
      } else {
        out.splice(i, 1);
        i--;
        continue;
      }
    }
    if (i > 0 && out[i] === '.' && out[i - 1] === '.') {
      out.splice(i, 1);
      i--;
    } else if (out[i] === '*') {
      out.splice(i, 1);
      i--;
    }
  }
  if (out.at(-1) === '.') out.pop();
  return out.join('');
}

/**
 * Fluent Bit's `${VAR}` in a property value (src/flb_env.c, flb_env_var_translate, run by
 * flb_input_set_property): replaced by the variable's value, or by nothing when it is unset.
 */
export function expandEnvVars(value: string, env: Readonly<Record<string, string | undefined>>): string {
  return value.replace(/\$\{([^}]*)\}/g, (_, name: string) => env[name] ?? '');
}

/** A comma-separated list property (FLB_CONFIG_MAP_CLIST, flb_slist_split_string): trimmed items, no empty one. */
export function splitClist(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.replace(/^ +| +$/g, ''))
    .filter((item) => item !== '');
}

/**
 * glob(3) as the tail input scans each `Path` item (plugins/in_tail/tail_scan_glob.c:
 * GLOB_TILDE | GLOB_ERR, no GLOB_BRACE): `*` and `?` within one path segment, never
 * matching a name's leading `.`; `{a,b}` is no alternative, its characters are literal.
 * `[...]` classes are not modelled.
 */
export function globMatches(pattern: string, path: string): boolean {
  if (pattern.includes('[')) throw new Error(`glob ${pattern}: [...] is not modelled by this test`);
  const patternSegments = pattern.split('/');
  const pathSegments = path.split('/');
  if (patternSegments.length !== pathSegments.length) return false;
  return patternSegments.every((seg, i) => {
    const name = pathSegments[i] as string;
    if (name.startsWith('.') && !seg.startsWith('.')) return false;
    return wildcardRegExp(seg, '[^/]').test(name);
  });
}

/** fnmatch(pattern, path, 0), as the tail input applies `Exclude_Path` (tail_is_excluded): `*` also matches `/`. */
export function fnmatchMatches(pattern: string, path: string): boolean {
  if (pattern.includes('[')) throw new Error(`fnmatch ${pattern}: [...] is not modelled by this test`);
  return wildcardRegExp(pattern, '.').test(path);
}

function wildcardRegExp(pattern: string, anyChar: string): RegExp {
  const re = [...pattern]
    .map((c) => (c === '*' ? `${anyChar}*` : c === '?' ? anyChar : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}$`, 's');
}

/**
 * Whether the tail input `tail` reads the file at `path`, with `env` as Fluent Bit's
 * environment: some item of its `Path` (after `${VAR}` expansion) globs to it, and no item
 * of its `Exclude_Path` matches it.
 */
export function tailReads(
  tail: ConfigSection,
  env: Readonly<Record<string, string | undefined>>,
  path: string,
): boolean {
  const list = (key: string): string[] => splitClist(expandEnvVars(tail.entries.get(key) ?? '', env));
  const paths = list('path');
  if (paths.length === 0) throw new Error(`[INPUT] tail has no Path: Fluent Bit does not start`);
  return paths.some((glob) => globMatches(glob, path)) && !list('exclude_path').some((p) => fnmatchMatches(p, path));
}

/**
 * The namespaces a JOB_LOG_PATHS value (fluent-bit.env) selects, in order; throws unless every
 * item is `/var/log/containers/*_{namespace}_*.log` with a namespace name Kubernetes accepts.
 */
export function namespacesOfJobLogPaths(value: string): string[] {
  return splitClist(value).map((glob) => {
    const m = /^\/var\/log\/containers\/\*_([a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)_\*\.log$/.exec(glob);
    if (!m) throw new Error(`JOB_LOG_PATHS item ${glob} is not /var/log/containers/*_{namespace}_*.log`);
    return m[1] as string;
  });
}

export interface S3KeyInput {
  readonly format: string;
  readonly tag: string;
  /** The file's first record; only its UTC fields are used. */
  readonly time: Date;
  /** This node's upload counter at the upload. */
  readonly index: number;
  readonly tagDelimiters?: string;
  readonly staticFilePath: boolean;
}

/** The object key the s3 output (PutObject) writes: flb_get_s3_key, then the URI's `/{bucket}` prefix removed. */
export function s3ObjectKey(input: S3KeyInput): string {
  if (!input.format.startsWith('/'))
    throw new Error(`s3_key_format ${input.format}: Fluent Bit refuses a format that does not start with '/'`);
  const delimiters = input.tagDelimiters ?? '.';
  const parts = input.tag.split(new RegExp(`[${delimiters.replace(/[\]\\^-]/g, '\\$&')}]`)).filter((p) => p !== '');
  let key = input.format;
  parts.slice(0, 10).forEach((part, i) => {
    key = key.split(`$TAG[${i}]`).join(part);
  });
  if (key.includes('$TAG['))
    throw new Error(`s3_key_format ${input.format}: a $TAG[n] beyond the tag's ${parts.length} parts`);
  key = key.split('$TAG').join(input.tag);
  key = key.split('$INDEX').join(String(input.index));
  const hasUuid = key.includes('$UUID');
  key = key.split('$UUID').join('UUIDUUID');
  key = strftimeUtc(key, input.time);
  if (!hasUuid && !input.staticFilePath && !input.format.includes('$INDEX')) key += '-objectRANDOM88';
  return key.slice(1);
}

/** strftime with gmtime, for the conversions a key format may use here; any other one fails the test. */
export function strftimeUtc(format: string, time: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return format.replace(/%(.)/g, (_, c: string) => {
    switch (c) {
      case 'Y':
        return String(time.getUTCFullYear());
      case 'm':
        return two(time.getUTCMonth() + 1);
      case 'd':
        return two(time.getUTCDate());
      case 'H':
        return two(time.getUTCHours());
      case 'M':
        return two(time.getUTCMinutes());
      case 'S':
        return two(time.getUTCSeconds());
      case '%':
        return '%';
      default:
        throw new Error(`strftime %${c} is not modelled by this test`);
    }
  });
}

/** Fluent Bit's `On`/`Off` (also true/false, yes/no, 1/0). */
export function isOn(value: string | undefined): boolean {
  return value !== undefined && ['on', 'true', 'yes', '1'].includes(value.toLowerCase());
}

/** Fluent Bit's size units (flb_utils_size_to_bytes): K, M, G as powers of 1000, with or without a trailing B. */
export function sizeInBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMG]?)B?$/i.exec(value.trim());
  if (!m) throw new Error(`not a Fluent Bit size: ${value}`);
  const unit = { '': 1, K: 1e3, M: 1e6, G: 1e9 }[(m[2] as string).toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(m[1]) * unit;
}

// --- the s3 output's $INDEX counter on one node, across restarts ----------------------------

export interface NodeSetup {
  /** The s3 output's store_dir and bucket (fluent-bit.conf, fluent-bit.env). */
  readonly storeDir: string;
  readonly bucket: string;
  /** The Fluent Bit container's command, as the DaemonSet has it. */
  readonly command: readonly string[];
  /** Where the container has the ConfigMap's files (fluent-bit.conf, seed-index.sh). */
  readonly configMount: string;
  /** Where the init container installs its commands, and which (its command's arguments). */
  readonly toolsMount: string;
  readonly applets: readonly string[];
}

const FLUENT_BIT_BINARY = '/fluent-bit/bin/fluent-bit';

/**
 * One node's Fluent Bit, as far as the s3 output's $INDEX counter goes, on a temporary
 * directory standing for the node's `/` (the state hostPath is under it):
 *
 * - start(): the container's command. What it runs before Fluent Bit runs for real (`sh`,
 *   with PATH holding only the commands the init container installs, a fake clock, and a
 *   stand-in for Fluent Bit), then Fluent Bit's init_seq_index (plugins/out_s3/s3.c): a
 *   missing counter file means 0, written; otherwise fscanf("%" PRIu64), and a file it
 *   cannot read stops Fluent Bit from starting (thrown here).
 * - upload(): s3_put_object's +1, the file rewritten in place (fopen "w+": the same inode).
 * - stop(): a graceful stop, where flb_fstore_destroy deletes the `sequence` stream folder
 *   (fluent/fluent-bit#11987). kill(): nothing on disk changes.
 */
export class FluentBitNode {
  /** The node's `/`. */
  readonly root: string;
  private readonly base: string;
  private readonly tools: string;
  private index: number | undefined;

  constructor(private readonly setup: NodeSetup) {
    this.base = mkdtempSync(join(tmpdir(), 'fluent-bit-node-'));
    this.root = join(this.base, 'node');
    this.tools = join(this.base, 'tools');
    mkdirSync(this.root);
    mkdirSync(this.tools);
    for (const applet of setup.applets) symlinkSync(hostCommand(applet), join(this.tools, applet));
  }

  /** The counter's file, on this node. */
  get counterFile(): string {
    return join(this.root, this.setup.storeDir, this.setup.bucket, 'sequence/index_metadata/seq_index_0');
  }

  /** Starts Fluent Bit at `nowS` (seconds since the epoch); throws where it would not start. */
  start(nowS: number): void {
    if (this.index !== undefined) throw new Error('Fluent Bit is already running on this node');
    const [first, script, ...fluentBit] = this.setup.command;
    if (first !== FLUENT_BIT_BINARY) {
      if (
        first !== `${this.setup.toolsMount}/sh` ||
        script === undefined ||
        !script.startsWith(`${this.setup.configMount}/`) ||
        fluentBit[0] !== FLUENT_BIT_BINARY
      ) {
        throw new Error(
          `the container's command is not a script run by the installed sh, then Fluent Bit: ${JSON.stringify(this.setup.command)}`,
        );
      }
      const started = 'fluent-bit started';
      const result = spawnSync(
        join(this.tools, 'sh'),
        [
          resolve(FLUENT_BIT_DIR, script.slice(this.setup.configMount.length + 1)),
          process.execPath,
          '-e',
          `process.stdout.write(${JSON.stringify(started)})`,
        ],
        {
          env: { PATH: this.tools, S3_BUCKET: this.setup.bucket, SEED_INDEX_ROOT: this.root, NOW_S: String(nowS) },
          encoding: 'utf8',
        },
      );
      if (result.status !== 0 || result.stdout !== started)
        throw new Error(
          `${script} did not start Fluent Bit (exit ${result.status}): ${result.stderr}${result.error?.message ?? ''}`,
        );
    }
    const file = this.counterFile;
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, '0');
      this.index = 0;
      return;
    }
    const text = readFileSync(file, 'utf8');
    const m = /^\s*\+?(\d+)/.exec(text);
    if (!m)
      throw new Error(
        `Fluent Bit does not start: ${file} holds ${JSON.stringify(text)} (Failed to read from sequential index metadata file)`,
      );
    this.index = Number(m[1]);
  }

  /** One PutObject: the index its key gets. */
  upload(): number {
    if (this.index === undefined) throw new Error('Fluent Bit is not running on this node');
    this.index++;
    writeFileSync(this.counterFile, String(this.index));
    return this.index;
  }

  /** SIGTERM (a rollout, a drain, a failed liveness probe). */
  stop(): void {
    this.running();
    rmSync(join(this.root, this.setup.storeDir, this.setup.bucket, 'sequence'), { recursive: true, force: true });
    this.index = undefined;
  }

  /** SIGKILL, an OOM kill, a node crash. */
  kill(): void {
    this.running();
    this.index = undefined;
  }

  /** Every file on this node that is the counter's file under another name (a hard link). */
  namesOfCounter(): string[] {
    const { ino, dev } = statSync(this.counterFile);
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        if (e.isDirectory()) walk(path);
        else if (e.isFile() && statSync(path).ino === ino && statSync(path).dev === dev)
          found.push(`/${relative(this.root, path)}`);
      }
    };
    walk(this.root);
    return found.sort();
  }

  remove(): void {
    rmSync(this.base, { recursive: true, force: true });
  }

  private running(): void {
    if (this.index === undefined) throw new Error('Fluent Bit is not running on this node');
  }
}

/** The host's executable named `name` (on PATH), standing for the busybox applet of that name. */
function hostCommand(name: string): string {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory
    }
  }
  throw new Error(`no ${name} on PATH to stand for busybox's`);
}

/**
 * What Fluent Bit's regex parser makes of a runtime line (src/flb_parser_regex.c and
 * flb_parser_time_lookup() in src/flb_parser.c, 3.2): the Regex's named groups, and the time
 * read from Time_Key with Time_Format. The format is cut at `%L`: the part before it must match
 * the start of the time, then at least one digit (the fraction), then the part after it. A time
 * the format does not match (Time_Strict, the default) is dropped from the record, which then
 * gets the time the line was read; with Time_Keep a matched time stays in the record as written.
 * `undefined` when the Regex does not match.
 */
export function runRegexParser(
  parser: ConfigSection,
  line: string,
): { record: Record<string, string>; timeRead: boolean } | undefined {
  const fields = new RegExp(entry(parser, 'Regex')).exec(line)?.groups;
  if (fields === undefined) return undefined;
  const timeKey = entry(parser, 'Time_Key');
  const time = fields[timeKey];
  const record: Record<string, string> = { ...fields };
  if (time === undefined) return { record, timeRead: false };
  const timeRead = timeFormatMatches(entry(parser, 'Time_Format'), time);
  if (!timeRead || !isOn(parser.entries.get('time_keep'))) delete record[timeKey];
  return { record, timeRead };
}

/** Whether flb_parser_time_lookup() reads `time` with `format` (the directives this repository's parsers use). */
export function timeFormatMatches(format: string, time: string): boolean {
  const directive: Record<string, string> = {
    Y: '\\d{4}',
    m: '\\d{1,2}',
    d: '\\d{1,2}',
    H: '\\d{1,2}',
    M: '\\d{1,2}',
    S: '\\d{1,2}',
    z: '(?:Z|UTC?|GMT|[+-]\\d{2}(?::?\\d{2})?)',
  };
  const pattern = (part: string): string =>
    part.replace(/%(.)|[.*+?^${}()|[\]\\]/g, (m: string, d: string | undefined) => {
      if (d === undefined) return `\\${m}`;
      const p = directive[d];
      if (p === undefined) throw new Error(`Time_Format directive %${d} is not modelled`);
      return p;
    });
  const [head, tail] = format.split('%L') as [string, string | undefined];
  const fraction = tail === undefined ? '' : `\\d+${pattern(tail)}`;
  // strptime reads from the start and may stop before the end.
  return new RegExp(`^${pattern(head)}${fraction}`).test(time);
}
