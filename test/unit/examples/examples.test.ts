/**
 * The scheduling examples (examples/) are parsed and checked for what their runner needs: the
 * Kubernetes Indexed Job takes its shard from JOB_COMPLETION_INDEX and a merge step follows; the
 * CI schedules shard by their own index variables and merge after; systemd verifies the units.
 * Every portmatrix option they use must exist on that command.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { createProgram } from '../../../src/cli/program.js';
import { itNeeding } from '../../helpers/requirements.js';

const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../examples');
const read = (file: string): string => readFileSync(path.join(examples, file), 'utf8');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** "portmatrix audit ... --shard x --output y" commands in a text, with their options. */
function portmatrixCommands(text: string): { command: string; options: string[] }[] {
  return [...text.matchAll(/portmatrix (\w+)([^\n|]*)/g)].map((match) => ({ command: match[1]!, options: [...match[2]!.matchAll(/(--[a-z-]+)/g)].map((option) => option[1]!) }));
}

describe('examples', () => {
  it('use only options that the portmatrix commands have', async () => {
    const program = await createProgram(['node', 'portmatrix', '--help']);
    const texts = ['kubernetes/fleet-audit.yaml', 'systemd/portmatrix-audit.service', 'ci/github-actions.yml', 'ci/gitlab-ci.yml'].map(read);
    const used = texts.flatMap(portmatrixCommands);
    expect(used.map((entry) => entry.command)).toEqual(expect.arrayContaining(['audit', 'merge']));
    for (const { command, options } of used) {
      const known = program.commands.find((candidate) => candidate.name() === command);
      expect(known, command).toBeDefined();
      const flags = known!.options.map((option) => option.long);
      for (const option of options) expect(flags, `${command} ${option}`).toContain(option);
    }
  });

  it('Kubernetes: an Indexed Job whose pods take their shard from JOB_COMPLETION_INDEX, then a merge of every shard on the same volume', () => {
    const docs = parseAllDocuments(read('kubernetes/fleet-audit.yaml')).map((doc) => doc.toJS() as Json);
    const cronJobs = docs.filter((doc) => doc.kind === 'CronJob');
    const audit = cronJobs.find((job) => JSON.stringify(job).includes('portmatrix audit'))!;
    const merge = cronJobs.find((job) => JSON.stringify(job).includes('portmatrix merge'))!;
    const spec = audit.spec.jobTemplate.spec;
    expect(spec.completionMode).toBe('Indexed');
    expect(spec.parallelism).toBe(spec.completions);
    const script = spec.template.spec.containers[0].args.join('\n') as string;
    expect(script).toContain(`--shard "$((JOB_COMPLETION_INDEX + 1))/${spec.completions}"`);
    expect(script).toContain('--output "$run/shard-$JOB_COMPLETION_INDEX"');
    expect(merge.spec.jobTemplate.spec.template.spec.containers[0].args.join('\n')).toContain('portmatrix merge "$run"/shard-*/audit.json');
    // The merge runs later the same day, on the volume the shards wrote to.
    const hour = (job: Json) => Number((job.spec.schedule as string).split(' ')[1]);
    expect(hour(merge)).toBeGreaterThan(hour(audit));
    const claim = (job: Json) => job.spec.jobTemplate.spec.template.spec.volumes.find((volume: Json) => volume.persistentVolumeClaim).persistentVolumeClaim.claimName;
    expect(claim(merge)).toBe(claim(audit));
    expect(docs.some((doc) => doc.kind === 'PersistentVolumeClaim' && doc.metadata.name === claim(audit) && doc.spec.accessModes.includes('ReadWriteMany'))).toBe(true);
  });

  it('GitHub Actions and GitLab CI: scheduled, one job per shard from the runner\'s own index, a merge job after them', () => {
    const github = parse(read('ci/github-actions.yml')) as Json;
    expect(github.on.schedule[0].cron).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
    const shards = github.jobs.audit.strategy.matrix.shard as number[];
    expect(shards).toEqual(Array.from({ length: shards.length }, (_, index) => index + 1));
    expect(JSON.stringify(github.jobs.audit.steps)).toContain(`--shard \${{ matrix.shard }}/${shards.length}`);
    expect(github.jobs.merge.needs).toBe('audit');
    const gitlab = parse(read('ci/gitlab-ci.yml')) as Json;
    const job = gitlab['port-audit'];
    expect(job.parallel).toBeGreaterThan(1);
    expect(job.script.join('\n')).toContain('--shard $CI_NODE_INDEX/$CI_NODE_TOTAL');
    expect(job.rules[0].if).toBe('$CI_PIPELINE_SOURCE == "schedule"');
    const mergeJob = gitlab['port-audit-merge'];
    expect(gitlab.stages.indexOf(mergeJob.stage)).toBeGreaterThan(gitlab.stages.indexOf(job.stage));
    expect(mergeJob.needs).toEqual(['port-audit']);
    expect(mergeJob.artifacts.reports.junit).toBe('merged/audit.junit.xml');
  });

  itNeeding('systemd: the service and timer verify cleanly, and the timer starts the service', { tools: ['systemd-analyze'] }, () => {
    const units = ['portmatrix-audit.service', 'portmatrix-audit.timer'].map((unit) => path.join(examples, 'systemd', unit));
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', ...units], { encoding: 'utf8' });
    expect(verify.stderr.trim()).toBe('');
    expect(verify.status).toBe(0);
    expect(read('systemd/portmatrix-audit.timer')).toMatch(/^Unit=portmatrix-audit\.service$/m);
    expect(read('systemd/portmatrix-audit.service')).toMatch(/^SuccessExitStatus=1$/m);
  });
});
