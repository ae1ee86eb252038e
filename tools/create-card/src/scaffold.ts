/**
 * Writes a new card package: the template files with the card's names, ATR and AID filled in, and a
 * package.json made here with the versions of the @minidriver packages this scaffolder was released
 * with. All or nothing: the files are written into a sibling directory that is renamed into place.
 *
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CardProfile, UsageError } from './card-options.js';
import { cardPackageJson } from './package-json.js';

/** Where the template files are: `template/` beside `src/` (sources) or `dist/` (published). */
export function templateDirectory(): string {
  return fileURLToPath(new URL('../template/', import.meta.url));
}

/** Template files stored under another name (npm pack drops `.gitignore`; dot-folders are easy to miss). */
const RENAMES: Readonly<Record<string, string>> = { _gitignore: '.gitignore', _changeset: '.changeset' };

/** What was written. */
export interface ScaffoldResult {
  readonly directory: string;
  /** Relative paths of the files written, sorted. */
  readonly files: readonly string[];
}

/** The template's text with every `__TOKEN__` of the profile replaced. */
export function fillTemplate(text: string, profile: CardProfile): string {
  const tokens: Readonly<Record<string, string>> = {
    __CARD_NAME__: profile.name,
    __PACKAGE_NAME__: profile.packageName,
    __SIMULATOR_NAME__: profile.simulatorName,
    __CARD_ATR__: profile.atr,
    __CARD_AID__: profile.aid,
  };
  return text.replace(/__[A-Z_]+__/g, (token) => tokens[token] ?? token);
}

async function listTemplate(directory: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(relative(directory, path));
    }
  };
  await walk(directory);
  return files.sort();
}

function targetPath(templatePath: string): string {
  return templatePath
    .split(/[\\/]/)
    .map((part) => RENAMES[part] ?? part)
    .join('/');
}

/** Refuses a target that exists and is not an empty directory. */
async function checkTarget(directory: string): Promise<boolean> {
  if (!existsSync(directory)) return false;
  const info = await stat(directory);
  if (!info.isDirectory()) throw new UsageError(`${directory} exists and is not a directory`);
  if ((await readdir(directory)).length > 0) {
    throw new UsageError(`${directory} is not empty: choose a new directory (nothing was written)`);
  }
  return true;
}

/** Writes the card package described by `profile` into `profile.directory`. */
export async function scaffoldCard(profile: CardProfile): Promise<ScaffoldResult> {
  const directory = resolve(profile.directory);
  const existedEmpty = await checkTarget(directory);
  const template = templateDirectory();
  const staging = join(dirname(directory), `.${basename(directory)}.create-minidriver-card-${process.pid}`);
  await mkdir(dirname(directory), { recursive: true });
  const written: string[] = [];
  try {
    await mkdir(staging);
    for (const file of await listTemplate(template)) {
      const target = targetPath(file);
      const text = fillTemplate(await readFile(join(template, file), 'utf8'), profile);
      await mkdir(dirname(join(staging, target)), { recursive: true });
      await writeFile(join(staging, target), text);
      written.push(target);
    }
    await writeFile(join(staging, 'package.json'), `${JSON.stringify(cardPackageJson(profile), null, 2)}\n`);
    written.push('package.json');
    if (existedEmpty) await rmdir(directory);
    await rename(staging, directory);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return { directory, files: written.sort() };
}
