/** Changes to stored Custom Speech entities that the services share. */

import { Errors } from '../errors.js';
import { VersionConflictError, type SpeechEntityRepository } from '../ports/repositories.js';
import type { SpeechEntity, SpeechEntityKind } from './entities.js';

/**
 * Applies `fn` to the stored entity and saves the result with optimistic concurrency, reading again
 * after a conflicting write (10 attempts, then 409). Undefined when the entity is gone or `fn` declines.
 */
export async function updateEntity<K extends SpeechEntityKind, E extends Extract<SpeechEntity, { kind: K }>>(
  repo: SpeechEntityRepository,
  accountId: string,
  kind: K,
  id: string,
  fn: (current: E) => E | undefined,
): Promise<E | undefined> {
  for (let attempt = 0; ; attempt++) {
    const found = await repo.get(accountId, kind, id);
    if (!found) return undefined;
    const next = fn(found.value as E);
    if (!next) return undefined;
    try {
      await repo.update(next, found.version);
      return next;
    } catch (err) {
      if (!(err instanceof VersionConflictError)) throw err;
      if (attempt >= 9) throw Errors.conflict(err.message);
    }
  }
}

/** The entity without its link to a deleted project (which it outlives, as in Azure); undefined when it is not in that project. */
export function withoutProject<T extends { projectId?: string }>(entity: T, projectId: string): T | undefined {
  if (entity.projectId !== projectId) return undefined;
  const { projectId: _dropped, ...rest } = entity;
  return rest as T;
}

/** One of an entity's files by id (ids are lower-case), or 404 naming the entity. */
export function fileById<F extends { id: string }>(files: readonly F[], fileId: string, owner: string): F {
  const f = files.find((x) => x.id === fileId.toLowerCase());
  if (!f) throw Errors.notFound(`File ${fileId} of ${owner} was not found.`);
  return f;
}

/** 400 InvalidProject unless the account has that project (entities name their project on creation). */
export async function assertProjectExists(repo: SpeechEntityRepository, accountId: string, projectId: string): Promise<void> {
  if (!(await repo.get(accountId, 'project', projectId))) {
    throw Errors.invalidArgument(`The project ${projectId} does not exist.`, { innerCode: 'InvalidProject' });
  }
}
