// The docs stay true to the repository, offline (no S3 server): every relative link of
// README.md, k8s/README.md and docs/*.md resolves to a file and, with an #anchor, to one of its headings;
// every `docs/design.md §N` that the code cites names a heading of docs/design.md; the
// synopses and flag tables of docs/compactor.md and docs/log-reader.md list exactly the
// flags of the built CLIs' own --help; every repository path they name exists; README.md stays short.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const README_MAX_LINES = 250;
const MARKDOWN = [
  'README.md',
  'k8s/README.md',
  ...readdirSync(resolve(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

const read = (file: string): string => readFileSync(resolve(ROOT, file), 'utf8');

/** Markdown without its fenced code blocks (their text is not markdown): blank lines instead, to keep line numbers. */
function withoutFences(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (block) => block.replace(/[^\n]/g, ''));
}

/**
 * GitHub's anchor for a heading: lower case, punctuation dropped (letters, digits, `-`, `_` and spaces kept), spaces as
 * `-`.
 */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]*>/g, '')
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a markdown file's headings, with GitHub's `-1`, `-2` suffixes for repeats. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of withoutFences(text).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const base = slug(m[1] as string);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

interface Link {
  readonly file: string;
  readonly line: number;
  readonly target: string;
}

/** The links and images of a markdown file (inline code and code blocks left out). */
function links(file: string): Link[] {
  const text = withoutFences(read(file)).replace(/`[^`\n]*`/g, (code) => ' '.repeat(code.length));
  return [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => ({
    file,
    line: text.slice(0, m.index).split('\n').length,
    target: m[1] as string,
  }));
}

/** What is wrong with a link, or undefined when it resolves. External links are not followed. */
function brokenLink(link: Link): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) return undefined;
  const [path = '', anchor] = link.target.split('#', 2);
  const file = path === '' ? resolve(ROOT, link.file) : resolve(ROOT, dirname(link.file), decodeURIComponent(path));
  const where = `${link.file}:${link.line} → ${link.target}`;
  if (!file.startsWith(ROOT) || !existsSync(file)) return `${where}: no such file`;
  if (anchor === undefined) return undefined;
  if (statSync(file).isDirectory() || !file.endsWith('.md'))
    return `${where}: an anchor into a file that is not markdown`;
  if (!anchors(readFileSync(file, 'utf8')).has(decodeURIComponent(anchor)))
    return `${where}: no heading #${anchor} in ${relative(ROOT, file)}`;
  return undefined;
}

/** Every .ts file under a directory of the repository (build output and dependencies left out). */
function sources(dir: string): string[] {
  return readdirSync(resolve(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !/(^|\/)(node_modules|dist)\//.test(f))
    .map((f) => join(dir, f));
}
const CODE = [...sources('packages'), ...sources('test')];

/** Between a cited name and its `§N`: spaces, or a line break and the comment's `//` or `*`. */
const GAP = String.raw`(?:\s|\/\/|\*)*`;

/** The sections each `docs/design.md §N` citation of a file names (`§4/§5` and `§1, §6` name two each). */
function designCitations(file: string): { line: number; section: string }[] {
  const text = read(file);
  const found: { line: number; section: string }[] = [];
  const citation = new RegExp(String.raw`docs\/design\.md${GAP}(§\d+(?:\.\d+)*(?:\s*[,/]\s*§\d+(?:\.\d+)*)*)`, 'g');
  for (const m of text.matchAll(citation)) {
    const line = text.slice(0, m.index).split('\n').length;
    for (const s of (m[1] as string).matchAll(/§(\d+(?:\.\d+)*)/g)) found.push({ line, section: s[1] as string });
  }
  return found;
}

/** The section numbers docs/design.md has headings for (`## §5 One pass …` gives 5, `### §5.1 …` 5.1). */
function designSections(): Set<string> {
  return new Set(
    [...withoutFences(read('docs/design.md')).matchAll(/^#{2,6}[ \t]+§(\d+(?:\.\d+)*)[ \t]/gm)].map(
      (m) => m[1] as string,
    ),
  );
}

// --- flags -------------------------------------------------------------------------------

const BINS = {
  compactor: resolve(ROOT, 'packages/compactor/bin/compactor.js'),
  'log-reader': resolve(ROOT, 'packages/log-reader/bin/log-reader.js'),
} as const;

/** A command's --help from the built bin (`npx tsc -b` first), as a user sees it. */
function help(bin: keyof typeof BINS, command: string): string {
  return execFileSync(process.execPath, [BINS[bin], command, '--help'], { encoding: 'utf8' });
}

/** The flags (short and long) of commander's Options section; --help itself left out. */
function helpFlags(text: string): Set<string> {
  const flags = new Set<string>();
  for (const m of text.matchAll(/^ {2}((?:-[A-Za-z], )?--[a-z0-9][a-z0-9-]*)/gm)) {
    for (const f of (m[1] as string).split(', ')) flags.add(f);
  }
  flags.delete('--help');
  flags.delete('-h');
  return flags;
}

/** Every flag written in a piece of text: `--name` or `-x`, not inside a word. */
function flagsIn(text: string): Set<string> {
  return new Set([...text.matchAll(/(?<![\w-])(--[a-z0-9][a-z0-9-]*|-[A-Za-z])(?![\w-])/g)].map((m) => m[1] as string));
}

interface CommandDoc {
  /** The flags of the first code block of the command's section. */
  readonly synopsis: Set<string>;
  /** The flags of the first cells of its first table. */
  readonly table: Set<string>;
}

/** The section of a markdown text under the heading `## \`{command}\``: its synopsis and its flag table. */
function commandDoc(markdown: string, command: string): CommandDoc {
  const heading = new RegExp(String.raw`^##[ \t]+\`${command}\`[ \t]*$`, 'm');
  const start = markdown.search(heading);
  if (start < 0) throw new Error(`no heading "## \`${command}\`"`);
  const after = markdown.slice(start).split('\n').slice(1).join('\n');
  const end = after.search(/^##[ \t]/m);
  const section = end < 0 ? after : after.slice(0, end);
  const fence = /^```[^\n]*\n([\s\S]*?)^```/m.exec(section);
  if (!fence) throw new Error(`no synopsis (a code block) under "## \`${command}\`"`);
  const rows = section.slice(fence.index + fence[0].length).split('\n');
  const first = rows.findIndex((l) => l.startsWith('|'));
  const tableRows: string[] = [];
  for (const row of first < 0 ? [] : rows.slice(first)) {
    if (!row.startsWith('|')) break;
    tableRows.push(row);
  }
  const firstCells = tableRows.slice(2).map((row) => row.split(/(?<!\\)\|/)[1] ?? '');
  return { synopsis: flagsIn(fence[1] as string), table: flagsIn(firstCells.join('\n')) };
}

/** What differs between a command's flags and what its doc lists, as readable lines (none when they agree). */
function flagMismatches(command: string, cli: Set<string>, doc: CommandDoc): string[] {
  const out: string[] = [];
  for (const [where, listed] of [
    ['synopsis', doc.synopsis],
    ['flag table', doc.table],
  ] as const) {
    for (const f of cli) if (!listed.has(f)) out.push(`${command}: ${f} is missing from the ${where}`);
    for (const f of listed)
      if (!cli.has(f)) out.push(`${command}: the ${where} lists ${f}, which --help does not have`);
  }
  return out;
}

const COMMANDS = [
  { bin: 'compactor', command: 'run', doc: 'docs/compactor.md' },
  { bin: 'compactor', command: 'inspect', doc: 'docs/compactor.md' },
  { bin: 'log-reader', command: 'logs', doc: 'docs/log-reader.md' },
] as const;

describe('the docs', () => {
  it(`keep README.md within ${README_MAX_LINES} lines`, () => {
    const lines = read('README.md').split('\n').length - 1;
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it('resolve every relative link of README.md, k8s/README.md and docs/*.md: the file exists and an #anchor names a heading', () => {
    const all = MARKDOWN.flatMap(links);
    expect(all.length).toBeGreaterThan(20);
    expect(all.map(brokenLink).filter(Boolean)).toEqual([]);
  });

  it('name only repository paths that exist (a file moved or renamed leaves no stale path in the docs)', () => {
    const named = MARKDOWN.flatMap((file) =>
      [...read(file).matchAll(/`((?:packages|test|scripts|k8s|bench|docs)\/[^`\s]+)`/g)]
        .map((m) => (m[1] ?? '').replace(/[#:].*$/, ''))
        .filter((path) => !/[*{}<>$]/.test(path))
        .map((path) => ({ file, path })),
    );
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter(({ path }) => !existsSync(resolve(ROOT, path)))).toEqual([]);
  });

  it('resolve every docs/design.md §N that the code cites to a heading of docs/design.md', () => {
    const sections = designSections();
    expect([...sections].sort()).toEqual(expect.arrayContaining(['1', '2', '3', '4', '5', '6', '7', '8']));
    const citations = CODE.flatMap((file) => designCitations(file).map((c) => ({ ...c, file })));
    expect(citations.length).toBeGreaterThan(20);
    const unresolved = citations
      .filter((c) => !sections.has(c.section))
      .map((c) => `${c.file}:${c.line} cites §${c.section}`);
    expect(unresolved).toEqual([]);
  });

  it('leave no citation of the contract by its old name, a document outside the repository', () => {
    const bare = new RegExp(String.raw`\bDESIGN(?:\.md)?${GAP}§`);
    const stale = CODE.filter((file) => bare.test(read(file)));
    expect(stale).toEqual([]);
  });

  it.each(COMMANDS)(
    'list in $doc exactly the flags of `$bin $command --help`, in its synopsis and in its flag table',
    ({ bin, command, doc }) => {
      const cli = helpFlags(help(bin, command));
      expect(cli.size).toBeGreaterThan(5);
      expect(flagMismatches(`${bin} ${command}`, cli, commandDoc(read(doc), `${bin} ${command}`))).toEqual([]);
    },
  );

  it('would catch a flag missing from a synopsis, or one the CLI does not have', () => {
    const cli = helpFlags(help('compactor', 'run'));
    const text = read('docs/compactor.md');
    const withoutShard = text.replace(/ \[--shard I\/N\]/, '');
    expect(withoutShard).not.toEqual(text);
    expect(flagMismatches('compactor run', cli, commandDoc(withoutShard, 'compactor run'))).toEqual([
      'compactor run: --shard is missing from the synopsis',
    ]);
    const withExtra = text.replace('[--dry-run]', '[--dry-run] [--no-such-flag]');
    expect(flagMismatches('compactor run', cli, commandDoc(withExtra, 'compactor run'))).toEqual([
      'compactor run: the synopsis lists --no-such-flag, which --help does not have',
    ]);
  });
});
